"""A recursion in the call trail, end to end (real processes, both engines).

A folded recursion says how its arguments moved, outermost first, and keeps the
innermost call (where it raised) on its own line; calls that began before the
trail's window enclose the rest, oldest first, and that is said once.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from support import child_env, run_python
from test_trail_values_e2e import ENGINES, trail_text

APP = '''\
import sys

def walk(n, acc):
    if n < LIMIT:
        raise ValueError(f"too deep {{n}}")
    return walk(n - 2, acc + [n])

def main():
    return walk(START, [])

LIMIT, START = {limit}, 9
sys.setrecursionlimit(5000)
main()
'''


def _trail(tmp_path: Path, engine: str, limit: int, **env_vars: str) -> list[str]:
    (tmp_path / "app.py").write_text(APP.format(limit=limit), encoding="utf-8")
    env = child_env(tmp_path / "data", AGENTLOG_ENGINE=engine, **env_vars)
    proc = run_python(["-m", "agentlog", "app.py"], tmp_path, env)
    assert proc.returncode == 1 and "ValueError: too deep" in proc.stderr, proc.stderr
    context = run_python(["-m", "agentlog", "context", "--max-tokens", "4000"], tmp_path, env)
    assert context.returncode == 0, context.stderr
    return trail_text(context.stdout)


def _shown(values: list[int]) -> str:
    return ", ".join(str(v) for v in [*values[:6], "…", values[-1]])


@pytest.mark.parametrize("engine", ENGINES)
def test_folded_recursion_shows_how_arguments_moved(tmp_path: Path, engine: str) -> None:
    """The whole recursion in the window: one line with n's values outermost first, then the innermost call."""
    limit = -50
    depths = list(range(9, limit, -2))  # n of every call that recursed; the next one raised
    lines = _trail(tmp_path, engine, limit)
    (folded,) = [line for line in lines if "recursion: walk()" in line]
    assert f"recursion: walk() x{len(depths)}" in folded
    assert f"; n: {_shown(depths)};" in folded
    assert folded.strip().startswith("walk(n, acc) [app.py:3], raised ValueError at line 6")
    innermost = lines[lines.index(folded) + 1]
    assert innermost.strip() == f"walk(n={depths[-1] - 2}, acc=list[{len(depths)}]), raised ValueError at line 5"
    assert not any("began before" in line for line in lines)


@pytest.mark.parametrize("engine", ENGINES)
def test_calls_begun_before_the_window_enclose_the_rest(tmp_path: Path, engine: str) -> None:
    """A recursion deeper than the window: the module, main() and the early copies come first, said once."""
    limit, window = -300, 50  # ~155 nested calls; the window holds the last 50 calls' starts
    lines = _trail(tmp_path, engine, limit, AGENTLOG_TRAIL_CALLS=str(window))
    assert lines[0].startswith("(") and "the first 3 call lines below began before the window)" in lines[0]
    assert [re.match(r"\s*(\S+?)\(", line).group(1) for line in lines[1:4]] == ["<module>", "main", "walk"]
    assert [len(line) - len(line.lstrip()) for line in lines[1:5]] == [0, 2, 4, 6]  # oldest first, nested
    assert not any("began before the window" in line for line in lines[1:4] if "recursion:" not in line)
    folded = lines[3]
    copies = int(re.search(r"recursion: walk\(\) x(\d+)", folded).group(1))
    earlier = int(re.search(r"\((\d+) began before the window\)", folded).group(1))
    assert copies - earlier == window - 1  # the 50th call from the end is the innermost, on its own line
    # The copies inside the window had their arguments recorded: how n moved there, ending next to the raise.
    moves = re.search(r"; in the window n: (.+?);", folded).group(1).split(", ")
    assert moves[-1] == str(limit + 1) and moves[-2] == "…"
    assert [int(v) - int(w) for v, w in itertools.pairwise(moves[:6])] == [2] * 5
    assert lines[4].strip().startswith(f"walk(n={limit - 1}, ")
