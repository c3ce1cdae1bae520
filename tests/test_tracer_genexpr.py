"""Generator expressions are one trail call: their per-item yields and resumes are not monitored.

A `sum(x * 2 for x in xs)` in a loop would otherwise cost two events per item
(issue 21). The trail still shows the genexpr's start and how it ended, a failure
inside one still reads right, and both engines write the same text.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from support import child_env, read_records, run_python

HAVE_C = importlib.util.find_spec("agentlog._tracer") is not None
ENGINES = [pytest.param("c", marks=pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")), "python"]

APP = """\
import sys

from agentlog.runtime import tracer


def double(x):
    return x * 2


def total(xs):
    return sum(double(x) for x in xs)


def ratio(xs):
    return sum(10 // x for x in xs)


def main():
    for _ in range(3):
        total(range(5))
    gen = (x for x in range(4))
    code = gen.gi_code
    next(gen)
    events = sys.monitoring.get_local_events(tracer._state.tool_id, code)
    print("yield/resume monitored:", bool(events & (sys.monitoring.events.PY_YIELD | sys.monitoring.events.PY_RESUME)))
    gen.close()
    ratio([5, 2, 0, 1])


main()
"""

EXPECTED = [
    "<module>() [app.py:1], raised ZeroDivisionError at line 30",
    "  main() [app.py:18], raised ZeroDivisionError at line 27",
    "    total(xs=<range>) [app.py:10] x3 -> 20",
    "      double(x) [app.py:6] x15: (0)->0 x3 (1)->2 x3 (2)->4 x3 (3)->6 x3 (4)->8 x3",
]
FAILING = [
    "    ratio(xs=list[4]) [app.py:14], raised ZeroDivisionError at line 15",
    "      ratio.<locals>.<genexpr>() [app.py:15], raised ZeroDivisionError at line 15",
]
DURATION = re.compile(r" \(\d+(?:\.\d+)?(?:ns|us|ms|s)(?: total)?\)")


def trail_text(cwd: Path, env: dict[str, str]) -> str:
    context = run_python(["-m", "agentlog", "context", "--max-tokens", "4000"], cwd, env)
    assert context.returncode == 0, context.stderr
    return context.stdout.split("call trail before the failure (oldest first):\n", 1)[1].split("\nsession:")[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_genexpr_is_one_call_and_a_failure_inside_reads_right(tmp_path: Path, engine: str) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    env = child_env(tmp_path / "data", AGENTLOG_ENGINE=engine)
    proc = run_python(["-m", "agentlog", "app.py"], tmp_path, env)
    assert proc.returncode == 1
    assert proc.stderr.rstrip().splitlines()[-1].startswith("ZeroDivisionError: ")
    assert proc.stdout == "yield/resume monitored: False\n"
    text = trail_text(tmp_path, env)
    lines = [DURATION.sub("", line) for line in text.splitlines()]
    assert lines[: len(EXPECTED)] == EXPECTED
    assert lines[-2:] == FAILING
    # The failing genexpr's frame is on the failure's traceback, with its locals.
    failure = [r for r in read_records(tmp_path / "data") if "trail" in r][-1]
    assert "ratio.<locals>.<genexpr>" in json.dumps(failure)
    # It ran in pieces while its consumer ran: no duration of its own; the others keep theirs.
    trail = failure["trail"]
    names = [fn[0] for fn in trail["fn"]]
    for call in trail["calls"]:
        if "c" in call and "end" in call and "pre" not in call:
            assert ("ns" in call) == ("<genexpr>" not in names[call["c"]]), call


def test_both_engines_write_the_same_genexpr_trail(tmp_path: Path) -> None:
    if not HAVE_C:
        pytest.skip("agentlog._tracer not built")
    texts = []
    for engine in ("c", "python"):
        (tmp_path / engine).mkdir()
        (tmp_path / engine / "app.py").write_text(APP, encoding="utf-8")
        env = child_env(tmp_path / engine / "data", AGENTLOG_ENGINE=engine)
        run_python(["-m", "agentlog", "app.py"], tmp_path / engine, env)
        texts.append(DURATION.sub("", trail_text(tmp_path / engine, env)))
    assert texts[0] == texts[1]
    assert texts[0].count("<genexpr>") == 2  # a finished one's line is left out (context/trail.py)
