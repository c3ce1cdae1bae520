"""Shared fixtures (helpers for subprocess tests live in support.py)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "agentlog-data"


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented program into the test's temporary directory."""

    def write(name: str, source: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return write


@pytest.fixture
def fresh_redaction(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Default config, no secret-named env vars and fresh redaction caches, before and after."""
    from agentlog.core import redact
    from agentlog.core.config import load_config, set_config

    for name in list(os.environ):
        if redact.is_secret_name(name):
            monkeypatch.delenv(name)
    set_config(load_config(env={}))
    redact.reset()
    yield
    set_config(None)
    redact.reset()
