"""How the context shows library frames and generator expressions, end to end (real pytest and script runs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import child_env, read_records, run_python
from test_trail_values_e2e import ENGINES, trail_text

TEST_FILE = '''\
def parse_line(line):
    name, *scores = line.split(";")
    return name, [float(s) for s in scores]


def load(text):
    return dict(parse_line(line) for line in text.splitlines())


def test_load():
    assert load("ann;9;8\\nbob;7;x")["ann"] == [9.0, 8.0]
'''

LIBRARY_LINE = re.compile(
    r"^  at (\S+) \((.+):(\d+)\) \[library\](?:, called from (\d+) more library frames? \((.+)\))?$")


def _run_pytest(tmp_path: Path, engine: str) -> tuple[Path, dict[str, str]]:
    (tmp_path / "test_load.py").write_text(TEST_FILE, encoding="utf-8")
    data = tmp_path / "data"
    env = child_env(data, AGENTLOG_ENGINE=engine)
    proc = run_python(["-m", "agentlog", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_load.py"], tmp_path, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return data, env


def _context(tmp_path: Path, env: dict[str, str], budget: int) -> str:
    proc = run_python(["-m", "agentlog", "context", "--max-tokens", str(budget)], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("engine", ENGINES)
def test_library_frames_fold_into_one_line(tmp_path: Path, engine: str) -> None:
    """pytest's and pluggy's frames under a failing test are one line with a count, at any budget."""
    data, env = _run_pytest(tmp_path, engine)
    (failure,) = read_records(data, "failure")
    frames = failure["exc"]["frames"]
    library = [f for f in frames if not f.get("u") and "f" in f]
    assert len(library) > 5  # the record keeps them all; only the view folds them
    context = _context(tmp_path, env, 6000)
    lines = [line for line in context.splitlines() if "[library]" in line]
    assert len(lines) == 1, lines
    first, _file, line, more, packages = LIBRARY_LINE.match(lines[0]).groups()
    assert (first, int(line)) == (library[0]["f"], library[0]["ln"])
    assert int(more) == len(library) - 1
    assert {"pluggy", "_pytest"} <= set(packages.split(", "))
    # A budget too small for it says how many frames it left out (not "1 library frame"), in
    # whole items: what does not fit of the note becomes "…", never half a count.
    small = _context(tmp_path, env, 300)
    assert "[library]" not in small
    note = small.splitlines()[-1]
    assert note.startswith("(left out to fit the budget: ") and note.endswith(")")
    items = note.removeprefix("(left out to fit the budget: ").removesuffix(")").split(", ")
    assert all(item == "…" or re.fullmatch(r"(\d+ )?[a-z ]+", item) for item in items), note
    assert "library frame" not in note or f"{len(library)} library frames" in items, note
    wide = _context(tmp_path, env, 1000)
    assert "[library]" in wide or f"{len(library)} library frames" in wide.splitlines()[-1]


@pytest.mark.parametrize("engine", ENGINES)
def test_generator_expression_shows_no_interpreter_names(tmp_path: Path, engine: str) -> None:
    """A generator expression's frame and trail call show no ``.0`` (the iterator CPython passes it)."""
    data, env = _run_pytest(tmp_path, engine)
    (failure,) = read_records(data, "failure")
    (genexpr,) = [f for f in failure["exc"]["frames"] if f.get("f", "").endswith("<genexpr>")]
    assert list(genexpr["loc"]) == ["line"]
    context = _context(tmp_path, env, 6000)
    assert not re.search(r"(^|[\s(])\.0\b", context)
    trail = trail_text(context)
    assert any(line.strip().startswith("load.<locals>.<genexpr>() [test_load.py:7]") for line in trail), trail
    # The other calls still show their arguments.
    assert any("parse_line(line='bob;7;x')" in line for line in trail), trail
