"""Where the call trail says a call raised, end to end: real processes, both engines.

Each program marks, with ``# raised: NAME``, the line a traceback would give for
the frame of ``NAME``: its ``raise``, or the call the exception came out of. The
trail line of that call must name the same line, whatever the frame unwound
through (a coroutine run as a task, a generator, ``with``, ``finally``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import child_env, read_records, run_python
from test_trail_values_e2e import ENGINES, trail_text

CASES = {
    "task": '''\
import asyncio

async def bg():
    await asyncio.sleep(0)
    raise ValueError("background task died")  # raised: bg

async def main():
    asyncio.create_task(bg())
    await asyncio.sleep(0.05)
    raise KeyError("main")  # raised: main

asyncio.run(main())
''',
    "awaited": '''\
import asyncio

async def inner():
    await asyncio.sleep(0)
    raise ValueError("inner")  # raised: inner

async def outer():
    await asyncio.sleep(0)
    value = 1
    await inner()  # raised: outer
    return value

asyncio.run(outer())
''',
    "generator": '''\
def numbers(n):
    yield 1
    yield 2
    raise ValueError(n)  # raised: numbers

def total():
    out = 0
    for x in numbers(3):  # raised: total
        out += x
    return out

total()
''',
    "with_finally": '''\
import contextlib

def check(value):
    with contextlib.suppress(KeyError):
        if value < 0:
            raise ValueError(value)  # raised: check
        return value

def run(values):
    try:
        return [check(v) for v in values]  # raised: run
    finally:
        values.clear()

run([1, -2])
''',
}


def _expected(source: str) -> dict[str, int]:
    return {m.group(1): n for n, line in enumerate(source.splitlines(), 1)
            if (m := re.search(r"# raised: (\w+)", line))}


def _raised_at(lines: list[str], name: str) -> list[int]:
    return [int(m.group(1)) for line in lines if line.strip().startswith(f"{name}(")
            if (m := re.search(r", raised \w+ at line (\d+)", line))]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("engine", ENGINES)
def test_trail_names_the_traceback_line(tmp_path: Path, engine: str, case: str) -> None:
    """A call that raised is shown at the line the traceback gives for its frame, not where the frame let go."""
    source = CASES[case]
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    env = child_env(tmp_path / "data", AGENTLOG_ENGINE=engine)
    proc = run_python(["-m", "agentlog", "app.py"], tmp_path, env)
    assert proc.returncode == 1, proc.stderr
    context = run_python(["-m", "agentlog", "context", "--max-tokens", "4000"], tmp_path, env)
    lines = trail_text(context.stdout)
    for name, line in _expected(source).items():
        assert _raised_at(lines, name) == [line], (name, lines)
    # The record's own frames agree (the traceback), and the trail does so without being corrected from them.
    failure = read_records(tmp_path / "data", "failure")[-1]  # the task case also records bg()
    frames = {f["f"]: f["ln"] for f in failure["exc"]["frames"] if f.get("u")}
    for name, line in _expected(source).items():
        assert frames.get(name, line) == line
