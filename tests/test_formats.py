"""Per-agent context formats: the builder's selection laid out for each agent, within budget."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from support import child_env, run_python

from agentlog.context.builder import Section, get_debug_context
from agentlog.context.formats import FORMATS, LAYOUTS, get_formatted_context
from agentlog.context.tokencount import count_tokens

APP = textwrap.dedent("""
    import sys
    import agentlog

    def price(row, rate):
        return row["qty"] * rate

    def total(rows, rate):
        subtotal = 0
        for row in rows:
            subtotal += price(row, rate)
        return subtotal

    with agentlog.start_session(agent="claude-code", task="fix totals"):
        agentlog.log_decision("use float rates", "rates come as text")
        rows = [{"qty": 2}, {"qty": 3}, {"qty": None}]
        total(rows[: int(sys.argv[1])], 1.5)
""")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A data dir with two real failures (the older a KeyError, the newest a TypeError) and a session."""
    work = tmp_path_factory.mktemp("formats")
    data_dir = work / "data"
    (work / "app.py").write_text(APP, encoding="utf-8")
    (work / "old.py").write_text("def lookup(d):\n    return d['missing']\nlookup({})\n", encoding="utf-8")
    for script, args in (("old.py", []), ("app.py", ["3"])):
        result = run_python(["-m", "agentlog", script, *args], work, child_env(data_dir))
        assert result.returncode == 1, result.stderr
    return data_dir


class TestWithinBudget:
    @pytest.mark.parametrize("format", FORMATS)
    @pytest.mark.parametrize("budget", [30, 80, 200, 500, 1500, 6000])
    def test_every_format_fits(self, store, format, budget):
        """Every format at every budget counts at most ``budget`` tokens."""
        text = get_formatted_context(format, budget, store)
        assert 0 < count_tokens(text) <= budget

    @pytest.mark.parametrize("format", [f for f in FORMATS if f != "json"])
    def test_headline_in_every_format(self, store, format):
        """The newest failure's exception and its decisive local lead every layout, even at 200 tokens."""
        text = get_formatted_context(format, 200, store)
        assert "TypeError: unsupported operand type(s) for *: 'NoneType' and 'float'" in text
        assert "row: dict[1] = {'qty': None}" in text


class TestSameContent:
    def test_text_is_the_builders_text(self, store):
        """``text`` is exactly what get_debug_context returns: one selection, not a second one."""
        for budget in (100, 700, 4000):
            assert get_formatted_context("text", budget, store) == get_debug_context(budget, data_dir=store)

    def test_json_is_the_record_view(self, store):
        """``json`` holds whole records, newest first."""
        data = json.loads(get_formatted_context("json", 4000, store))
        assert data["total"] == 2 and data["failures"][0]["exc"]["t"] == "TypeError"

    @pytest.mark.parametrize("format", ["markdown", "claude", "cursor", "codex"])
    def test_lines_come_from_the_text_layout(self, store, format):
        """At a generous budget every layout shows the text layout's frames, trail and session lines."""
        text = get_formatted_context("text", 6000, store)
        laid_out = get_formatted_context(format, 6000, store)
        for needle in ("FAILURE 1/2", "call trail before the failure", "agent=claude-code", "use float rates",
                       "KeyError: 'missing'"):
            assert needle in text and needle in laid_out, needle


class TestLayouts:
    def test_claude_tags_balanced(self, store):
        """Claude's layout is one <agentlog_context> with balanced part tags in document order."""
        text = get_formatted_context("claude", 6000, store)
        tags = re.findall(r"^<(/?)([a-z_]+)>$", text, flags=re.MULTILINE)
        opened = [name for close, name in tags if not close]
        assert opened == ["agentlog_context", "failure", "call_trail", "session", "older_failures"]
        assert [name for close, name in tags if close] == [*opened[1:], "agentlog_context"]

    def test_cursor_locations_are_path_line_links(self, store):
        """Cursor's layout names each frame as `path:line` outside code fences."""
        text = get_formatted_context("cursor", 6000, store)
        links = re.findall(r"^- `([^`]+\.py):(\d+)` in `([^`]+)`", text, flags=re.MULTILINE)
        assert ("price" in [f for _, _, f in links]) and all(Path(p).name in ("app.py", "old.py") for p, _, _ in links)
        assert text.count("```") % 2 == 0

    def test_markdown_fences_balanced(self, store):
        """Markdown has a heading per part and balanced fences."""
        text = get_formatted_context("markdown", 6000, store)
        assert re.findall(r"^## (.+)$", text, flags=re.MULTILINE) == [
            "Newest failure", "Call trail", "Session", "Older failures"]
        assert text.count("```") % 2 == 0

    def test_codex_is_terse(self, store):
        """Codex's layout keeps the failing source line, drops the lines around it, and is shorter than text."""
        text = get_formatted_context("text", 6000, store)
        codex = get_formatted_context("codex", 6000, store)
        failing = '|     return row["qty"] * rate'
        around = re.compile(r"^ +\d+\| def price", flags=re.MULTILINE)
        assert failing in codex and failing in text and around.search(text)
        assert not around.search(codex) and count_tokens(codex) < count_tokens(text)

    def test_budget_note_kept(self, store):
        """What the budget left out is said in every layout."""
        for format in LAYOUTS:
            assert "left out to fit the budget" in get_formatted_context(format, 300, store), format

    def test_layouts_take_sections(self):
        """A layout arranges the sections it is given and adds nothing but markup."""
        sections = [Section("failure", "", ["ValueError: x"]), Section("note", "", ["(left out: y)"])]
        assert LAYOUTS["claude"](sections) == (
            "<agentlog_context>\n<failure>\nValueError: x\n</failure>\n<budget_note>\n(left out: y)\n"
            "</budget_note>\n</agentlog_context>\n")


class TestSelection:
    def test_failure_id_selects_an_older_failure(self, store):
        """failure_id makes that failure the one the context is about."""
        old_id = json.loads(get_formatted_context("json", 6000, store))["failures"][1]["id"]
        text = get_formatted_context("text", 2000, store, failure_id=old_id)
        assert text.startswith(f"FAILURE 1/1 id={old_id}") and "TypeError" not in text

    def test_unknown_id_and_format(self, store):
        with pytest.raises(LookupError):
            get_formatted_context("text", 100, store, failure_id="nope")
        with pytest.raises(ValueError, match="unknown context format"):
            get_formatted_context("yaml", 100, store)

    def test_empty_store(self, tmp_path):
        for format in FORMATS:
            assert "failures" in get_formatted_context(format, 100, tmp_path).lower() or format == "json"


class TestCommand:
    @pytest.mark.parametrize("format", FORMATS)
    def test_context_format_flag(self, store, tmp_path, format):
        """``agentlog context --format F`` prints what get_formatted_context returns."""
        result = run_python(["-m", "agentlog", "context", "--format", format, "--max-tokens", "400"],
                            tmp_path, child_env(store))
        assert result.returncode == 0, result.stderr
        assert result.stdout.rstrip("\n") == get_formatted_context(format, 400, store).rstrip("\n")

    def test_public_api(self, store):
        import agentlog

        assert agentlog.get_formatted_context(format="claude", max_tokens=300, data_dir=store).startswith(
            "<agentlog_context>")
