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
            "  load() [io.py:20] -> dict[3] (12us)",
            "    parse() [io.py:10] -> 4 (800ns)",
        ]

    def test_repeated_calls_collapse(self) -> None:
        """A run of identical sibling calls is one line with a count."""
        trail = {
            "fn": FNS,
            "calls": [call(0, 0, end=None)] + [call(1, 1, r={"t": "bool", "v": "True"}, ns=100) for _ in range(120)],
        }
        assert trail_lines(trail) == [
            "main() [main.py:1], still running",
            "  validate() [checks.py:5] x120 -> True (12us total)",
        ]

    def test_distinct_values_listed(self) -> None:
        """A run with different results lists a few of them and counts the rest."""
        trail = {"fn": FNS, "calls": [call(3, 0, r={"t": "int", "v": str(i)}) for i in range(5)]}
        (line,) = trail_lines(trail)
        assert line == "parse() [io.py:10] x5 -> 0 | 1 | 2 | … (5 distinct)"

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
            "load() [io.py:20] -> 0",
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
            "load() [io.py:20] (began before the window) -> None",  # not enclosing: said on its line
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
        # Calls that began before the window come at their ends, innermost first, after what they called.
        calls = [call(2, 40, r={"t": "int", "v": "7"})]
        calls += [call(2 if i % 2 == 0 else 3, i, end="exc", e="RecursionError", ln=2, pre=True)
                  for i in range(39, -1, -1)]
        lines = trail_lines({"fn": FNS, "calls": calls})
        assert lines[0] == "(the first call line below began before the window)"
        assert lines[1].endswith("recursion: load() -> parse() x20 (20 began before the window)")
        assert lines[2:] == ["  load() -> 7"]

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
    assert lines[0].startswith("load() [io.py:20] x7 -> 0.0 | 1.5 | 3.0 | … (7 distinct)")
    assert lines[1].startswith("  parse() [io.py:10] x7 -> 0 | 1 | 2 | … (7 distinct)")


RATING_FNS = [["validate_rating", "/app/rating.py", 3, 6], ["Queue.resize", "/app/q.py", 10, 12]]


def num(v: float) -> dict[str, str]:
    return {"t": "float" if isinstance(v, float) else "int", "v": str(v)}


def rating(confidence: float, result: bool, ln: int = 6) -> dict[str, Any]:
    return call(
        0, 0, a={"confidence": num(confidence), "threshold": num(0.7)}, r={"t": "bool", "v": str(result)}, ln=ln
    )


class TestArgumentLines:
    def test_call_with_arguments(self) -> None:
        """A call shows its arguments by name and value, then its result."""
        trail = {"fn": RATING_FNS, "calls": [rating(1.5, True)]}
        assert trail_lines(trail) == ["validate_rating(confidence=1.5, threshold=0.7) [rating.py:3] -> True"]

    def test_return_line_when_not_last(self) -> None:
        """The line a call returned from is named when it is not the function's last line."""
        trail = {"fn": RATING_FNS, "calls": [rating(-1.0, False, ln=4)]}
        assert trail_lines(trail)[0].endswith("-> False from line 4")

    def test_self_by_type_only(self) -> None:
        """``self`` of the method's own class is left out; a subclass instance is named."""
        own = call(1, 0, a={"self": {"t": "app.q.Queue"}, "n": num(0)}, r={"t": "NoneType", "v": "None"}, ln=12)
        sub = call(1, 0, a={"self": {"t": "app.q.SlowQueue"}, "n": num(1)}, r={"t": "NoneType", "v": "None"}, ln=12)
        assert trail_lines({"fn": RATING_FNS, "calls": [own]}) == ["Queue.resize(n=0) [q.py:10] -> None"]
        assert trail_lines({"fn": RATING_FNS, "calls": [sub]}) == [
            "Queue.resize(self=<app.q.SlowQueue>, n=1) [q.py:10] -> None"
        ]

    def test_redacted_and_cut_values(self) -> None:
        """Redacted arguments keep their marker; a cut string shows how much is missing."""
        args = {
            "password": {"t": "str", "v": "[REDACTED:name]", "red": "name"},
            "note": {"t": "str", "l": 30, "v": "'abcdefghijklmnop'", "x": 14},
        }
        trail = {"fn": [["login", "/app/a.py", 1, 2]], "calls": [call(0, 0, a=args, r={"t": "bool", "v": "True"})]}
        assert trail_lines(trail) == [
            "login(password=[REDACTED:name], note='abcdefghijklmnop'… (+14 chars)) [a.py:1] -> True"
        ]

    def test_fold_keeps_distinct_pairs(self) -> None:
        """A folded run lists each distinct (varying arguments, result); constant arguments go in the header."""
        calls = [rating(c, c > 0.7) for c in (0.2, 0.9, 1.5, 0.2)]
        assert trail_lines({"fn": RATING_FNS, "calls": calls}) == [
            "validate_rating(confidence, threshold=0.7) [rating.py:3] x4: (0.2)->False x2 (0.9)->True (1.5)->True"
        ]

    def test_fold_cut_puts_unusual_first(self) -> None:
        """When the pairs do not all fit: the minority result, the extreme values and the last call come first."""
        values = [0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.37, 0.38, 1.5, 0.39, 0.4]
        calls = [rating(c, c <= 1.0) for c in values]
        (line,) = trail_lines({"fn": RATING_FNS, "calls": calls})
        listing = line.split(": ", 1)[1]
        assert listing.startswith("(1.5)->False (0.31)->True (0.4)->True ")
        assert listing.endswith("… +5 more")
        assert listing.count("->") == 6

    def test_fold_of_failures_lists_arguments(self) -> None:
        """Calls that all raised fold too, keeping their arguments."""
        calls = [call(0, 0, end="exc", e="ValueError", ln=5, a={"confidence": num(c), "threshold": num(0.7)})
                 for c in (2.0, 3.0)]
        assert trail_lines({"fn": RATING_FNS, "calls": calls}) == [
            "validate_rating(confidence, threshold=0.7) [rating.py:3] x2: (2.0) (3.0), raised ValueError at line 5"
        ]

    def test_tuple_results(self) -> None:
        """A short tuple result shows its items."""
        items = [{"t": "int", "v": "2"}, {"t": "str", "l": 2, "v": "'ok'"}]
        trail = {"fn": FNS, "calls": [call(3, 0, r={"t": "tuple", "l": 2, "items": items})]}
        assert trail_lines(trail) == ["parse() [io.py:10] -> (2, 'ok')"]


def test_returned_call_reads_every_return_form():
    """returned_call tells lines of calls that returned from ones that raised, ran on or recursed."""
    from agentlog.context.trail import returned_call

    trail = {"fn": RATING_FNS, "calls": [rating(c, True) for c in (0.2, 0.3)] + [rating(0.5, False)]}
    (folded,) = trail_lines(trail)
    assert returned_call(folded) and returned_call("  parse() [io.py:10] -> 4 (800ns)")
    assert not returned_call("main() [main.py:1], raised TypeError at line 9 (2.5ms)")
    assert not returned_call("load(), raised RecursionError at line 2; recursion: load() -> parse() x20")
    assert not returned_call("main() [main.py:1], still running")


class TestComprehensions:
    FNS = [["main", "/app/m.py", 1], ["main.<locals>.<genexpr>", "/app/m.py", 3], ["weight", "/app/m.py", 9],
           ["check.<locals>.<listcomp>", "/app/m.py", 5]]

    def test_genexpr_lines_fold_into_the_caller(self) -> None:
        """A generator expression's start/resume/yield lines go; the calls it made sit under its caller."""
        trail = {"fn": self.FNS, "calls": [
            call(0, 0, end="exc", e="ValueError", ln=4),
            call(1, 1, end="yield", r={"t": "int", "v": "2"}),
            call(2, 2, a={"x": {"t": "int", "v": "1"}}, r={"t": "int", "v": "2"}),
            call(1, 1, end="yield", k="resume", r={"t": "int", "v": "4"}),
            call(2, 2, a={"x": {"t": "int", "v": "2"}}, r={"t": "int", "v": "4"}),
            call(1, 1, k="resume", r={"t": "NoneType", "v": "None"}),
            call(3, 1, r={"t": "list", "l": 0}),  # a comprehension that made no calls: gone
        ]}
        assert trail_lines(trail) == [
            "main() [m.py:1], raised ValueError at line 4",
            "  weight(x) [m.py:9] x2: (1)->2 (2)->4",
        ]

    def test_genexpr_that_raised_or_runs_stays(self) -> None:
        trail = {"fn": self.FNS, "calls": [
            call(0, 0, end="exc", e="ValueError", ln=4),
            call(1, 1, end="exc", e="ValueError", ln=3),
            call(2, 2, end="exc", e="ValueError", ln=10),
        ]}
        assert trail_lines(trail) == [
            "main() [m.py:1], raised ValueError at line 4",
            "  main.<locals>.<genexpr>() [m.py:3], raised ValueError at line 3",
            "    weight() [m.py:9], raised ValueError at line 10",
        ]

    def test_a_genexpr_begun_before_the_window(self) -> None:
        """Its calls came before it in the window (``pre``): they still move under the caller."""
        trail = {"fn": self.FNS, "calls": [
            call(2, 2, r={"t": "int", "v": "8"}),
            call(1, 1, pre=True, k="resume", r={"t": "NoneType", "v": "None"}),
            call(0, 0, end="exc", e="ValueError", ln=4, pre=True),
        ]}
        lines = trail_lines(trail)
        assert lines[1:] == ["main() [m.py:1], raised ValueError at line 4", "  weight() [m.py:9] -> 8"]
