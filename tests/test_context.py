"""Context building: token budgets, ranking, and the text an LLM reads."""

from __future__ import annotations

import threading

import pytest

from agentlog.capture.failure import build_failure
from agentlog.context.builder import build_sections
from agentlog.context.builder import fit_text as fit_sections
from agentlog.context.select import Block, Line
from agentlog.context.tokencount import count_tokens
from agentlog.context.values import local_line
from agentlog.core.config import Config


def _failure(exc_factory, config: Config) -> dict:
    try:
        exc_factory()
    except Exception as exc:  # noqa: BLE001 - any test exception becomes a record
        return build_failure(exc, "test", thread=threading.current_thread(), config=config)
    raise AssertionError("factory did not raise")


def _deep_crash():
    def level3(order_total, customer):
        raise ValueError(f"negative total {order_total}")

    def level2(items):
        subtotal = sum(items)
        return level3(subtotal - 100, {"name": "Ada", "tier": "gold"})

    def level1():
        batch = list(range(30))
        return level2(batch[:3])

    level1()


@pytest.fixture
def failures(tmp_path) -> list[dict]:
    config = Config(dir=str(tmp_path))
    older = _failure(lambda: {}["missing_key"], config)
    newest = _failure(_deep_crash, config)
    return [older, newest]


class TestBudget:
    @pytest.mark.parametrize("budget", [20, 40, 80, 150, 300, 600, 1500, 4000])
    def test_never_exceeds_budget(self, failures, budget):
        """The rendered context's token count never exceeds the budget."""
        text = fit_sections(build_sections(failures, []), budget)
        assert count_tokens(text) <= budget

    def test_headline_cut_rather_than_nothing(self, failures):
        """Below the size of the first line, a cut headline is printed, still within budget."""
        text = fit_sections(build_sections(failures, []), 6)
        assert text.startswith("Value") and text.rstrip().endswith("…") and count_tokens(text) <= 6

    def test_exception_survives_tiny_budget(self, failures):
        """With room for one line, that line is the newest exception."""
        text = fit_sections(build_sections(failures, []), 20)
        assert text == "ValueError: negative total -97\n"

    @pytest.mark.parametrize("budget", [150, 300, 600])
    def test_header_never_dropped(self, failures, budget):
        """From a budget that holds it, the failure's header and exception are always there."""
        text = fit_sections(build_sections(failures, []), budget)
        assert text.splitlines()[0].startswith("FAILURE 1/2") and "ValueError: negative total -97" in text

    def test_innermost_locals_before_outer_frames(self, failures):
        """A small budget keeps the innermost frame's locals and drops outer frames; the older failure
        comes next by rank, so the room left shows at most its headline, after the newest's locals."""
        text = fit_sections(build_sections(failures, []), 200)
        assert "order_total: int = -97" in text
        assert "batch:" not in text
        older = [line for line in text.splitlines() if "missing_key" in line]
        assert len(older) <= 1
        assert all(text.index(line) > text.index("order_total: int = -97") for line in older)

    def test_large_budget_has_everything_newest_first(self, failures):
        """With room, all user frames and the older failure appear, newest failure first."""
        text = fit_sections(build_sections(failures, []), 4000)
        for expected in ("order_total: int = -97", "subtotal: int = 3", "batch: list[30]"):
            assert expected in text
        assert text.index("ValueError") < text.index("KeyError")
        assert "FAILURE 2/2" in text

    def test_typical_crash_fits_1500_tokens(self, failures):
        """The newest failure alone, with all its frames, fits the 1,500-token target."""
        text = fit_sections(build_sections(failures[1:], []), 100_000)
        assert count_tokens(text) <= 1500


def _section(lines: list[str], rank_of=lambda i: i, title: bool = False) -> Block:
    """Lines ranked in order; with ``title``, line 0 is a title every other line needs."""
    return Block(0, [Line(t, rank_of(i), (0,) if title and i else (), alone=not title or i > 0)
                       for i, t in enumerate(lines)], "x")


class TestCutting:
    def test_document_order_not_rank_order(self):
        """Sections print in document order even when kept by rank."""
        text = fit_sections([Block(2, [Line("second", 0)]), Block(1, [Line("first", 5)])], 100)
        assert text == "first\nsecond\n"

    def test_no_failures(self):
        """An empty store says so."""
        assert fit_sections(build_sections([], []), 100) == "No failures recorded.\n"

    def test_title_never_alone(self):
        """A section whose lines do not fit prints nothing, not its title."""
        sections = [Block(0, [Line("exception line", 0)]),
                    Block(1, [Line("a title:", 1, alone=False), Line("x " * 200, 1, (0,))], "block")]
        text = fit_sections(sections, 60)
        assert "a title:" not in text and text.startswith("exception line")

    def test_marker_where_lines_were_left_out(self):
        """Left-out lines inside a section are counted at their own indentation."""
        lines = ["title:", "main()", "  old1()", "  old2()", "  new()"]
        ranks = {0: 5, 1: 0, 2: 9, 3: 9, 4: 1}
        text = fit_sections([_section(lines, ranks.get, title=True)], 17)
        assert text.splitlines() == ["title:", "main()", "  … 2 more lines", "  new()"]

class TestValueText:
    def test_truncation_visible(self):
        """A cut string shows its full length and how much was cut."""
        line = local_line("blob", {"t": "str", "l": 20_000_000, "v": "'aaaa'", "x": 19_999_996})
        assert line == "blob: str[20000000] = 'aaaa'… (+19999996 chars)"

    def test_redacted_and_notes(self):
        """Redaction markers and notes are shown as they are."""
        assert local_line("password", {"t": "str", "v": "[REDACTED:name]", "red": "name"}) == (
            "password: str = [REDACTED:name]"
        )
        assert "(repr raised KeyError: 'x')" in local_line("obj", {"t": "m.C", "note": "repr raised KeyError: 'x'"})

    def test_overflow_entry(self):
        """describe_locals' overflow entry renders as a count."""
        assert local_line("...", {"more": 12}) == "… 12 more locals"


class TestShrinking:
    def test_silent_lines_go_first_without_marker(self, failures):
        """Source around the failing line is dropped before the frame's locals, with no marker."""
        text = fit_sections(build_sections(failures[1:], []), 200)
        assert "order_total: int = -97" in text and "raise ValueError" in text
        assert "more line" not in text.split("locals:")[0]

    def test_older_failure_summary_before_outer_frames(self, failures):
        """At a moderate budget the older failure appears as one summary line, not dropped."""
        text = fit_sections(build_sections(failures, []), 350)
        summary = [line for line in text.splitlines() if line.startswith("FAILURE 2/2")]
        assert len(summary) == 1 and "KeyError: 'missing_key'" in summary[0]


    def test_says_what_was_left_out(self, failures):
        """When the budget drops chunks, a last line names them, within the budget."""
        text = fit_sections(build_sections(failures, []), 200)
        last = text.splitlines()[-1]
        assert last.startswith("(left out to fit the budget: ") and "frames" in last
        assert count_tokens(text) <= 200
        assert "left out" not in fit_sections(build_sections(failures, []), 100_000)


class TestMalformedRecords:
    def test_bad_records_skipped_not_fatal(self, tmp_path):
        """Records with wrong types (hand-edited, another version) are skipped by every reader."""
        from support import child_env, run_python

        data = tmp_path / "data"
        data.mkdir()
        good = '{"sv":1,"k":"failure","ts":1.0,"id":"a1","exc":{"t":"KeyError","m":"x","frames":[]}}'
        bad = [
            '{"sv":"1","k":"failure"}',
            '{"sv":null,"k":"failure"}',
            '{"sv":1,"k":"failure","ts":"abc","exc":"x","frames":5}',
            '{"sv":1,"k":"failure","ts":2.0,"exc":{"t":"E","frames":5}}',
            '{"sv":1,"k":"failure","ts":3.0,"exc":{"t":"E","frames":[{"u":1,"src":7}]}}',
            '{"sv":1,"k":7}',
        ]
        (data / "records.jsonl").write_text("\n".join([good, *bad]) + "\n")
        env = child_env(data)
        for command in (["context"], ["list"], ["sessions"], ["tokens"], ["perf"], ["profile"]):
            result = run_python(["-m", "agentlog", *command], tmp_path, env)
            assert result.returncode == 0, (command, result.stderr)
            assert "Traceback" not in result.stderr
        assert "KeyError: x" in run_python(["-m", "agentlog", "list"], tmp_path, env).stdout


class TestJsonFormat:
    @pytest.mark.parametrize("budget", [400, 600])
    def test_small_budget_keeps_innermost_frame(self, failures, tmp_path, budget):
        """Below the size of a whole record, JSON keeps the innermost user frame's location and locals."""
        import json

        from agentlog.context.builder import _json_context

        text = _json_context(failures, budget)
        assert count_tokens(text) <= budget
        [newest] = json.loads(text)["failures"]
        frame = newest["exc"]["frames"][0]
        assert frame["f"].endswith("level3") and frame["ln"] > 0
        assert frame["loc"]["order_total"]["v"] == "-97"


def test_git_state_reused_between_failures(tmp_path, monkeypatch):
    """Failures within git.REUSE_S of each other share one git capture (a crash loop spawns git once)."""
    from agentlog.work import git

    calls = []
    monkeypatch.setattr(git, "capture_git_state", lambda cwd, timeout_s: calls.append(timeout_s) or {"branch": "b"})
    monkeypatch.setattr(git, "_recent", {})
    config = Config(dir=str(tmp_path))
    records = [_failure(lambda: 1 / 0, config) for _ in range(3)]
    assert len(calls) == 1 and all(r["git"] == {"branch": "b"} for r in records)


def test_cut_trail_keeps_failing_path_and_its_children():
    """A cut trail keeps the failing path and the children of its calls, deeper and older calls go first."""
    from agentlog.context.trailcut import trail_section_lines

    deep = [f"    helper{i}() -> {i}" for i in range(40)]
    lines = ["main() [m.py:1], raised KeyError at line 9", "  setup() -> None", *deep,
             "  load() -> None", "  parse(), raised KeyError at line 3"]
    section = Block(0, trail_section_lines("call trail:", lines, (1, 2, 3, 4)), "call trail")
    text = fit_sections([section], 80)
    out = text.splitlines()
    assert out[:3] == ["call trail:", "main() [m.py:1], raised KeyError at line 9", "  setup() -> None"]
    assert out[-2:] == ["  load() -> None", "  parse(), raised KeyError at line 3"]
    shown = [line for line in out if line.startswith("    helper")]
    assert out[3] == f"    … {40 - len(shown)} more lines" and len(shown) < 5
    assert count_tokens(text) <= 80
