"""Text rendering of the call trail, other threads and traced calls."""

from __future__ import annotations

from typing import Any

from agentlog.context.trail import duration_text, threads_lines, traced_lines, trail_lines

FNS = [
    ["main", "/app/main.py", 1],
    ["validate", "/app/checks.py", 5],
    ["load", "/app/io.py", 20],
    ["parse", "/app/io.py", 10],
]


def call(c: int, d: int, end: str = "ret", **extra: Any) -> dict[str, Any]:
    return {"c": c, "d": d, "end": end, **extra}


class TestTrailLines:
    def test_nesting_and_values(self) -> None:
        """Children are indented under their caller; values and durations are shown."""
        trail = {
            "fn": FNS,
            "calls": [
                call(0, 0, end="exc", e="TypeError", ln=9, ns=2_500_000),
                call(2, 1, r={"t": "dict", "l": 3}, ns=12_000),
                call(3, 2, r={"t": "int", "v": "4"}, ns=800),
            ],
        }
        assert trail_lines(trail) == [
            "main() [main.py:1], raised TypeError at line 9 (2.5ms)",
            "  load() [io.py:20], returned dict[3] (12us)",
            "    parse() [io.py:10], returned 4 (800ns)",
        ]

    def test_repeated_calls_collapse(self) -> None:
        """A run of identical sibling calls is one line with a count."""
        trail = {
            "fn": FNS,
            "calls": [call(0, 0, end=None)] + [call(1, 1, r={"t": "bool", "v": "True"}, ns=100) for _ in range(120)],
        }
        assert trail_lines(trail) == [
            "main() [main.py:1], still running",
            "  validate() [checks.py:5] x120, returned True (12us total)",
        ]

    def test_distinct_values_listed(self) -> None:
        """A run with different results lists a few of them and counts the rest."""
        trail = {"fn": FNS, "calls": [call(3, 0, r={"t": "int", "v": str(i)}) for i in range(5)]}
        (line,) = trail_lines(trail)
        assert line == "parse() [io.py:10] x5, returned 0 | 1 | 2 | … (5 distinct)"

    def test_handled_exceptions_fold(self) -> None:
        """raise-then-catch pairs read as one line, and repeats fold into a count."""
        raised = call(3, 2, end="exc", e="ValueError", ln=12, ns=50)
        handled = {"ev": "handled", "c": 2, "d": 2, "e": "ValueError", "at": "parse:12", "ln": 30}
        trail = {
            "fn": FNS,
            "dropped": 7,
            "calls": [
                call(2, 1, r={"t": "int", "v": "0"}),
                raised,
                handled,
                dict(raised),
                dict(handled),
                dict(raised),
                dict(handled),
            ],
        }
        assert trail_lines(trail) == [
            "(7 older events were overwritten in the ring buffer)",
            "load() [io.py:20], returned 0",
            "  ValueError raised in parse():12, handled in load():30 (x3)",
        ]

    def test_handled_summary_counts_scattered_handlers(self) -> None:
        """Handled exceptions separated by other calls are still counted together, per type and handler."""
        handled = {"ev": "handled", "c": 2, "d": 1, "e": "KeyError", "at": "load:21", "ln": 22}
        other = {"ev": "handled", "c": 3, "d": 1, "e": "OSError", "at": "parse:11", "ln": 13}
        trail = {"fn": FNS, "calls": [handled, call(3, 1, r={"t": "int", "v": "1"}), dict(handled), other]}
        summary = "raised and handled before the failure: KeyError x2 in load(), OSError x1 in parse()"
        assert trail_lines(trail)[-1] == summary

    def test_generators_and_earlier_starts(self) -> None:
        """Resumed segments and calls begun before the window are labelled."""
        trail = {
            "fn": FNS,
            "calls": [
                call(3, 0, end="yield", r={"t": "float", "v": "1.5"}),
                call(3, 0, end="yield", k="resume", r={"t": "str", "l": 3}),
                call(2, 0, pre=True, r={"t": "NoneType", "v": "None"}),
            ],
        }
        assert trail_lines(trail) == [
            "parse() [io.py:10], yielded 1.5",
            "parse() resumed, yielded str[3]",
            "load() [io.py:20] (started earlier), returned None",
        ]

    def test_empty(self) -> None:
        """No calls, no lines."""
        assert trail_lines({}) == [] and trail_lines({"calls": []}) == []


def test_duration_text() -> None:
    """Durations use the largest fitting unit."""
    assert [duration_text(n) for n in (5, 12_345, 3_400_000, 2_000_000_000)] == ["5ns", "12us", "3.4ms", "2.00s"]


def test_threads_lines() -> None:
    """One line per thread with its current user function."""
    assert threads_lines(
        [{"tid": 7, "th": "worker", "fn": "fetch", "d": 2, "events": 90}, {"tid": 8, "th": "idle", "d": 0, "events": 0}]
    ) == [
        "thread 'worker' (tid 7): in fetch(), depth 2, 90 events",
        "thread 'idle' (tid 8): no user function running, depth 0, 0 events",
    ]


def test_traced_lines() -> None:
    """Traced calls show arguments, result or exception, and duration."""
    traced = [
        {
            "f": "login",
            "file": "/app/auth.py",
            "ln": 3,
            "n": 5,
            "calls": [
                {
                    "n": 4,
                    "args": {
                        "user": {"t": "str", "v": "'bob'"},
                        "password": {"t": "str", "red": "name", "v": "[REDACTED:name]"},
                    },
                    "r": {"t": "bool", "v": "True"},
                    "ns": 1500,
                },
                {"n": 5, "args": {}, "exc": {"t": "KeyError", "v": "KeyError: 'x'"}},
            ],
        }
    ]
    assert traced_lines(traced) == [
        "login() [auth.py:3]: 5 calls, last 2:",
        "  #4 login(user='bob', password=[REDACTED:name]) -> bool True (2us)",
        "  #5 login() raised KeyError: 'x'",
    ]


class TestRecursionFolding:
    def test_mutual_recursion_is_one_line(self) -> None:
        """A chain of nested a -> b -> a -> b calls reads as one line with the cycle and its count."""
        calls = [call(2 if i % 2 == 0 else 3, i, end="exc", e="RecursionError", ln=2, pre=True) for i in range(40)]
        calls.append(call(2, 40, r={"t": "int", "v": "7"}))
        lines = trail_lines({"fn": FNS, "calls": calls})
        assert lines[0].endswith("recursion: load() -> parse() x20")
        assert lines[1:] == ["  load(), returned 7"]

    def test_short_chains_stay_expanded(self) -> None:
        """Three nested calls are shown as they are."""
        one = {"t": "int", "v": "1"}
        calls = [call(2, 0, r=one), call(3, 1, r=one), call(2, 2, r=one)]
        assert len(trail_lines({"fn": FNS, "calls": calls})) == 3


def test_class_body_is_labelled():
    """A class statement's body reads as such, not as a call returning None."""
    trail = {"fn": [["class Invoice body", "/app/m.py", 18]], "calls": [call(0, 0, r={"t": "NoneType", "v": "None"})]}
    assert trail_lines(trail) == ["class Invoice body [m.py:18], ran"]


def test_folded_calls_keep_their_childrens_counts_and_values():
    """x7 of a call folds its children too: they show x7 and their distinct results, not the first one's."""
    calls = []
    for i in range(7):
        calls.append(call(2, 0, r={"t": "float", "v": str(i * 1.5)}))
        calls.append(call(3, 1, r={"t": "int", "v": str(i)}))
    lines = trail_lines({"fn": FNS, "calls": calls})
    assert lines[0].startswith("load() [io.py:20] x7, returned 0.0 | 1.5 | 3.0 | … (7 distinct)")
    assert lines[1].startswith("  parse() [io.py:10] x7, returned 0 | 1 | 2 | … (7 distinct)")
