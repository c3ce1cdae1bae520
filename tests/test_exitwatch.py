"""Who watches exits in process: the C trail while it runs, else the exit watcher's own tool id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.core.config import Config
from agentlog.runtime import exitwatch, toolids, tracer


@pytest.fixture
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AGENTLOG_ENGINE", request.param)
    yield request.param
    exitwatch.uninstall()
    tracer.stop()
    assert toolids.held() == {}


@pytest.mark.parametrize("engine", ["c", "python"], indirect=True)
def test_trail_covers_exits_while_it_runs(engine: str, data_dir: Path) -> None:
    """C trail: one id, exits watched; stopped: the watcher takes an id; restarted: one id again."""
    tracer.start(Config(dir=data_dir, trace="calls"))
    assert exitwatch.install("calls") and exitwatch.watching()
    own = [] if engine == "c" else [exitwatch.TOOL_NAME]
    assert sorted(toolids.held().values()) == sorted([tracer.TOOL_NAME, *own])
    tracer.stop()
    assert list(toolids.held().values()) == [exitwatch.TOOL_NAME] and exitwatch.watching()
    tracer.start(Config(dir=data_dir, trace="calls"))
    assert sorted(toolids.held().values()) == sorted([tracer.TOOL_NAME, *own])
    exitwatch.uninstall()
    assert not exitwatch.watching() and list(toolids.held().values()) == [tracer.TOOL_NAME]
