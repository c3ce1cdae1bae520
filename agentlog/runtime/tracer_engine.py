"""The Engine protocol both call-trail engines satisfy (for type checkers and tests).

Apart from ``tracer_types`` so that activation, which imports that module, does
not pay for ``typing``: nothing checks the protocol at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import Any, Protocol

from agentlog.runtime.tracer_types import RawEntry, ThreadInfo


class Engine(Protocol):
    """A call-trail engine. Both implementations are modules with these names."""

    NAME: str
    ARGS_SUPPORTED: bool  # whether this engine can read argument values on this interpreter
    ARGS_OFF_REASON: str | None  # why not (None when it can)

    def callbacks(self) -> dict[str, Callable[..., Any]]:
        """Event name (``"PY_START"``...) -> callback for ``register_callback``."""
        ...

    def configure(
        self, ring_size: int, classify: Callable[[CodeType], int], disable: object, capture_args: bool = True
    ) -> None:
        """Start a fresh session: ring capacity (rounded up to a power of two), the
        user-code classifier (code -> index >= 0, or -1), ``sys.monitoring.DISABLE``
        and whether to record the first arguments of every call."""
        ...

    def release(self) -> None:
        """Stop recording and free the rings."""
        ...

    def after_fork(self) -> None:
        """Forget other threads and restart the trail in a forked child."""
        ...

    def set_paused(self, paused: bool) -> bool:
        """Pause recording on the calling thread; returns the previous setting."""
        ...

    def thread_infos(self) -> list[ThreadInfo]:
        """One tuple per thread that recorded in this session."""
        ...

    def entries(self, ident: int, max_calls: int) -> tuple[list[RawEntry], int, int]:
        """(tail of the ring covering the last ``max_calls`` calls, written, dropped)."""
        ...

    def profile(self) -> list[tuple[int, int, int, int]]:
        """[(code index, calls, total ns, self ns)]."""
        ...

    def set_ring_budget(self, budget_bytes: int) -> None:
        """Bound all rings together (entries of ``ENTRY_BYTES``); each keeps at least ``RING_START``."""
        ...

    def ring_info(self, ident: int) -> tuple[int, bool]:
        """(entries the thread's ring holds at most now, whether the budget held it below ring_size)."""
        ...

    def memory(self) -> tuple[int, int, int, int, int]:
        """(ring bytes, rings, budget bytes, library-code verdicts cached, user codes kept)."""
        ...

    def types(self) -> list[type]:
        """Type table indexed by V_SIZED/V_OBJ/V_EXC payloads."""
        ...
