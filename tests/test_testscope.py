"""capture/testscope.py: a failing test's trail keeps that test's calls, and only those."""

from __future__ import annotations

from typing import Any

from agentlog.capture.testscope import scope_trail

FNS = [["test_a", "/t/test_x.py", 1], ["test_b", "/t/test_x.py", 9], ["helper", "/t/test_x.py", 20],
       ["convert", "/t/test_x.py", 25], ["Value.__repr__", "/t/test_x.py", 30]]
TESTS = {("test_a", "/t/test_x.py"), ("test_b", "/t/test_x.py")}
TEST_B = ("test_b", "/t/test_x.py")


def call(c: int, d: int, end: str = "ret", **extra: Any) -> dict[str, Any]:
    return {"c": c, "d": d, "end": end, **extra}


def test_earlier_tests_are_scoped_out() -> None:
    trail = {"fn": FNS, "calls": [call(0, 0), call(2, 1), call(1, 0, end="exc"), call(3, 1)]}
    scope_trail(trail, TEST_B, TESTS, "call")
    assert [c["c"] for c in trail["calls"]] == [1, 3] and trail["scoped"] == 2


def test_test_begun_before_the_window_keeps_its_calls() -> None:
    """More calls than the window: the test's item comes last (``pre``), after its own calls, which stay."""
    own = [call(2, 1, r={"t": "int", "v": str(i)}) for i in range(198)] + [call(3, 1, r={"t": "int", "v": "300"})]
    trail = {"fn": FNS, "calls": [*own, call(1, 0, end="exc", e="AssertionError", pre=True),
                                  call(4, 0, r={"t": "str", "l": 3})]}  # pytest's repr after the failure
    scope_trail(trail, TEST_B, TESTS, "call")
    assert trail["calls"] == [*own, call(1, 0, end="exc", e="AssertionError", pre=True)]
    assert trail["scoped"] == 1
