"""Helpers shared by the session-layer tests (no tests here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import child_env

from agentlog.work import session


def isolate(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    """Point this process's AgentLog at ``data_dir``, with no session in the environment."""
    for name in [k for k in os.environ if k.startswith("AGENTLOG")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AGENTLOG_DIR", str(data_dir))
    monkeypatch.setattr("agentlog.core.config._current", None)
    monkeypatch.setattr(session, "_stack", [])
    monkeypatch.setattr("agentlog.core.sessionid._created", None)
    monkeypatch.setattr(session, "_start_written", None)
    # No session_end for a test's session at pytest's exit (the atexit hook sees None).
    monkeypatch.setattr(session, "_implicit", None)
    monkeypatch.setattr(session, "_ended", set())
    monkeypatch.setattr(session, "_failed", set())
    return data_dir


def agentlog_cli(
    args: list[str], data_dir: Path, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m agentlog args`` in a real subprocess recording into ``data_dir``."""
    return subprocess.run(
        [sys.executable, "-m", "agentlog", *args],
        cwd=cwd or data_dir.parent,
        env=child_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
