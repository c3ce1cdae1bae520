"""The trail reads the same on every supported CPython (3.12-3.15) and with both engines.

The bytecode and sys.monitoring under AgentLog change from version to version (3.14
split BRANCH into BRANCH_LEFT/RIGHT and added clear_tool_id; list comprehensions are
inlined since 3.12, generator expressions are not; the frame layout the C engine reads
changed in 3.14). The trail text an agent reads must not: `with` blocks, a
@contextmanager, a generator closed early, send() and throw(), a list comprehension
and a generator expression, class bodies, handled and unhandled exceptions. CI runs
this on each version.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from support import child_env, run_python

HAVE_C = importlib.util.find_spec("agentlog._tracer") is not None
ENGINES = [pytest.param("c", marks=pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")), "python"]

APP = """\
import contextlib


class Resource:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@contextlib.contextmanager
def managed(tag):
    yield tag


def counter(n):
    for i in range(n):
        yield i


def echo():
    got = yield "ready"
    while True:
        got = yield got


def squares(xs):
    return [x * x for x in xs], sum(x for x in xs)


class Config:
    level = 3

    def bump(self, by):
        return self.level + by


def fail(value):
    raise KeyError(value)


def main():
    with Resource():
        pass
    with managed("m") as tag:
        tag.upper()
    gen = counter(3)
    next(gen)
    gen.close()
    talker = echo()
    next(talker)
    talker.send("hi")
    try:
        talker.throw(ValueError("x"))
    except ValueError:
        pass
    squares([1, 2])
    Config().bump(2)
    try:
        fail("k")
    except KeyError:
        pass
    fail("last")


main()
"""

EXPECTED = [
    '<module>() [app.py:1], raised KeyError at line 67',
    '  class Resource body [app.py:4], ran',
    '  class Config body [app.py:32], ran',
    '  main() [app.py:43], raised KeyError at line 64',
    '    Resource.__enter__() [app.py:5] -> <__main__.Resource>',
    '    Resource.__exit__(exc=tuple[3]) [app.py:8] -> False',
    "    managed(tag='m') [app.py:12], yielded 'm'",
    '    managed() resumed -> None',
    '    counter(n=3) [app.py:17], yielded 0',
    '    counter() resumed by throw(), raised GeneratorExit at line 19',
    "    echo() [app.py:22], yielded 'ready'",
    "    echo() resumed, yielded 'hi'",
    '    ValueError raised in echo():25, handled in main():56',
    '    squares(xs=list[2]) [app.py:28] -> (…, 3)',  # its genexpr's own lines are folded away
    '    Config.bump(by=2) [app.py:35] -> 5',
    '    KeyError raised in fail():40, handled in main():62',
    "    fail(value='last') [app.py:39], raised KeyError at line 40",
]


# 3.13 closes a generator suspended outside try/with without resuming its frame: no
# PY_THROW or PY_UNWIND, so neither engine can see the close (3.12, 3.14, 3.15 throw
# GeneratorExit into it). The one line the versions differ in.
CLOSED = "    counter() resumed by throw(), raised GeneratorExit at line 19"


PROBE = """\
import sys
monitoring, seen = sys.monitoring, []
tool = next(i for i in range(6) if monitoring.get_tool(i) is None)
monitoring.use_tool_id(tool, "probe")
for name in ("PY_THROW", "PY_UNWIND"):
    monitoring.register_callback(tool, getattr(monitoring.events, name), lambda *args, name=name: seen.append(name))

def counter():
    yield 1

gen = counter()
next(gen)
monitoring.set_events(tool, monitoring.events.PY_THROW | monitoring.events.PY_UNWIND)
gen.close()
print(" ".join(seen))
"""


def test_which_versions_resume_a_closed_generator(tmp_path: Path) -> None:
    """The sys.monitoring difference behind CLOSED, at its source (a fresh interpreter: no other tool
    or earlier test's monitoring state in the way)."""
    proc = run_python(["-c", PROBE], tmp_path, child_env(tmp_path / "data"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ([] if sys.version_info[:2] == (3, 13) else ["PY_THROW", "PY_UNWIND"])


@pytest.mark.parametrize("engine", ENGINES)
def test_same_trail_on_every_version(tmp_path: Path, engine: str) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    env = child_env(tmp_path / "data", AGENTLOG_ENGINE=engine)
    plain = run_python(["app.py"], tmp_path, child_env(tmp_path / "plain"))
    proc = run_python(["-m", "agentlog", "app.py"], tmp_path, env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert proc.returncode == 1 and "KeyError: 'last'" in proc.stderr
    context = run_python(["-m", "agentlog", "context", "--max-tokens", "4000"], tmp_path, env)
    assert context.returncode == 0, context.stderr
    trail = context.stdout.split("call trail before the failure (oldest first):\n", 1)[1].splitlines()
    trail = [re.sub(r" \(\d+(?:\.\d+)?(?:ns|us|ms|s)(?: total)?\)", "", line) for line in trail]
    expected = [line for line in EXPECTED if line != CLOSED or sys.version_info[:2] != (3, 13)]
    assert trail[:len(expected)] == expected
