"""Context building: token budgets, ranking, and the text an LLM reads."""

from __future__ import annotations

import threading

import pytest

from agentlog.capture.failure import build_failure
from agentlog.config import Config
from agentlog.context import Chunk, build_chunks, fit_chunks
from agentlog.tokencount import count_tokens
from agentlog.valuetext import local_line


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
        text = fit_chunks(build_chunks(failures, []), budget)
        assert count_tokens(text) <= budget

    def test_exception_survives_tiny_budget(self, failures):
        """With room for one line, that line is the newest exception."""
        text = fit_chunks(build_chunks(failures, []), 20)
        assert text.startswith("ValueError: negative total -97")

    def test_innermost_locals_before_outer_frames(self, failures):
        """A small budget keeps the innermost frame's locals and drops outer frames and old failures."""
        text = fit_chunks(build_chunks(failures, []), 150)
        assert "order_total: int = -97" in text
        assert "batch:" not in text
        assert "missing_key" not in text

    def test_large_budget_has_everything_newest_first(self, failures):
        """With room, all user frames and the older failure appear, newest failure first."""
        text = fit_chunks(build_chunks(failures, []), 4000)
        for expected in ("order_total: int = -97", "subtotal: int = 3", "batch: list[30]"):
            assert expected in text
        assert text.index("ValueError") < text.index("KeyError")
        assert "FAILURE 2/2" in text

    def test_typical_crash_fits_1500_tokens(self, failures):
        """The newest failure alone, with all its frames, fits the 1,500-token target."""
        text = fit_chunks(build_chunks(failures[1:], []), 100_000)
        assert count_tokens(text) <= 1500


class TestCutting:
    def test_keep_tail_chunks_keep_last_lines(self):
        """A trail-like chunk cut to fit keeps its newest (last) lines and says what it cut."""
        lines = [f"call number {i} returned {i * 3}" for i in range(100)]
        text = fit_chunks([Chunk(0, 0, lines, keep_tail=True)], 60)
        assert "call number 99 returned 297" in text
        assert "call number 0 " not in text
        assert "more lines" in text.splitlines()[0]

    def test_document_order_not_priority_order(self):
        """Chunks print in document order even when admitted by priority."""
        text = fit_chunks([Chunk(2, 0, ["second"]), Chunk(1, 5, ["first"])], 100)
        assert text == "first\nsecond\n"

    def test_no_failures(self):
        """An empty store says so."""
        assert fit_chunks(build_chunks([], []), 100) == "No failures recorded.\n"


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
