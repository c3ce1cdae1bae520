"""Perf markers: a process's memory, CPU, threads and open files at a labelled point or span."""

from __future__ import annotations

import contextlib
import os
import time
from types import TracebackType
from typing import Any

PERF = "perf"
MAX_LABEL_CHARS = 200
_process: Any = None


def sample() -> dict[str, Any]:
    """The current process's ``rss`` (bytes), ``cpu`` [user, system] seconds, ``nth``, ``nof``.

    Empty if psutil is missing or the process cannot be inspected.
    """
    global _process
    try:
        import psutil

        if _process is None or _process.pid != os.getpid():
            _process = psutil.Process()
        with _process.oneshot():
            cpu = _process.cpu_times()
            return {
                "rss": _process.memory_info().rss,
                "cpu": [round(cpu.user, 3), round(cpu.system, 3)],
                "nth": _process.num_threads(),
                "nof": len(_process.open_files()),
            }
    except Exception:  # noqa: BLE001 - psutil missing, or an OS refusing to tell
        return {}


def _write(label: str, fields: dict[str, Any]) -> None:
    from agentlog.store import append, make_record

    append(make_record(PERF, label=str(label)[:MAX_LABEL_CHARS], **fields))


def log_perf(label: str) -> None:
    """Record a perf marker for this process now."""
    _write(label, sample())


class perf(contextlib.ContextDecorator):  # lower-case: used like a function
    """Record a perf marker when the block (or decorated call) ends: its duration and deltas."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._start = 0.0
        self._before: dict[str, Any] = {}

    def __enter__(self) -> perf:
        self._before = sample()
        self._start = time.monotonic()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        duration = time.monotonic() - self._start
        fields = sample()
        fields["dur"] = round(duration, 4)
        if "rss" in fields and "rss" in self._before:
            fields["drss"] = fields["rss"] - self._before["rss"]
            fields["dcpu"] = round(sum(fields["cpu"]) - sum(self._before["cpu"]), 3)
        if exc_type is not None:
            fields["exc"] = exc_type.__name__
        _write(self.label, fields)
