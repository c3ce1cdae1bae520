"""What both call-trail engines share: event kinds, value tags and the Engine protocol.

The C engine (``agentlog._tracer``, from ``src_c/tracer.pyx``) and the
pure-Python engine (:mod:`agentlog.runtime.pytracer`) are modules that satisfy
:class:`Engine`; :mod:`agentlog.runtime.tracer` picks one and decodes what it
recorded. The numbers below are mirrored in ``src_c/tracer.pyx``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import Any, Protocol

# Event kinds (entry field ``kind``).
K_START = 1  # PY_START: a user function/generator/coroutine begins
K_RESUME = 2  # PY_RESUME: a generator/coroutine continues after yield/await
K_THROW = 3  # PY_THROW: resumed by gen.throw()
K_RETURN = 4  # PY_RETURN
K_YIELD = 5  # PY_YIELD (also a coroutine suspending in await)
K_UNWIND = 6  # PY_UNWIND: an exception leaves the frame
K_RAISE = 7  # RAISE: an exception is raised in, or propagates into, the frame
K_RERAISE = 8  # RERAISE: a bare ``raise`` or the end of a ``finally`` re-raises
K_HANDLED = 9  # EXCEPTION_HANDLED: an ``except`` clause caught it
K_ARG = 10  # value entry: one argument of the K_START before it (depth = argument slot)
K_VALUE = 11  # value entry: the value of the K_RETURN/K_YIELD before it, or one tuple item (depth = index)
ENTER_KINDS = frozenset({K_START, K_RESUME, K_THROW})
LEAVE_KINDS = frozenset({K_RETURN, K_YIELD, K_UNWIND})

# Value tags (entry field ``vtag``) and how the payload reads.
V_VOID = 0  # no value
V_NONE = 1
V_BOOL = 2  # payload 0/1
V_INT = 3  # payload is the int
V_BIGINT = 4  # int beyond 64 bits; payload is its sign (+1/-1)
V_FLOAT = 5  # payload is the float
V_STR = 6  # payload is len()
V_BYTES = 7  # payload is len()
V_SIZED = 8  # exact list/tuple/dict/set/frozenset: type index << LEN_BITS | len
V_OBJ = 9  # anything else: type index
V_EXC = 10  # exception events: type index of the exception
LEN_BITS = 40
PREFIX_BYTES = 16  # text a value entry keeps of an ASCII str or a bytes value
MAX_ARGS = 4  # argument slots recorded per call (positional, keyword-only, *args, **kwargs, in that order)
MAX_TUPLE_ITEMS = 3  # a returned tuple this short is recorded item by item
MAX_DEPTH = 65535  # depth field is 16 bits
MIN_RING = 16  # entries; src_c/tracer.pyx uses the same floor

# One decoded entry: (ns, kind, code index, bytecode offset, depth, vtag, payload, text).
# Value entries (K_ARG, K_VALUE) have ns, code and offset 0, depth = slot or item index
# and text = the first PREFIX_BYTES of an ASCII str or bytes value (else None).
RawEntry = tuple[int, int, int, int, int, int, int | float, bytes | None]
# (ident, alive, entries written, entries dropped, depth, top code index or -1)
ThreadInfo = tuple[int, bool, int, int, int, int]

# sys.monitoring events each engine needs; those in LOCAL_EVENT_NAMES are set
# per code object on user code only, the rest globally (RAISE, RERAISE,
# EXCEPTION_HANDLED, PY_UNWIND and PY_THROW cannot be local events).
GLOBAL_EVENT_NAMES = ("PY_START", "PY_THROW", "PY_UNWIND", "RAISE", "RERAISE", "EXCEPTION_HANDLED")
LOCAL_EVENT_NAMES = ("PY_RETURN", "PY_YIELD", "PY_RESUME")


def ring_capacity(ring_size: int) -> int:
    """Entries a ring really holds: ``ring_size`` rounded up to a power of two."""
    capacity = MIN_RING
    while capacity < ring_size:
        capacity <<= 1
    return capacity


class Engine(Protocol):
    """A call-trail engine. Both implementations are modules with these names."""

    NAME: str
    ARGS_SUPPORTED: bool  # whether this engine can read argument values on this interpreter

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

    def types(self) -> list[type]:
        """Type table indexed by V_SIZED/V_OBJ/V_EXC payloads."""
        ...
