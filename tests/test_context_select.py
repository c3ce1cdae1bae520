"""The budget's selection as a property: over many failures and budgets, monotonic and within budget."""

from __future__ import annotations

import threading

import pytest

from agentlog.capture.failure import build_failure
from agentlog.context.builder import build_sections
from agentlog.context.select import printed, select
from agentlog.context.select import text as text_of
from agentlog.context.tokencount import count_tokens
from agentlog.core.config import Config

BUDGETS = list(range(10, 400, 7)) + list(range(400, 3000, 97))


def _crashes():
    def deep(n, acc):
        if n == 0:
            raise ValueError(f"bad accumulator {acc}")
        return deep(n - 1, [*acc, n])

    def chained():
        try:
            {}["key"]
        except KeyError as err:
            raise RuntimeError("lookup failed") from err

    def group():
        raise ExceptionGroup("two", [ValueError("a"), TypeError("b")])

    def recursion(k):
        return recursion(k - 2)

    class Account:
        def __init__(self):
            self.balance = None
            self.history = list(range(50))

        def withdraw(self, amount):
            return self.balance - amount

    def lookup(key):
        return None

    def use():
        value = lookup("k")
        return value.upper()

    return [lambda: deep(6, []), chained, group, lambda: recursion(9), lambda: Account().withdraw(5),
            lambda: [1, 2][5], lambda: int("x" * 300), use]


def _origin_trail(record: dict, n: int) -> dict:
    """The synthetic trail with ``use()`` failing after ``lookup()`` returned None early: a value origin."""
    trail = _trail(n)
    first = len(trail["fn"])
    trail["fn"] += [["_crashes.<locals>.use", "m.py", 20, 22], ["_crashes.<locals>.lookup", "m.py", 16, 18]]
    trail["calls"] += [{"c": first, "d": 1, "end": "exc", "e": "AttributeError", "ln": 22},
                       {"c": first + 1, "d": 2, "end": "ret", "ln": 17, "r": {"t": "NoneType", "v": "None"},
                        "a": {"key": {"t": "str", "l": 1, "v": "'k'"}}}]
    return trail


def _trail(n: int) -> dict:
    """A synthetic trail: a main call with many helpers, nested calls, the failing path last."""
    fns = [["main", "m.py", 1], ["helper", "m.py", 5], ["inner", "m.py", 9], ["load", "m.py", 12]]
    calls = [{"c": 0, "d": 0, "end": "exc", "e": "ValueError", "ln": 3}]
    for i in range(n):
        calls.append({"c": 1, "d": 1, "end": "ret", "r": {"t": "int", "v": str(i)}, "ln": 6})
        calls.append({"c": 2, "d": 2, "end": "ret", "r": {"t": "int", "v": str(i * 7)}, "ln": 10})
    calls.append({"c": 3, "d": 1, "end": "ret", "r": {"t": "NoneType", "v": "None"}, "ln": 13})
    calls.append({"c": 1, "d": 1, "end": "exc", "e": "ValueError", "ln": 7})
    return {"engine": "c", "fn": fns, "calls": calls, "dropped": 0}


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> list[list[dict]]:
    config = Config(dir=str(tmp_path_factory.mktemp("data")))
    out = []
    for i, factory in enumerate(_crashes()):
        try:
            factory()
        except Exception as exc:  # noqa: BLE001 - every shape of failure
            record = build_failure(exc, "test", thread=threading.current_thread(), config=config)
        record["trail"] = _trail(3 + i * 9) if record["exc"]["t"] != "AttributeError" else _origin_trail(record, 40)
        out.append(record)
    return [[r] for r in out] + [out[:3], out]


def test_selection_is_monotonic_and_within_budget(records):
    """A larger budget keeps every line a smaller one kept; the text never exceeds its budget."""
    for failures in records:
        sections = build_sections(failures, [])
        previous = None
        for budget in BUDGETS:
            selection = select(sections, budget)
            text = text_of(printed(selection, budget))
            assert count_tokens(text) <= budget, (budget, text)
            if previous is not None:
                for before, now in zip(previous.chosen, selection.chosen, strict=True):
                    assert before <= now, (budget, failures[-1]["exc"]["t"])
                # A line cut to fit only grows with the budget.
                for old, new, kept in zip(previous.sections, selection.sections, previous.chosen, strict=True):
                    for i in kept:
                        was, now = old.lines[i].text, new.lines[i].text
                        assert now.startswith(was.removesuffix("…").rstrip(" ")), (budget, was, now)
            previous = selection


def test_budget_is_used_when_more_would_fit(records):
    """From 300 tokens, a context that does not fit whole fills at least 90% of the budget (estimated)."""
    for failures in records:
        sections = build_sections(failures, [])
        whole = count_tokens(text_of(printed(select(sections, 100_000), 100_000)))
        for budget in [b for b in BUDGETS if 300 <= b < whole]:
            used = count_tokens(text_of(printed(select(sections, budget), budget)))
            assert used >= 0.9 * budget, (budget, used, failures[-1]["exc"]["t"])


def test_value_origin_kept_with_the_failing_line(records):
    """The origin line ranks with the failing line: from 300 tokens it is always there, whole."""
    failures = next(r for r in records if len(r) == 1 and r[0]["exc"]["t"] == "AttributeError")
    sections = build_sections(failures, [])
    origin = "  origin: value = None <- _crashes.<locals>.lookup(key='k') -> None from line 17 [m.py:16], " \
             "called in _crashes.<locals>.use"
    for budget in [b for b in BUDGETS if b >= 300]:
        text = text_of(printed(select(sections, budget), budget))
        assert origin in text.splitlines(), (budget, text)


def test_titles_never_alone_and_header_kept(records):
    """No section prints a title without a line under it; from 200 tokens the header is always there."""
    for failures in records:
        sections = build_sections(failures, [])
        for budget in BUDGETS:
            selection = select(sections, budget)
            for section, chosen in zip(selection.sections, selection.chosen, strict=True):
                if chosen:
                    assert any(section.lines[i].alone for i in chosen)
            text = text_of(printed(selection, budget))
            if budget >= 200:
                assert text.startswith("FAILURE 1/"), (budget, text)
                assert f"{failures[-1]['exc']['t']}:" in text
