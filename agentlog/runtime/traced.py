"""``@agentlog.trace``: full argument/result recording for chosen functions, no wrapper.

The decorator returns the function unchanged (same object, same signature, same
``inspect`` answers) and registers its code object. While AgentLog runs (the
tracer's :func:`activate`), a second ``sys.monitoring`` tool sets LOCAL events on
exactly those code objects: PY_START reads the arguments from the starting frame,
PY_RETURN the result. Exceptions leaving a traced function come from PY_UNWIND,
which CPython only offers as a global event: it is enabled only while at least one
function is traced, and ``agentlog._tracer`` filters it in C so unwinding frames of
other code never reach Python (the pure-Python fallback checks a dict instead).

Each function keeps its last ``max_calls`` calls in memory; they go into failure
records (``traced``) and one ``traced`` record at exit. Values are bounded,
redacted descriptors from :class:`agentlog.capture.describe.Describer`.
"""

from __future__ import annotations

import _thread
import os
import sys
import time
from types import CodeType

from agentlog.core import selflog

TYPE_CHECKING = False
if TYPE_CHECKING:  # calls-mode activation imports this module: no collections, types, typing
    from collections import deque
    from collections.abc import Callable
    from types import FrameType
    from typing import Any, overload

TOOL_NAME = "agentlog-trace"
DEFAULT_MAX_CALLS = 20
MAX_OPEN_CALLS = 1024  # calls started but not finished, per function (deep recursion, live generators)


class _Spec:
    """One decorated function: its options and its last calls."""

    __slots__ = ("args", "calls", "code", "open", "result", "secret_result", "total")

    def __init__(self, code: CodeType, max_calls: int, args: bool, result: bool) -> None:
        self.code = code
        self.args = args
        self.result = result
        self.secret_result = False  # its name says it returns a secret (get_token): set when armed
        from collections import deque

        self.calls: deque[dict[str, Any]] = deque(maxlen=max(1, max_calls))
        self.open: dict[int, dict[str, Any]] = {}  # id(frame) -> call in progress
        self.total = 0


_specs: dict[CodeType, _Spec] = {}
_lock = _thread.allocate_lock()
_tool: int | None = None
_wanted = False  # the tracer runs: claim a tool id as soon as a function is decorated
_describer: Any = None
_c_filter: Any = None  # agentlog._tracer when it filters PY_UNWIND for us


if TYPE_CHECKING:

    @overload
    def trace[F: Callable[..., Any]](fn: F, /) -> F: ...
    @overload
    def trace[F: Callable[..., Any]](
        fn: None = None, /, *, max_calls: int = DEFAULT_MAX_CALLS, args: bool = True, result: bool = True
    ) -> Callable[[F], F]: ...


def trace(
    fn: Any = None,
    /,
    *,
    max_calls: int = DEFAULT_MAX_CALLS,
    args: bool = True,
    result: bool = True,
) -> Any:
    """Record each call's redacted arguments and result (or exception); returns ``fn`` itself.

    Works on functions, methods (also under ``staticmethod``/``classmethod``),
    async functions and generators. ``@trace`` and ``@trace(max_calls=5)`` both work.
    """
    if fn is None:
        return lambda f: trace(f, max_calls=max_calls, args=args, result=result)
    code = _code_of(fn)
    if code is None:
        selflog.warn_once("trace-not-function", f"@agentlog.trace ignored on {type(fn).__name__}")
        return fn
    with _lock:
        _specs[code] = _Spec(code, max_calls, args, result)
    if _tool is not None:
        _arm(code)
    elif _wanted:
        _claim()
    return fn


def _code_of(fn: Any) -> CodeType | None:
    target = getattr(fn, "__func__", fn)  # staticmethod, classmethod, bound method
    code = getattr(target, "__code__", None)
    return code if isinstance(code, CodeType) else None


def _events() -> tuple[int, int]:
    events = sys.monitoring.events
    return events.PY_START | events.PY_RETURN, events.PY_UNWIND


def _arm(code: CodeType) -> None:
    if _tool is None:
        return
    local, global_ = _events()
    try:
        from agentlog.core.redact import is_secret_function  # loaded by _claim's Describer already

        spec = _specs.get(code)
        if spec is not None:
            spec.secret_result = is_secret_function(code.co_name)
        if _c_filter is not None:
            _c_filter.add_traced_code(code)
        sys.monitoring.set_local_events(_tool, code, local)
        sys.monitoring.set_events(_tool, global_)
    except Exception as exc:  # noqa: BLE001
        selflog.report("traced.arm", exc)


def _unwind_callback() -> Callable[..., object]:
    """PY_UNWIND is global: let the C extension drop untraced frames when it can."""
    global _c_filter
    _c_filter = None
    if os.environ.get("AGENTLOG_ENGINE", "").strip().lower() != "python":
        try:
            from agentlog import _tracer  # type: ignore[attr-defined]
        except ImportError:
            pass
        else:
            _c_filter = _tracer
            return _tracer.traced_unwind_callback(_on_traced_unwind)
    return _on_unwind


def activate() -> None:
    """Start recording decorated functions (the tracer calls this). Idempotent.

    The tool id is claimed only once some function is decorated, so a program
    without ``@trace`` leaves that id free for other tools.
    """
    global _wanted
    _wanted = True
    if _specs:
        _claim()


def _claim() -> None:
    global _tool, _describer
    if _tool is not None:
        return
    from agentlog.capture.describe import Describer
    from agentlog.runtime.toolids import claim_tool_id

    # Callbacks must not import: everything they use is loaded here.
    _describer = Describer()
    tool = claim_tool_id(TOOL_NAME, _move)
    if tool is None:
        selflog.warn_once("no-tool-id-trace", "no free sys.monitoring tool id; @trace records nothing")
        return
    events = sys.monitoring.events
    sys.monitoring.register_callback(tool, events.PY_START, _on_start)
    sys.monitoring.register_callback(tool, events.PY_RETURN, _on_return)
    sys.monitoring.register_callback(tool, events.PY_UNWIND, _unwind_callback())
    _tool = tool
    with _lock:
        codes = list(_specs)
    for code in codes:
        _arm(code)


def _move() -> None:
    """The program asks for our tool id (runtime/toolids.py): claim another one."""
    deactivate()
    activate()


def deactivate() -> None:
    """Remove our events and callbacks and free our tool id; recorded calls are kept."""
    global _tool, _wanted
    _wanted = False
    tool, _tool = _tool, None
    if tool is None:
        return
    try:
        from agentlog.runtime.toolids import release_tool_id  # imported already: it claimed the id

        with _lock:
            codes = list(_specs)
        events = sys.monitoring.events
        release_tool_id(tool, TOOL_NAME, (events.PY_START, events.PY_RETURN, events.PY_UNWIND), codes)
    except Exception as exc:  # noqa: BLE001
        selflog.report("traced.deactivate", exc)


def after_fork() -> None:
    """A forked child starts with no calls in progress and none recorded."""
    global _lock
    _lock = _thread.allocate_lock()
    for spec in _specs.values():
        spec.calls.clear()
        spec.open.clear()
        spec.total = 0


def _describe(value: object, name: str | None = None) -> dict[str, Any]:
    try:
        return _describer.describe(value, name=name)
    except Exception as exc:  # noqa: BLE001 - a bad value becomes a marker, not a lost call
        return {"t": type(value).__name__, "note": f"describe failed: {type(exc).__name__}"}


def _on_start(code: CodeType, offset: int) -> object:
    spec = _specs.get(code)
    if spec is None:
        return sys.monitoring.DISABLE
    try:
        # A monitoring callback runs on top of the instrumented frame: it is our caller.
        frame = sys._getframe(1)
        call: dict[str, Any] = {"ts": round(time.time(), 6), "tid": _thread.get_ident()}
        if spec.args:
            count = code.co_argcount + code.co_kwonlyargcount
            count += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)  # *args, **kwargs
            f_locals = frame.f_locals
            call["args"] = {
                name: _describe(f_locals[name], name) for name in code.co_varnames[:count] if name in f_locals
            }
        call["t0"] = time.perf_counter_ns()
        spec.total += 1
        call["n"] = spec.total
        if len(spec.open) < MAX_OPEN_CALLS:
            spec.open[id(frame)] = call
    except Exception as exc:  # noqa: BLE001
        selflog.report("traced.start", exc)
    return None


def _finish(code: CodeType, frame: FrameType, key: str, value: object) -> None:
    spec = _specs.get(code)
    if spec is None:
        return
    try:
        call = spec.open.pop(id(frame), None)
        if call is None:
            return
        call["ns"] = time.perf_counter_ns() - call.pop("t0")
        if key == "exc":
            call["exc"] = _describe(value)
        elif spec.result:
            # get_token()'s result is hidden by its function's name (None, booleans and "" are not).
            call["r"] = _describe(value, code.co_name if spec.secret_result else "return")
        spec.calls.append(call)
    except Exception as exc:  # noqa: BLE001
        selflog.report("traced.finish", exc)


def _on_return(code: CodeType, offset: int, value: object) -> object:
    if code in _specs:
        _finish(code, sys._getframe(1), "r", value)
        return None
    return sys.monitoring.DISABLE


def _on_unwind(code: CodeType, offset: int, exc: BaseException) -> object:
    # Global event (cannot be DISABLEd): return at once for code nobody decorated.
    if code in _specs:
        _finish(code, sys._getframe(1), "exc", exc)
    return None


def _on_traced_unwind(code: CodeType, offset: int, exc: BaseException) -> None:
    # Called by the C filter (agentlog._tracer) only for decorated code. C calls push
    # no Python frame, so the unwinding frame is still our caller.
    _finish(code, sys._getframe(1), "exc", exc)


def snapshot() -> list[dict[str, Any]]:
    """Recorded calls per decorated function that ran: the ``traced`` field."""
    out = []
    with _lock:
        specs = list(_specs.values())
    for spec in specs:
        if not spec.total:
            continue
        code = spec.code
        out.append(
            {
                "f": code.co_qualname,
                "file": code.co_filename,
                "ln": code.co_firstlineno,
                "n": spec.total,
                "calls": [dict(call) for call in spec.calls],
            }
        )
    return out
