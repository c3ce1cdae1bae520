"""Helpers for tests: run real Python subprocesses against the same agentlog the tests import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import agentlog

# Wherever this test process imported agentlog from (site-packages in CI, the source
# tree in development), child processes import the same copy.
PACKAGE_ROOT = Path(agentlog.__file__).resolve().parent.parent
SUBPROCESS_TIMEOUT_S = 120


def child_env(data_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """A clean environment for a child Python: no inherited AgentLog state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONFAULTHANDLER"] = "1"
    env.pop("PYTHONSAFEPATH", None)
    env["AGENTLOG_CONFIG"] = os.devnull  # the developer's own config file stays out of the tests
    if data_dir is not None:
        env["AGENTLOG_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run_python(args: list[str], cwd: Path, env: dict[str, str],
               stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python args...`` with a timeout; faulthandler dumps stacks if the child hangs."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, input=stdin, capture_output=True,
        text=True, timeout=SUBPROCESS_TIMEOUT_S,
    )


def both(args: list[str], cwd: Path, data_dir: Path) -> tuple[subprocess.CompletedProcess[str], ...]:
    """Run ``python args`` and ``python -m agentlog args`` in the same place: (plain, traced)."""
    env = child_env(data_dir)
    return run_python(args, cwd, env), run_python(["-m", "agentlog", *args], cwd, env)


def read_records(data_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """Every record in the data dir (rotated files included), oldest first."""
    records = []
    for path in sorted(data_dir.glob("records*.jsonl")):
        for line in path.read_text(encoding="utf-8").split("\n"):  # not splitlines(): text may hold \x85
            if not line.strip():
                continue  # a writer's separator after a torn line (docs/FORMAT.md)
            record = json.loads(line)
            if kind is None or record["k"] == kind:
                records.append(record)
    return records




def _pth_installed() -> bool:
    import sysconfig

    return (Path(sysconfig.get_paths()["purelib"]) / "agentlog-activate.pth").exists()


# AGENTLOG=true and multiprocessing children activate through the installed .pth hook.
needs_pth = pytest.mark.skipif(
    not _pth_installed(), reason="needs the installed package's .pth hook (run ./run test)"
)
