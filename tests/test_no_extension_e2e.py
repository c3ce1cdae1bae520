"""Without the compiled tracer, AGENTLOG=true records crashes only and says so once per session.

A real install without the extension (no C compiler): a copy of the installed package
with ``agentlog/_tracer*.so`` left out, first on the children's path. The pure-Python
trail would make call-heavy code ~100x slower with no word; it now runs only when asked
for (AGENTLOG_TRACE=calls, AGENTLOG_ENGINE=python).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import PACKAGE_ROOT, child_env, read_records, run_python

from agentlog.runtime.activate import NO_EXTENSION_NOTICE

APP = """\
import os
import subprocess
import sys

print("trace mode:", os.environ.get("AGENTLOG_TRACE"))
child = subprocess.run([sys.executable, "-c", "import os; print('child mode:', os.environ.get('AGENTLOG_TRACE'))"])
sys.stdout.flush()


def divide(a, b):
    return a / b


divide(1, 0)
"""


@pytest.fixture
def no_extension(tmp_path: Path) -> Path:
    """A site folder holding agentlog without its compiled extension."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE_ROOT / "agentlog", site / "agentlog",
                    ignore=shutil.ignore_patterns("_tracer*.so", "_tracer*.pyd", "__pycache__"))
    assert not list((site / "agentlog").glob("_tracer*"))
    return site


def env_for(site: Path, data: Path, **extra: str) -> dict[str, str]:
    return child_env(data, PYTHONPATH=str(site), AGENTLOG="true", **extra)


def test_crash_mode_and_one_line_per_session(tmp_path: Path, no_extension: Path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    plain = run_python(["app.py"], tmp_path, child_env(None, PYTHONPATH=str(no_extension)))
    proc = run_python(["app.py"], tmp_path, env_for(no_extension, tmp_path / "data"))
    # The program's own output is unchanged; the notice is one stderr line, not repeated by the child.
    assert proc.returncode == plain.returncode == 1
    assert proc.stdout == "trace mode: crash\nchild mode: crash\n"
    assert proc.stderr.count(NO_EXTENSION_NOTICE) == 1
    assert proc.stderr.replace(NO_EXTENSION_NOTICE + "\n", "", 1) == plain.stderr
    assert proc.stderr.startswith(NO_EXTENSION_NOTICE)
    # Crashes are still recorded, with no trail.
    failures = [r for r in read_records(tmp_path / "data") if r.get("exc")]
    assert failures and "ZeroDivisionError" in str(failures[-1]["exc"])
    assert not failures[-1].get("trail")


@pytest.mark.parametrize("ask", [{"AGENTLOG_TRACE": "calls"}, {"AGENTLOG_ENGINE": "python"}])
def test_asking_for_the_trail_runs_the_python_engine(tmp_path: Path, no_extension: Path, ask: dict) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    proc = run_python(["app.py"], tmp_path, env_for(no_extension, tmp_path / "data", **ask))
    assert proc.returncode == 1
    assert NO_EXTENSION_NOTICE not in proc.stderr
    assert proc.stdout.startswith("trace mode: calls\n")
    failure = [r for r in read_records(tmp_path / "data") if r.get("trail")][-1]
    assert failure["trail"]["engine"] == "python"


def test_doctor_says_it(tmp_path: Path, no_extension: Path) -> None:
    env = child_env(tmp_path / "data", PYTHONPATH=str(no_extension))
    out = run_python(["-m", "agentlog", "doctor"], tmp_path, env)
    assert out.returncode == 0, out.stderr
    assert "engine: python (ImportError" in out.stdout
    assert "problem: recording crashes only, no call trail" in out.stdout
    forced = run_python(["-m", "agentlog", "doctor"], tmp_path, {**env, "AGENTLOG_TRACE": "calls"})
    assert "problem: the call trail runs on the pure-Python engine" in forced.stdout
