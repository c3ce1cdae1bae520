"""Durations in the trail and the profile are true: a callee's never holds its caller's own time.

The C engine reads the clock once per call for most leaf calls (issue 21): a frame
with user callees, a code's first 16 calls, unwinds and yields are timed; past
those, one leaf return in 16. A deterministic sleep pattern tells a true duration
from one that absorbed the caller's time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from support import child_env, read_records, run_python

HAVE_C = importlib.util.find_spec("agentlog._tracer") is not None
ENGINES = [pytest.param("c", marks=pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")), "python"]
MS = 1_000_000

APP = """\
import time


def leaf():
    time.sleep(0.02)


def caller():
    time.sleep(0.06)
    leaf()
    time.sleep(0.06)


def hot(i):
    return i + 1


def busy():
    time.sleep(0.05)
    total = 0
    for i in range(100):
        total += hot(i)
    time.sleep(0.05)
    return total


def main():
    caller()
    busy()
    leaf()
    raise ValueError("done")


main()
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_durations_never_hold_the_callers_time(tmp_path: Path, engine: str) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    env = child_env(tmp_path / "data", AGENTLOG_ENGINE=engine)
    proc = run_python(["-m", "agentlog", "app.py"], tmp_path, env)
    assert proc.returncode == 1 and "ValueError: done" in proc.stderr
    [failure] = [r for r in read_records(tmp_path / "data") if "trail" in r]
    trail = failure["trail"]
    assert trail["engine"] == engine
    names = [fn[0] for fn in trail["fn"]]
    by_name: dict[str, list[dict]] = {}
    for call in trail["calls"]:
        if "c" in call:
            by_name.setdefault(names[call["c"]], []).append(call)
    # The last leaf (after the hot loop) is timed: a code's first calls always are.
    leaf = by_name["leaf"][-1]
    assert 20 * MS <= leaf["ns"] < 60 * MS, leaf  # not the 100 ms busy() slept before it
    busy = by_name["busy"][-1]
    assert busy["ns"] >= 100 * MS
    hot = by_name["hot"]
    timed = [c["ns"] for c in hot if "ns" in c]
    assert timed and max(timed) < 5 * MS  # none holds busy()'s sleeps
    if engine == "c":
        assert len(timed) < len(hot)  # past its first 16 calls, 1 leaf call in 16 is timed
    else:
        assert len(timed) == len(hot)  # the Python engine times every call
    # The profile: every hot() call counted; busy()'s sleeps are its own time, not hot()'s.
    [profile] = read_records(tmp_path / "data", "profile")
    rows = {row["f"]: row for row in profile["fns"]}
    assert rows["hot"]["n"] == 100
    assert rows["busy"]["self"] >= 100 * MS
    assert rows["hot"]["self"] < 20 * MS and rows["hot"]["tot"] <= rows["busy"]["tot"]
    assert rows["caller"]["self"] >= 120 * MS and 40 * MS <= rows["leaf"]["self"] < 100 * MS


@pytest.mark.parametrize("engine", ENGINES)
def test_folded_run_with_untimed_calls_claims_no_total(tmp_path: Path, engine: str) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    env = child_env(tmp_path / "data", AGENTLOG_ENGINE=engine)
    run_python(["-m", "agentlog", "app.py"], tmp_path, env)
    context = run_python(["-m", "agentlog", "context", "--max-tokens", "4000"], tmp_path, env)
    hot = [line for line in context.stdout.splitlines() if line.lstrip().startswith("hot(")]
    assert hot, context.stdout
    # A run holding untimed calls shows no total (its sum would leave those out).
    assert ("total)" in hot[0]) == (engine == "python"), hot[0]
