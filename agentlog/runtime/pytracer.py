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
import weakref

from agentlog.runtime.tracer_types import (
    ENTRY_BYTES,
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
    RING_START,
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
    V_TYPE,
    V_VOID,
    RawEntry,
    ThreadInfo,
    folded,
    ring_capacity,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, FrameType
    from typing import Any

NAME = "python"
ARGS_SUPPORTED = True  # read through the public frame API, on any version
ARGS_OFF_REASON = None
STACK_MAX = 1 << 20
UNWIND_SEARCH = 8
MAX_OTHER_CODES = 8192  # library-code verdicts cached before the cache is dropped (as in C)
MAX_TYPES = 4096  # type table entries; values of later new types are summarised as V_VOID (as in C)
RING_NEVER = 1 << 64
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MAX_LEN = (1 << LEN_BITS) - 1
SIZED_TYPES = (list, tuple, dict, set, frozenset)

_now = time.perf_counter_ns
_ident = _thread.get_ident


class _Thread:
    """One thread's ring and shadow stack (frames are [code, start, child, idx]).

    The ring grows as in the C engine (``ring_grow`` in src_c/tracer.pyx): it starts
    at ``RING_START`` entries and doubles when full, within the process's budget.
    """

    __slots__ = ("__weakref__", "base", "gen", "grow_at", "head", "ident", "mask", "paused", "reduced", "ring",
                 "stack")  # fmt: skip

    def __init__(self, ident: int, capacity: int, gen: int) -> None:
        self.ident = ident
        self.gen = gen
        self.ring: list[RawEntry | None] = [None] * capacity
        self.mask = capacity - 1
        self.head = 0
        self.base = 0  # entries before this one are gone (a resize kept only the newest)
        self.grow_at = RING_NEVER if capacity >= _capacity else capacity
        self.reduced = False  # the budget held this ring below the configured size
        self.stack: list[list[Any]] = []
        self.paused = False


# Each thread finds its state through a thread-local (idents are reused after a
# thread ends; a thread-local is not); _states indexes the same objects by ident,
# weakly: a thread's state (and ring) goes when the thread's thread-local does.
_tls = threading.local()
_gen = 0  # bumped by configure/release/after_fork: thread states re-create lazily
_states: weakref.WeakValueDictionary[int, _Thread] = weakref.WeakValueDictionary()
_codes: dict[CodeType, int] = {}
_argnames: dict[int, tuple[str, ...]] = {}  # code index -> names of its first MAX_ARGS argument slots
_folded: set[int] = set()  # code indexes of generator expressions (tracer_types.folded)
_typemap: dict[type, int] = {}
_types: list[type] = []
_stats: dict[int, list[int]] = {}  # idx -> [calls, total, self, active]
_classify: Callable[[CodeType], int] | None = None
_disable: object = None
_capacity = 65536
_budget = (64 << 20) // ENTRY_BYTES  # entries, all rings together
_other_codes = 0  # library-code verdicts in _codes
_enabled = False
_capture_args = False


def _thread_state() -> _Thread:
    st: _Thread | None = getattr(_tls, "st", None)
    if st is None or st.gen != _gen:
        ident = _ident()
        st = _tls.st = _states[ident] = _Thread(ident, min(RING_START, _capacity), _gen)
        if _ring_total() > _budget:
            _reclaim(st, _fair_cap())
    return st


# ---- ring memory (mirrors the C engine) ---------------------------------------


def _ring_total() -> int:
    return sum(st.mask + 1 for st in list(_states.values()))


def _fair_cap() -> int:
    share = _budget // max(1, len(_states))
    cap = min(RING_START, _capacity)
    while cap * 2 <= share and cap * 2 <= _capacity:
        cap *= 2
    return cap


def _resize(st: _Thread, cap: int) -> None:
    """Move ``st``'s ring to ``cap`` entries, keeping the newest."""
    n = min(st.head - st.base, st.mask + 1, cap)
    ring: list[RawEntry | None] = [None] * cap
    for i in range(st.head - n, st.head):
        ring[i & (cap - 1)] = st.ring[i & st.mask]
    st.ring, st.mask, st.base = ring, cap - 1, st.head - n


def _reclaim(me: _Thread, cap: int) -> None:
    for st in list(_states.values()):
        if st is not me and st.mask + 1 > cap:
            _resize(st, cap)
            st.reduced = True
            st.grow_at = st.head + cap


def _grow(st: _Thread) -> None:
    """The ring is full: double it if the budget allows, else keep wrapping."""
    cap = st.mask + 1
    if cap >= _capacity:
        st.grow_at = RING_NEVER
        return
    allowed = _fair_cap()
    if cap * 2 <= allowed:
        if _ring_total() + cap > _budget:
            _reclaim(st, allowed)
        if _ring_total() + cap <= _budget:
            _resize(st, cap * 2)
            st.grow_at = RING_NEVER if cap * 2 >= _capacity else st.base + cap * 2
            return
    st.reduced = True
    if allowed < cap:
        _resize(st, allowed)
    st.grow_at = st.head + st.mask + 1


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
        if idx >= 0:
            _stats.setdefault(idx, [0, 0, 0, 0])
            _argnames[idx] = _arg_names(code)
            if folded(code):
                _folded.add(idx)
        else:
            _count_other_code()
        _codes[code] = idx
    return idx


def _count_other_code() -> None:
    """Bound the library-code verdict cache under code churn: drop it when full."""
    global _codes, _other_codes
    _other_codes += 1
    if _other_codes > MAX_OTHER_CODES:
        _codes = {code: idx for code, idx in _codes.items() if idx >= 0}
        _other_codes = 1


def _arg_names(code: CodeType) -> tuple[str, ...]:
    """Names of the first MAX_ARGS argument slots: positional, keyword-only, *args, **kwargs.

    None for a comprehension's or generator expression's code: its one argument is
    the interpreter's ``.0`` (the iterator it was given), not a name the program wrote.
    """
    n = code.co_argcount + code.co_kwonlyargcount
    n += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)  # CO_VARARGS, CO_VARKEYWORDS
    names = code.co_varnames[: min(n, MAX_ARGS)]
    return names if all(name.isidentifier() for name in names) else ()


def _type_index(tp: type) -> int:
    idx = _typemap.get(tp)
    if idx is None:
        if len(_types) >= MAX_TYPES:
            return -1
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
    if issubclass(tp, type):
        idx = _type_index(value)  # type: ignore[arg-type]
        return (V_TYPE, idx) if idx >= 0 else (V_VOID, 0)
    idx = _type_index(tp)
    if idx < 0:
        return V_VOID, 0
    if tp in SIZED_TYPES:
        return V_SIZED, (idx << LEN_BITS) | min(len(value), MAX_LEN)  # type: ignore[arg-type]
    return V_OBJ, idx


def _value_entry(kind: int, index: int, value: object) -> RawEntry:
    """A K_ARG/K_VALUE entry: the summary, and the first bytes of a str (whole characters) or bytes value."""
    vtag, payload = _summary(value)
    text = None
    if vtag == V_STR and value.isascii():  # type: ignore[attr-defined]
        text = value[:PREFIX_BYTES].encode("ascii")  # type: ignore[index]
    elif vtag == V_STR:  # whole characters of the UTF-8 prefix
        head = value[:PREFIX_BYTES].encode("utf-8", "replace")  # type: ignore[index]
        text = head[:PREFIX_BYTES].decode("utf-8", "ignore").encode("utf-8")
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
    if st.head == st.grow_at:
        _grow(st)
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
    fold = idx in _folded
    if fold and kind != K_START:
        return None  # gen.throw() into a generator expression: it stays one call
    now = _now()
    _put(st, (now, kind, idx, offset, min(len(st.stack), MAX_DEPTH), V_VOID, 0, None))
    if kind == K_START and _capture_args:
        # Frames: 0 this one, 1 on_py_start, 2 the function that is starting.
        _record_args(st, code, idx, sys._getframe(2))
    if fold:
        _stats[idx][0] += 1  # counted, not timed: it is not on the stack (tracer_types.folded)
    else:
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
        offset = _unwind_offset(code, value, offset)  # type: ignore[arg-type]
        payload = _type_index(type(value))
        vtag = V_EXC if payload >= 0 else V_VOID
    else:
        vtag, payload = _summary(value)
    _put(st, (now, kind, idx, offset, min(len(st.stack), MAX_DEPTH), vtag, payload, None))
    if kind != K_UNWIND and _capture_args:
        _record_value(st, vtag, value)
    return None


def _unwind_offset(code: CodeType, exc: BaseException, offset: int) -> int:
    """Where ``exc`` left the frame, as a traceback prints it (al_platform.h, al_unwind_offset).

    PY_UNWIND's own offset is where the frame lets it go: a coroutine's or
    generator's implicit handler (no line), the re-raise ending a ``with``; the
    traceback entry the frame added holds the raise, or the call it came out of.
    """
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is code and tb.tb_lasti >= 0:
        return tb.tb_lasti
    return offset


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
    if kind == K_RAISE and st.head > st.base:
        # RAISE repeats in every frame an exception propagates into: skip it right
        # after the callee's PY_UNWIND of the same type (as the C engine does).
        last = st.ring[(st.head - 1) & st.mask]
        if last is not None and last[1] == K_UNWIND and last[6] == tidx:
            return None
    depth = len(st.stack)
    if depth and st.stack[-1][0] is code:
        depth -= 1
    _put(st, (_now(), kind, idx, offset, min(depth, MAX_DEPTH), V_EXC if tidx >= 0 else V_VOID, tidx, None))
    return None


# Each callback runs on top of the program's frame. At the recursion limit its own
# calls would raise RecursionError here, replacing the program's (PY_UNWIND) or making
# AgentLog's frame the one that overflows; the event is dropped instead.
def on_py_start(code: CodeType, offset: int) -> object:
    try:
        return _enter(K_START, code, offset)
    except RecursionError:
        return None


def on_py_resume(code: CodeType, offset: int) -> object:
    try:
        return _enter(K_RESUME, code, offset)
    except RecursionError:
        return None


def on_py_throw(code: CodeType, offset: int, exc: BaseException) -> object:
    try:
        return _enter(K_THROW, code, offset)
    except RecursionError:
        return None


def on_py_return(code: CodeType, offset: int, value: object) -> object:
    try:
        return _leave(K_RETURN, code, offset, value)
    except RecursionError:
        return None


def on_py_yield(code: CodeType, offset: int, value: object) -> object:
    try:
        return _leave(K_YIELD, code, offset, value)
    except RecursionError:
        return None


def on_py_unwind(code: CodeType, offset: int, exc: BaseException) -> object:
    try:
        return _leave(K_UNWIND, code, offset, exc)
    except RecursionError:
        return None


def on_raise(code: CodeType, offset: int, exc: BaseException) -> object:
    try:
        return _exc_event(K_RAISE, code, offset, exc)
    except RecursionError:
        return None


def on_reraise(code: CodeType, offset: int, exc: BaseException) -> object:
    try:
        return _exc_event(K_RERAISE, code, offset, exc)
    except RecursionError:
        return None


def on_exception_handled(code: CodeType, offset: int, exc: BaseException) -> object:
    try:
        return _exc_event(K_HANDLED, code, offset, exc)
    except RecursionError:
        return None


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
    global _gen, _other_codes
    _gen += 1
    _other_codes = 0
    _states.clear()
    _codes.clear()
    _argnames.clear()
    _folded.clear()
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
    _tls.st = None  # the calling thread's ring goes too (other threads' go with their thread-locals)


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
            st.head - _held(st),
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
    n = _held(st)
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


def _held(st: _Thread) -> int:
    """Entries the ring holds now (the newest ones)."""
    return min(st.head - st.base, st.mask + 1)


def set_ring_budget(budget_bytes: int) -> None:
    """Bound all rings together to ``budget_bytes`` (counted in ``ENTRY_BYTES`` entries)."""
    global _budget
    _budget = max(0, budget_bytes) // ENTRY_BYTES


def ring_info(ident: int) -> tuple[int, bool]:
    """(entries the thread's ring can hold now, whether the budget held it below ring_size)."""
    st = _states.get(ident)
    return (0, False) if st is None else (st.mask + 1, st.reduced)


def memory() -> tuple[int, int, int, int, int]:
    """(ring bytes counted as C entries, rings, budget bytes, library-code verdicts cached, user codes)."""
    return (_ring_total() * ENTRY_BYTES, len(_states), _budget * ENTRY_BYTES, _other_codes,
            len(_codes) - _other_codes)  # fmt: skip


def profile() -> list[tuple[int, int, int, int]]:
    """[(code index, calls, total ns, self ns)] for every code that ran."""
    return [(i, s[0], s[1], s[2]) for i, s in sorted(_stats.items()) if s[0] or s[2]]


def types() -> list[type]:
    """The type table: V_SIZED/V_OBJ/V_EXC payloads index into it."""
    return list(_types)
