"""The context uses its budget: 90-105% of ``--max-tokens`` whenever more would fit.

Real programs fail under ``python -m agentlog``; ``python -m agentlog context --max-tokens N
--format F`` is counted with o200k_base (the reference, when ``bpe_openai`` is installed in
the test environment, as ``./run test`` does) or else with AgentLog's own estimate.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import child_env, run_python
from test_provenance_e2e import DEEP, PRICES, TESTS

BUDGETS = (300, 400, 800, 1500)
FORMATS = ("text", "markdown", "claude")

# A failure with a lot to say: deep frames with many locals, a long and varied call trail.
BIG = '''\
import json


class Order:
    def __init__(self, number, lines):
        self.number = number
        self.lines = lines
        self.notes = [f"note {i} for order {number}" for i in range(12)]
        self.status = "open"


def price_of(sku, catalogue):
    return catalogue.get(sku, {}).get("price", 0) * 1.2


def line_total(line, catalogue):
    quantity = line["qty"]
    unit = price_of(line["sku"], catalogue)
    return quantity * unit


def order_total(order, catalogue):
    totals = [line_total(line, catalogue) for line in order.lines]
    shipping = 4.95 if sum(totals) < 50 else 0
    summary = {"order": order.number, "totals": totals, "shipping": shipping}
    return validate(summary, order)


def validate(summary, order):
    lowest = min(summary["totals"])
    highest = max(summary["totals"])
    report = json.dumps(summary)
    if lowest <= 0:
        raise ValueError(f"order {order.number} has a line priced at {lowest}: {report[:80]}")
    return highest


def run(orders, catalogue):
    results = {}
    for order in orders:
        results[order.number] = order_total(order, catalogue)
    return results


catalogue = {f"SKU-{i:03d}": {"price": i * 1.5, "name": f"item number {i}"} for i in range(1, 40)}
orders = [Order(n, [{"sku": f"SKU-{(n * 7 + k) % 45:03d}", "qty": k + 1} for k in range(6)]) for n in range(1, 9)]
print(run(orders, catalogue))
'''

CASES = {
    "big": (["big.py"], "big.py", BIG),
    "prices": (["prices.py"], "prices.py", PRICES),
    "deep": (["deep.py"], "deep.py", DEEP),
    "pytest": (["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cart.py"], "tests/test_cart.py", TESTS),
}


def _counter():
    try:
        import bpe_openai
    except ImportError:
        from agentlog.context.tokencount import count_tokens

        return count_tokens
    encoding = bpe_openai.get_encoding("o200k_base")
    return lambda text: len(encoding.encode(text))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> dict[str, Path]:
    """Each case run once under AgentLog: case name -> its working directory."""
    out = {}
    for name, (args, path, source) in CASES.items():
        work = tmp_path_factory.mktemp(name)
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(source)
        run_python(["-m", "agentlog", *args], work, child_env(work / "data"))
        out[name] = work
    return out


def _context(work: Path, budget: int, layout: str) -> str:
    done = run_python(["-m", "agentlog", "context", "--max-tokens", str(budget), "--format", layout],
                      work, child_env(work / "data"))
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("layout", FORMATS)
def test_budget_is_used_where_more_would_fit(recorded, layout):
    count = _counter()
    checked = 0
    for name, work in recorded.items():
        whole = count(_context(work, 100_000, layout))
        for budget in BUDGETS:
            text = _context(work, budget, layout)
            used = count(text)
            assert used <= 1.05 * budget, (name, layout, budget, used)
            if whole > budget:
                assert used >= 0.9 * budget, (name, layout, budget, used, text)
                checked += 1
            else:
                assert used == whole, (name, layout, budget)  # everything fits: nothing is cut
    assert checked >= 5  # the table holds failures bigger than its budgets


def test_the_requested_layout_is_kept_at_a_tiny_budget(recorded):
    """Where a layout's markup barely fits, the layout is cut, never swapped for plain text."""
    text = _context(recorded["big"], 30, "claude")
    assert text.startswith("<agentlog_context>")
