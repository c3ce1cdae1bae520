"""A requested context format never turns into another one, at any budget (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import child_env, run_python

from agentlog.context.builder import load
from agentlog.context.formats import render
from agentlog.context.tokencount import count_tokens

APP = """\
class Cart:
    def __init__(self):
        self.items = [("apple", 2, 0.5), ("pear", " 3", 0.75)]

    def total(self):
        subtotal = 0.0
        for name, qty, price in self.items:
            subtotal += qty * price
        return subtotal

Cart().total()
"""

# What opens each layout (text and codex differ in their first line: a header or a [part] tag).
OPENING = {
    "claude": "<agentlog_context>",
    "cursor": "# AgentLog context",
    "markdown": "# AgentLog context",
    "codex": "[failure]",
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[list, list, Path]:
    work = tmp_path_factory.mktemp("exact")
    (work / "cart.py").write_text(APP)
    data = work / ".agentlog"
    result = run_python(["-m", "agentlog", "cart.py"], work, child_env(data))
    assert result.returncode == 1 and "TypeError" in result.stderr
    failures, records = load(data)
    return failures, records, data


@pytest.mark.parametrize("fmt", sorted(OPENING))
def test_the_layout_holds_at_every_budget(recorded, fmt):
    """Budgets 100 to 1,000 in steps of 5: the requested layout each time, within the budget."""
    failures, records, data = recorded
    for budget in range(100, 1001, 5):
        text = render(failures, records, fmt, budget, data)
        assert text.startswith(OPENING[fmt]), (fmt, budget, text[:120])
        assert count_tokens(text) <= budget, (fmt, budget)
        assert "TypeError" in text, (fmt, budget)


def test_plain_text_stays_plain(recorded):
    failures, records, data = recorded
    for budget in range(100, 1001, 5):
        text = render(failures, records, "text", budget, data)
        assert not text.startswith(("<", "#", "[")) and count_tokens(text) <= budget, budget
