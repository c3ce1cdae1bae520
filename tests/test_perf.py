"""Perf markers: log_perf, the perf context manager, and `agentlog perf`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from support import read_records
from test_session_support import agentlog_cli, isolate

from agentlog.work.perfmarks import log_perf, perf


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    return isolate(monkeypatch, data_dir)


class TestPerf:
    def test_marker_has_process_figures(self, store: Path) -> None:
        """log_perf records rss, cpu times, threads and open files for this process."""
        with open(__file__):
            log_perf("checkpoint")
        (rec,) = read_records(store, "perf")
        assert rec["label"] == "checkpoint" and rec["pid"] == os.getpid()
        assert rec["rss"] > 1_000_000 and len(rec["cpu"]) == 2 and rec["nth"] >= 1 and rec["nof"] >= 1

    def test_context_manager_records_duration_and_deltas(self, store: Path) -> None:
        """The with-block records duration, rss and cpu deltas, and the exception type if it raised."""
        with pytest.raises(KeyError), perf("block"):
            sum(i * i for i in range(200_000))
            raise KeyError("x")
        (rec,) = read_records(store, "perf")
        assert rec["dur"] > 0 and "drss" in rec and rec["dcpu"] >= 0 and rec["exc"] == "KeyError"

    def test_decorator(self, store: Path) -> None:
        """perf works as a decorator, one marker per call."""

        @perf("decorated")
        def f() -> int:
            return 1

        assert f() + f() == 2
        assert [r["label"] for r in read_records(store, "perf")] == ["decorated", "decorated"]


class TestPerfCli:
    def test_lists_markers(self, data_dir: Path) -> None:
        """`agentlog perf` prints one labelled line per marker."""
        code = "import agentlog.work.perfmarks as p\nwith p.perf('load data'): pass\np.log_perf('done')"
        agentlog_cli(["exec", "--", sys.executable, "-c", code], data_dir)
        out = agentlog_cli(["perf"], data_dir)
        assert out.returncode == 0, out.stderr
        first, second = out.stdout.splitlines()
        assert "perf label=load data" in first and "dur=" in first and "rss=" in first
        assert "perf label=done" in second and "threads=" in second and "open_files=" in second


def test_package_level_perf_is_the_context_manager():
    """``agentlog.perf`` is the context manager even after every submodule was imported."""
    import importlib
    import pkgutil

    import agentlog

    for info in pkgutil.iter_modules(agentlog.__path__, "agentlog."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    assert callable(agentlog.perf)
    assert agentlog.perf.__module__ == "agentlog.work.perfmarks"
