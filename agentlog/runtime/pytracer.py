"""The pure-Python call-trail engine: the same records as ``agentlog._tracer``, slower.

Used when the C extension is missing or ``AGENTLOG_ENGINE=python``. It mirrors
``src_c/tracer.pyx`` function for function (see :class:`tracer_types.Engine`):
per-thread rings of entry tuples, a shadow stack for timing, a per-code
profile. Callbacks run with the GIL held, so plain dicts and lists suffice.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from agentlog.runtime.tracer_types import (
    K_ARG,
    K_HANDLED,
    K_RAISE,
    K_RERAISE,
    K_RESUME,
    K_RETURN,
    K_START,
    K_THROW,
    K_UNWIND,
    K_VALUE,
    K_YIELD,
    LEN_BITS,
    MAX_ARGS,
    MAX_DEPTH,
    MAX_TUPLE_ITEMS,
    PREFIX_BYTES,
    V_BIGINT,
    V_BOOL,
    V_BYTES,
    V_EXC,
    V_FLOAT,
    V_INT,
    V_NONE,
    V_OBJ,
    V_SIZED,
    V_STR,
    V_VOID,
    RawEntry,
    ThreadInfo,
    ring_capacity,
)

NAME = "python"
ARGS_SUPPORTED = True  # read through the public frame API, on any version
STACK_MAX = 1 << 20
UNWIND_SEARCH = 8
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MAX_LEN = (1 << LEN_BITS) - 1
SIZED_TYPES = (list, tuple, dict, set, frozenset)

_now = time.perf_counter_ns
_ident = _thread.get_ident


class _Thread:
    """One thread's ring and shadow stack (frames are [code, start, child, idx])."""

    __slots__ = ("gen", "head", "ident", "mask", "paused", "ring", "stack")

    def __init__(self, ident: int, capacity: int, gen: int) -> None:
        self.ident = ident
        self.gen = gen
        self.ring: list[RawEntry | None] = [None] * capacity
        self.mask = capacity - 1
        self.head = 0
        self.stack: list[list[Any]] = []
        self.paused = False


# Each thread finds its state through a thread-local (idents are reused after a
# thread ends; a thread-local is not); _states indexes the same objects by ident.
_tls = threading.local()
_gen = 0  # bumped by configure/release/after_fork: thread states re-create lazily
_states: dict[int, _Thread] = {}
_codes: dict[CodeType, int] = {}
_argnames: dict[int, tuple[str, ...]] = {}  # code index -> names of its first MAX_ARGS argument slots
_typemap: dict[type, int] = {}
_types: list[type] = []
_stats: dict[int, list[int]] = {}  # idx -> [calls, total, self, active]
_classify: Callable[[CodeType], int] | None = None
_disable: object = None
_capacity = 65536
_enabled = False
_capture_args = False


def _thread_state() -> _Thread:
    st: _Thread | None = getattr(_tls, "st", None)
    if st is None or st.gen != _gen:
        # A new thread (or session): forget threads that have ended.
        live = sys._current_frames()
        for old in [i for i in _states if i not in live]:
            del _states[old]
        ident = _ident()
        st = _tls.st = _states[ident] = _Thread(ident, _capacity, _gen)
    return st


def _state() -> _Thread | None:
    st = _thread_state()
    return None if st.paused else st


def _code_index(code: CodeType) -> int:
    idx = _codes.get(code)
    if idx is None:
        idx = -1
        if _classify is not None:
            try:
                idx = _classify(code)
            except Exception:  # noqa: BLE001 - a callback must never raise into user code
                idx = -1
        _codes[code] = idx
        if idx >= 0:
            _stats.setdefault(idx, [0, 0, 0, 0])
            _argnames[idx] = _arg_names(code)
    return idx


def _arg_names(code: CodeType) -> tuple[str, ...]:
    """Names of the first MAX_ARGS argument slots: positional, keyword-only, *args, **kwargs."""
    n = code.co_argcount + code.co_kwonlyargcount
    n += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)  # CO_VARARGS, CO_VARKEYWORDS
    return code.co_varnames[: min(n, MAX_ARGS)]


def _type_index(tp: type) -> int:
    idx = _typemap.get(tp)
    if idx is None:
        idx = _typemap[tp] = len(_types)
        _types.append(tp)
    return idx


def _summary(value: object) -> tuple[int, int | float]:
    tp = type(value)
    if value is None:
        return V_NONE, 0
    if tp is bool:
        return V_BOOL, int(value)  # type: ignore[call-overload]
    if tp is int:
        if INT64_MIN <= value <= INT64_MAX:  # type: ignore[operator]
            return V_INT, value  # type: ignore[return-value]
        return V_BIGINT, 1 if value > 0 else -1  # type: ignore[operator]
    if tp is float:
        return V_FLOAT, value  # type: ignore[return-value]
    if tp is str:
        return V_STR, len(value)  # type: ignore[arg-type]
    if tp is bytes:
        return V_BYTES, len(value)  # type: ignore[arg-type]
    if tp in SIZED_TYPES:
        return V_SIZED, (_type_index(tp) << LEN_BITS) | min(len(value), MAX_LEN)  # type: ignore[arg-type]
    return V_OBJ, _type_index(tp)


def _value_entry(kind: int, index: int, value: object) -> RawEntry:
    """A K_ARG/K_VALUE entry: the summary, and the first bytes of an ASCII str or bytes value."""
    vtag, payload = _summary(value)
    text = None
    if vtag == V_STR and value.isascii():  # type: ignore[attr-defined]
        text = value[:PREFIX_BYTES].encode("ascii")  # type: ignore[index]
    elif vtag == V_BYTES:
        text = value[:PREFIX_BYTES]  # type: ignore[index]
    return (0, kind, 0, 0, index, vtag, payload, text)


def _record_args(st: _Thread, code: CodeType, idx: int, frame: FrameType) -> None:
    names = _argnames.get(idx)
    if not names or frame.f_code is not code:
        return
    local_values = frame.f_locals
    for index, name in enumerate(names):
        try:
            value = local_values[name]
        except KeyError:
            continue
        _put(st, _value_entry(K_ARG, index, value))


def _record_value(st: _Thread, vtag: int, value: object) -> None:
    if vtag in (V_STR, V_BYTES):
        _put(st, _value_entry(K_VALUE, 0, value))
    elif type(value) is tuple and len(value) <= MAX_TUPLE_ITEMS:
        for index, item in enumerate(value):
            _put(st, _value_entry(K_VALUE, index, item))


def _put(st: _Thread, entry: RawEntry) -> None:
    st.ring[st.head & st.mask] = entry
    st.head += 1


def _push(st: _Thread, code: CodeType, idx: int, now: int, counted: int) -> None:
    if len(st.stack) < STACK_MAX:
        st.stack.append([code, now, 0, idx])
        stats = _stats[idx]
        stats[0] += counted
        stats[3] += 1


def _pop(st: _Thread, code: CodeType, now: int) -> int:
    stack = st.stack
    for i in range(len(stack) - 1, max(len(stack) - UNWIND_SEARCH, 0) - 1, -1):
        if stack[i][0] is code:
            _code, start, child, idx = stack[i]
            del stack[i:]
            elapsed = now - start
            stats = _stats[idx]
            stats[2] += elapsed - child
            stats[3] -= 1
            if stats[3] <= 0:
                stats[3] = 0
                stats[1] += elapsed
            if stack:
                stack[-1][2] += elapsed
            return idx
    return -2


def _enter(kind: int, code: CodeType, offset: int) -> object:
    if not _enabled:
        return None
    idx = _code_index(code)
    if idx < 0:
        return None if kind == K_THROW else _disable
    st = _state()
    if st is None:
        return None
    now = _now()
    _put(st, (now, kind, idx, offset, min(len(st.stack), MAX_DEPTH), V_VOID, 0, None))
    if kind == K_START and _capture_args:
        # Frames: 0 this one, 1 on_py_start, 2 the function that is starting.
        _record_args(st, code, idx, sys._getframe(2))
    _push(st, code, idx, now, kind == K_START)
    return None


def _leave(kind: int, code: CodeType, offset: int, value: object) -> object:
    if not _enabled:
        return None
    if kind == K_UNWIND and _code_index(code) < 0:
        return None
    st = _state()
    if st is None:
        return None
    now = _now()
    idx = _pop(st, code, now)
    if idx == -2:
        idx = _code_index(code)
        if idx < 0:
            return None if kind == K_UNWIND else _disable
    if kind == K_UNWIND:
        vtag, payload = V_EXC, _type_index(type(value))
    else:
        vtag, payload = _summary(value)
    _put(st, (now, kind, idx, offset, min(len(st.stack), MAX_DEPTH), vtag, payload, None))
    if kind != K_UNWIND and _capture_args:
        _record_value(st, vtag, value)
    return None


def _exc_event(kind: int, code: CodeType, offset: int, exc: BaseException) -> object:
    if not _enabled:
        return None
    idx = _code_index(code)
    if idx < 0:
        return None
    st = _state()
    if st is None:
        return None
    tidx = _type_index(type(exc))
    if kind == K_RAISE and st.head:
        # RAISE repeats in every frame an exception propagates into: skip it right
        # after the callee's PY_UNWIND of the same type (as the C engine does).
        last = st.ring[(st.head - 1) & st.mask]
        if last is not None and last[1] == K_UNWIND and last[6] == tidx:
            return None
    depth = len(st.stack)
    if depth and st.stack[-1][0] is code:
        depth -= 1
    _put(st, (_now(), kind, idx, offset, min(depth, MAX_DEPTH), V_EXC, tidx, None))
    return None


def on_py_start(code: CodeType, offset: int) -> object:
    return _enter(K_START, code, offset)


def on_py_resume(code: CodeType, offset: int) -> object:
    return _enter(K_RESUME, code, offset)


def on_py_throw(code: CodeType, offset: int, exc: BaseException) -> object:
    return _enter(K_THROW, code, offset)


def on_py_return(code: CodeType, offset: int, value: object) -> object:
    return _leave(K_RETURN, code, offset, value)


def on_py_yield(code: CodeType, offset: int, value: object) -> object:
    return _leave(K_YIELD, code, offset, value)


def on_py_unwind(code: CodeType, offset: int, exc: BaseException) -> object:
    return _leave(K_UNWIND, code, offset, exc)


def on_raise(code: CodeType, offset: int, exc: BaseException) -> object:
    return _exc_event(K_RAISE, code, offset, exc)


def on_reraise(code: CodeType, offset: int, exc: BaseException) -> object:
    return _exc_event(K_RERAISE, code, offset, exc)


def on_exception_handled(code: CodeType, offset: int, exc: BaseException) -> object:
    return _exc_event(K_HANDLED, code, offset, exc)


def callbacks() -> dict[str, Callable[..., Any]]:
    """Event name -> callback, for ``sys.monitoring.register_callback``."""
    return {
        "PY_START": on_py_start,
        "PY_RESUME": on_py_resume,
        "PY_THROW": on_py_throw,
        "PY_RETURN": on_py_return,
        "PY_YIELD": on_py_yield,
        "PY_UNWIND": on_py_unwind,
        "RAISE": on_raise,
        "RERAISE": on_reraise,
        "EXCEPTION_HANDLED": on_exception_handled,
    }


def _clear_tables() -> None:
    global _gen
    _gen += 1
    _states.clear()
    _codes.clear()
    _argnames.clear()
    _typemap.clear()
    _types.clear()
    _stats.clear()


def configure(
    ring_size: int, classify: Callable[[CodeType], int], disable: object, capture_args: bool = True
) -> None:
    """Start a fresh recording session."""
    global _capacity, _classify, _disable, _enabled, _capture_args
    _enabled = False
    _clear_tables()
    _capacity, _classify, _disable = ring_capacity(ring_size), classify, disable
    _capture_args = capture_args
    for tp in SIZED_TYPES:
        _type_index(tp)
    _enabled = True


def release() -> None:
    """Stop recording and drop every ring."""
    global _enabled, _classify
    _enabled = False
    _classify = None
    _clear_tables()


def after_fork() -> None:
    """In a forked child only the calling thread survives; restart its trail."""
    global _gen
    _gen += 1
    _states.clear()
    for stats in _stats.values():
        stats[:] = [0, 0, 0, 0]


def set_paused(paused: bool) -> bool:
    """Pause/resume recording on the calling thread; returns the previous setting."""
    if not _enabled:
        return False
    st = _thread_state()
    previous, st.paused = st.paused, paused
    return previous


def thread_infos() -> list[ThreadInfo]:
    """[(ident, alive, written, dropped, depth, top code index or -1)]."""
    live = sys._current_frames()
    return [
        (
            st.ident,
            st.ident in live,
            st.head,
            max(0, st.head - st.mask - 1),
            len(st.stack),
            st.stack[-1][3] if st.stack else -1,
        )
        for st in list(_states.values())
    ]


def entries(ident: int, max_calls: int) -> tuple[list[RawEntry], int, int]:
    """The tail of a thread's ring holding its last ``max_calls`` calls, oldest first."""
    st = _states.get(ident)
    if st is None:
        return [], 0, 0
    n = min(st.head, st.mask + 1)
    start, calls = st.head, 0
    while start > st.head - n:
        start -= 1
        entry = st.ring[start & st.mask]
        if entry is not None and entry[1] in (K_START, K_RESUME, K_THROW):
            calls += 1
            if calls >= max_calls:
                break
    out = [st.ring[i & st.mask] for i in range(start, st.head)]
    return [e for e in out if e is not None], st.head, st.head - n


def profile() -> list[tuple[int, int, int, int]]:
    """[(code index, calls, total ns, self ns)] for every code that ran."""
    return [(i, s[0], s[1], s[2]) for i, s in sorted(_stats.items()) if s[0] or s[2]]


def types() -> list[type]:
    """The type table: V_SIZED/V_OBJ/V_EXC payloads index into it."""
    return list(_types)
