"""Smoke tests of benchmarks/: every script starts, and the overhead suite measures the engine it names.

The benchmarks themselves are not tests (their numbers depend on the machine); these
runs are a few seconds in all. They start from the repository root, where a child that
put its working directory (or an inherited PYTHONPATH) first on sys.path would import
the source tree instead of the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import agentlog

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
SCRIPTS = ("run.py", "startup.py", "memory.py", "context_bench.py", "token_estimate.py")
INSTALLED = Path(agentlog.__file__).resolve().parent


def _bench(script: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG")}, **extra}
    return subprocess.run([sys.executable, str(BENCH / script), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script: str) -> None:
    proc = _bench(script, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:") and "--quick" in proc.stdout


def test_overhead_runs_the_installed_c_engine_from_the_repo_root() -> None:
    # PYTHONPATH=. is how the source tree used to reach the children: "calls (C)" was skipped.
    proc = _bench("run.py", "--quick", "--reps", "1", "--workloads", "realistic", "--modes", "empty-c", "calls-c",
                  PYTHONPATH=str(REPO))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"from {INSTALLED}\n" in proc.stdout
    rows = {line.split("  ")[1].strip(): line for line in proc.stdout.splitlines() if line.startswith("realistic")}
    assert set(rows) == {"untraced", "empty C pair", "calls (C)"}
    assert "x" in rows["calls (C)"].split("  ", 3)[-1]  # a ratio, not a blank row
    assert "load average at start:" in proc.stdout and "load average at end:" in proc.stdout


def test_a_build_without_the_c_engine_stops_the_run(tmp_path: Path) -> None:
    shutil.copytree(INSTALLED, tmp_path / "agentlog", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    proc = _bench("run.py", "--quick", "--reps", "1", "--workloads", "realistic", "--modes", "calls-c",
                  "--before", str(tmp_path))  # fmt: skip
    assert proc.returncode == 1
    assert "has no C engine" in proc.stderr and "build_ext --inplace" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_memory_one_thread_quick() -> None:
    proc = _bench("memory.py", "--quick", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith("1 ")]
    assert [row[1] for row in rows] == ["idle", "busy"] and all(len(row) == 8 for row in rows)


def test_context_unknown_case_is_one_line() -> None:
    proc = _bench("context_bench.py", "--only", "no_such_case")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "context_bench.py: no such case: ['no_such_case']"


@pytest.fixture
def realprojects(monkeypatch: pytest.MonkeyPatch):
    """benchmarks/realprojects.py, imported as the bench imports it (its folder first on sys.path)."""
    monkeypatch.syspath_prepend(str(BENCH))
    import realprojects

    return realprojects


def test_real_project_manifest_parses(realprojects) -> None:
    import re

    projects = realprojects.load_projects()
    bugs = realprojects.load_bugs()
    assert len(bugs) >= 20 and len({b.project for b in bugs}) >= 4
    assert sum(not b.direct for b in bugs) > len(bugs) / 2  # most bugs sit in a helper
    for project in projects.values():
        assert re.fullmatch(r"[0-9a-f]{64}", project.sha256)
        assert project.archive.endswith(f"-{project.version}.tar.gz") and project.url.startswith("https://")
    for bug in bugs:
        assert bug.decisive and all(re.compile(pattern) for pattern in bug.decisive.values()), bug.name
        assert bug.old.strip() != bug.new.strip() and bug.test.startswith(("tests/", "test/", "test_", "toolz/"))


def test_real_project_bugs_apply_to_their_pinned_files(realprojects, tmp_path: Path) -> None:
    projects = realprojects.load_projects()
    archives = {name: realprojects.cached(project) for name, project in projects.items()}
    if not all(archives.values()):
        missing = sorted(name for name, path in archives.items() if path is None)
        pytest.skip(f"sdists not cached in {realprojects.DEFAULT_CACHE} ({', '.join(missing)}); "
                    "`./run bench context --corpus real` fetches them")  # fmt: skip
    pristine = {name: realprojects.unpack(path, tmp_path / "pristine" / name) for name, path in archives.items()}
    for bug in realprojects.load_bugs():
        work = tmp_path / bug.name
        shutil.copytree(pristine[bug.project], work)
        before = (work / bug.file).read_text(encoding="utf-8").splitlines()
        realprojects.apply(bug, work)
        after = (work / bug.file).read_text(encoding="utf-8").splitlines()
        changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
        assert len(changed) == 1, bug.name
        assert changed[0][0].strip() == bug.old.strip() and changed[0][1].strip() == bug.new.strip()
        assert (work / bug.test.split("::")[0]).exists(), bug.name


def test_a_bug_whose_line_is_not_in_the_file_stops_the_run(realprojects, tmp_path: Path) -> None:
    bug = realprojects.Bug(name="b", project="p", kind="off-by-one", file="m.py", old="x = 1", new="x = 2", test="t",
                           bug_in="f", fails_in="g", decisive={"v": "x"}, direct=False)  # fmt: skip
    (tmp_path / "m.py").write_text("x = 1\nx = 1\n", encoding="utf-8")
    with pytest.raises(realprojects.harness.BenchError, match="has 2 lines 'x = 1', not one"):
        realprojects.apply(bug, tmp_path)
    (tmp_path / "m.py").write_text("y = 1\n", encoding="utf-8")
    with pytest.raises(realprojects.harness.BenchError, match="has 0 lines"):
        realprojects.apply(bug, tmp_path)
