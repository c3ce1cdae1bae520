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
