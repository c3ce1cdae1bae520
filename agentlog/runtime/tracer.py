"""The call trail: a ``sys.monitoring`` tool recording what user code did before a failure.

This module picks an engine (``agentlog._tracer`` in C, else the pure-Python
:mod:`agentlog.runtime.pytracer`), claims a tool id, decides once per code
object whether it is user code, and decodes the per-thread rings into the
``trail`` / ``threads`` / ``traced`` fields of a failure record and into the
``profile`` record written at exit. docs/FORMAT.md, "Call trail and profile
records", documents the output.

Public API: :func:`start`, :func:`stop`, :func:`status`, :func:`failure_fields`.
"""

from __future__ import annotations

import _thread
import atexit
import os
import sys

from agentlog.core import selflog
from agentlog.core.config import Config
from agentlog.runtime import exitwatch, traced
from agentlog.runtime.toolids import claim_tool_id, release_tool_id
from agentlog.runtime.tracer_types import (
    ENTER_KINDS,
    FOLDED_EVENT_NAMES,
    GLOBAL_EVENT_NAMES,
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
    LEAVE_KINDS,
    LEN_BITS,
    LOCAL_EVENT_NAMES,
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
    RawEntry,
    folded,
    ring_capacity,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # calls-mode activation imports this module: no typing, collections, types
    from collections.abc import Callable
    from types import CodeType, ModuleType
    from typing import Any

    from agentlog.runtime.tracer_engine import Engine

TOOL_NAME = "agentlog"
PROFILE_TOP = 50
ENGINE_ENV = "AGENTLOG_ENGINE"
AGENTLOG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Per-code tables stay bounded under code churn (exec/compile of user code in a loop):
# past MAX_USER_CODES user code objects the tables restart (and the trail with them).
MAX_USER_CODES = 8192
MAX_FILES = 4096  # filename -> verdict cache; cleared when full
END_NAMES = {K_RETURN: "ret", K_YIELD: "yield", K_UNWIND: "exc"}
START_NAMES = {K_RESUME: "resume", K_THROW: "throw"}


FREE_THREADED_REASON = "free-threaded build: call trail not supported yet"


class EngineUnavailable(RuntimeError):
    """``AGENTLOG_ENGINE=c`` was demanded but the C extension cannot be imported."""


class _State:
    """Everything one recording session holds; replaced wholesale by stop()."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.engine_name: str | None = None
        self.reason = ""
        self.tool_id: int | None = None
        self.config: Config | None = None
        self.codes: list[CodeType] = []  # user code objects; index = entry "code" field
        self.files: dict[str, bool] = {}  # filename -> is user code
        self.lines: dict[int, tuple[list[int], list[int]]] = {}  # code index -> (starts, lines)
        self.running = False
        self.restarts = 0  # times the code tables restarted (MAX_USER_CODES)


_state = _State()
_lock = _thread.RLock()  # _thread, not threading: calls-mode start-up stays without it
_process_hooks = False  # atexit and at-fork hooks are registered once per process
# (include, exclude) of the last session: DISABLE outlives stop()/start(), see _install.
_last_filters: tuple[tuple[str, ...], tuple[str, ...]] | None = None


def _library_roots() -> tuple[str, ...]:
    """Folders of library code: the standard library's and every site-packages.

    From ``os.__file__`` and ``site`` rather than ``sysconfig``, whose first use
    costs an activated process milliseconds; paths containing ``site-packages``
    or ``dist-packages`` are library code anyway (``is_user_file``).
    """
    roots = {AGENTLOG_DIR, os.path.dirname(os.__file__)}
    try:
        import site

        roots.update(site.getsitepackages())
        roots.add(site.getusersitepackages())
    except (AttributeError, OSError):
        pass  # a virtualenv's stripped ``site`` lacks these
    # Both spellings: a file the stdlib folder links to from elsewhere (Debian's
    # sitecustomize.py -> /etc/python3.X/) is the stdlib's, as is a linked stdlib folder.
    return tuple({os.path.join(form(r), "") for r in roots if r for form in (os.path.abspath, os.path.realpath)})


def is_user_file(filename: str, config: Config, roots: tuple[str, ...]) -> bool:
    """The user-code rule: not AgentLog; exclude globs win; include globs decide if
    given; otherwise not stdlib, frozen modules or site-packages."""
    if filename.startswith("<"):
        # "<frozen ...>" is the stdlib; "<string>" is mostly generated code (dataclass and
        # namedtuple methods, also ``python -c``); "<stdin>" and notebook cells are the user's.
        return not filename.startswith(("<frozen", "<string>"))
    path = os.path.realpath(filename)
    if path.startswith(os.path.join(AGENTLOG_DIR, "")):
        return False
    if config.exclude or config.include:
        verdict = _glob_verdict(path, config)
        if verdict is not None:
            return verdict
    if f"{os.sep}site-packages{os.sep}" in path or f"{os.sep}dist-packages{os.sep}" in path:
        return False
    return not path.startswith(roots) and not os.path.abspath(filename).startswith(roots)


def _glob_verdict(path: str, config: Config) -> bool | None:
    """False if an exclude glob matches; with include globs, whether one matches; else None."""
    import fnmatch

    # Globs match the absolute path or the path relative to the working directory.
    names = (path, os.path.relpath(path)) if path.startswith(os.getcwd()) else (path,)
    if any(fnmatch.fnmatch(name, glob) for glob in config.exclude for name in names):
        return False
    if config.include:
        return any(fnmatch.fnmatch(name, glob) for glob in config.include for name in names)
    return None


def _make_classifier(state: _State, config: Config) -> Callable[[CodeType], int]:
    """The per-code decision the engines call on a code object's first event."""
    roots = _library_roots()
    monitoring = sys.monitoring
    local_events = folded_events = 0
    for name in LOCAL_EVENT_NAMES:
        local_events |= getattr(monitoring.events, name)
    for name in FOLDED_EVENT_NAMES:
        folded_events |= getattr(monitoring.events, name)

    def classify(code: CodeType) -> int:
        try:
            verdict = state.files.get(code.co_filename)
            if verdict is None:
                if len(state.files) >= MAX_FILES:
                    state.files.clear()
                verdict = state.files[code.co_filename] = is_user_file(code.co_filename, config, roots)
            if not verdict or state.tool_id is None:
                return -1
            if len(state.codes) >= MAX_USER_CODES and state.engine is not None:
                _restart_tables(state, config, classify)
            # Return/yield/resume only for user code: library code never calls us for them.
            monitoring.set_local_events(state.tool_id, code, folded_events if folded(code) else local_events)
            state.codes.append(code)
            return len(state.codes) - 1
        except Exception as exc:  # noqa: BLE001 - runs inside a monitoring callback
            selflog.report("tracer.classify", exc)
            return -1

    return classify


def _restart_tables(state: _State, config: Config, classify: Callable[[CodeType], int]) -> None:
    """Forget every code object and start the trail afresh: the tables' bound under code churn."""
    assert state.engine is not None
    state.codes.clear()
    state.lines.clear()
    state.restarts += 1
    state.engine.configure(config.ring_size, classify, sys.monitoring.DISABLE, config.trail_args)


def free_threaded() -> bool:
    """A free-threaded (no-GIL) CPython build: the call trail does not run there yet."""
    if hasattr(sys, "abiflags"):  # POSIX: "t" marks the free-threaded build; no sysconfig needed
        return "t" in sys.abiflags
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def select_engine() -> tuple[ModuleType, str]:
    """(engine module, reason the C engine is not used or "")."""
    forced = os.environ.get(ENGINE_ENV, "").strip().lower()
    if forced == "python":
        from agentlog.runtime import pytracer

        return pytracer, f"{ENGINE_ENV}=python"
    try:
        from agentlog import _tracer  # type: ignore[attr-defined]
    except ImportError as exc:
        if forced == "c":
            raise EngineUnavailable(
                f"{ENGINE_ENV}=c but the C extension agentlog._tracer cannot be imported: {exc}. "
                "Rebuild with `python setup.py build_ext --inplace` (needs Cython and a C compiler) "
                f"or unset {ENGINE_ENV}."
            ) from exc
        from agentlog.runtime import pytracer

        selflog.warn_once("no-ctracer", f"C tracer unavailable ({exc}); using the slower pure-Python one")
        return pytracer, f"ImportError: {exc}"
    return _tracer, ""


def start(config: Config) -> None:
    """Record the call trail and ``@agentlog.trace`` calls if ``config.trace == "calls"``.

    Idempotent. Never raises, except :class:`EngineUnavailable` when
    ``AGENTLOG_ENGINE=c`` cannot be honoured.
    """
    if config.trace != "calls":
        return
    _start_trail(config)
    try:
        # After the trail, so the trail gets the first free tool id (3).
        traced.activate()
    except Exception as exc:  # noqa: BLE001
        selflog.report("tracer.start(traced)", exc)


def _start_trail(config: Config) -> None:
    global _state
    with _lock:
        if _state.running:
            return
        state = _State()
        state.config = config
        try:
            if free_threaded():
                state.reason = FREE_THREADED_REASON
                selflog.warn_once("free-threaded", f"{state.reason}; recording crashes only")
                _state = state
                return
            module, state.reason = select_engine()
            engine: Engine = module  # type: ignore[assignment]
            state.engine, state.engine_name = engine, module.NAME
            state.tool_id = claim_tool_id(TOOL_NAME, _move_trail)
            if state.tool_id is None:
                state.reason = "every unreserved sys.monitoring tool id (3-5) is in use"
                selflog.warn_once("no-tool-id", f"{state.reason}; recording crashes only")
                state.engine = None
                _state = state
                return
            _state = state
            _install(state, engine, config)
            state.running = True
            exitwatch.trail_started(engine)
            _register_process_hooks()
        except EngineUnavailable:
            _state = _State()
            raise
        except Exception as exc:  # noqa: BLE001 - never break the user's program
            selflog.report("tracer.start", exc)
            stop()
            _state.reason = f"start failed: {type(exc).__name__}: {exc}"


def _install(state: _State, engine: Engine, config: Config) -> None:
    global _last_filters
    monitoring = sys.monitoring
    tool = state.tool_id
    assert tool is not None
    filters = (config.include, config.exclude)
    if _last_filters is not None and _last_filters != filters:
        # DISABLE is sticky per code location: code a previous session judged to be
        # library code would stay silent. restart_events() re-arms every tool's
        # events, so only call it when the verdicts can differ.
        monitoring.restart_events()
    _last_filters = filters
    engine.configure(config.ring_size, _make_classifier(state, config), monitoring.DISABLE, config.trail_args)
    engine.set_ring_budget(config.ring_budget)
    callbacks = engine.callbacks()
    events = 0
    for name in (*GLOBAL_EVENT_NAMES, *LOCAL_EVENT_NAMES):
        monitoring.register_callback(tool, getattr(monitoring.events, name), callbacks[name])
    for name in GLOBAL_EVENT_NAMES:
        events |= getattr(monitoring.events, name)
    monitoring.set_events(tool, events)


def _move_trail() -> None:
    """The program asks for our tool id (runtime/toolids.py): restart the trail on another one."""
    config = _state.config
    stop()
    if config is not None:
        start(config)


def stop() -> None:
    """Uninstall completely: events (global and local), callbacks, our tool id, rings."""
    global _state
    with _lock:
        state, _state = _state, _State()
        state.running = False
        traced.deactivate()
        tool = state.tool_id
        if tool is None:
            exitwatch.trail_stopped()
            return
        try:
            events = [getattr(sys.monitoring.events, name) for name in (*GLOBAL_EVENT_NAMES, *LOCAL_EVENT_NAMES)]
            release_tool_id(tool, TOOL_NAME, events, state.codes)
        except Exception as exc:  # noqa: BLE001
            selflog.report("tracer.stop", exc)
        exitwatch.trail_stopped()  # after our id is free: the exit watcher may take it
        if state.engine is not None:
            state.engine.release()


def args_status(engine: object, config: Config) -> str:
    """Whether the trail records argument values with this engine, and if not, why."""
    if not config.trail_args:
        return "off (trail_args / AGENTLOG_TRAIL_ARGS is off)"
    if engine is None:
        return "off (no call trail)"
    if getattr(engine, "ARGS_SUPPORTED", False):
        return "on"
    why = getattr(engine, "ARGS_OFF_REASON", None) or "this engine cannot read argument values here"
    return f"off: {why}, so calls are recorded without argument values; {ENGINE_ENV}=python records them, slower"


def status() -> dict[str, Any]:
    """Engine, why not C, tool id, mode, ring size, argument capture, whether recording is on, events."""
    from agentlog.core.config import get_config

    state = _state
    config = state.config or get_config()
    reason = state.reason
    if state.engine is None and not reason:
        reason = "not started" if config.trace == "calls" else f"trace mode is {config.trace!r}"
    return {
        "engine": state.engine_name if state.running else None,
        "reason": reason,
        "tool_id": state.tool_id if state.running else None,
        "mode": config.trace,
        "ring_size": ring_capacity(config.ring_size),
        "args": args_status(state.engine, config),
        "running": state.running,
        "events": sum(info[2] for info in state.engine.thread_infos())
        if state.running and state.engine is not None
        else 0,
        **(_memory_status(state) if state.running and state.engine is not None else {}),
    }


def _memory_status(state: _State) -> dict[str, int]:
    """What the rings and per-code tables hold now (README, "Bounds")."""
    assert state.engine is not None
    ring_bytes, rings, budget, other_codes, user_codes = state.engine.memory()
    return {"ring_bytes": ring_bytes, "rings": rings, "ring_budget": budget,
            "codes": user_codes, "library_codes": other_codes, "restarts": state.restarts}


def _register_process_hooks() -> None:
    global _process_hooks
    if _process_hooks:
        return
    _process_hooks = True
    atexit.register(_flush_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)


def _after_fork() -> None:
    state = _state
    if state.running and state.engine is not None:
        state.engine.after_fork()
    traced.after_fork()


# ---- decoding (cold path) ----------------------------------------------------


CO_NEWLOCALS = 0x0002  # inspect.CO_NEWLOCALS: set for functions, not for class bodies (inspect is slow to import)


def _code_name(code: CodeType) -> str:
    """The qualname, or ``class X body`` for a class statement's code (it is not a call of X)."""
    if code.co_flags & CO_NEWLOCALS or code.co_name == "<module>":
        return code.co_qualname
    return f"class {code.co_qualname} body"


def value_descriptor(vtag: int, payload: int | float, types: list[type]) -> dict[str, Any] | None:
    """A value descriptor (docs/FORMAT.md) from an entry's summary, or None."""
    from agentlog.capture.describe import type_name  # cold path: decoding after a failure

    if vtag == V_NONE:
        return {"t": "NoneType", "v": "None"}
    if vtag == V_BOOL:
        return {"t": "bool", "v": str(bool(payload))}
    if vtag == V_INT:
        return {"t": "int", "v": str(payload)}
    if vtag == V_BIGINT:
        return {"t": "int", "v": ">= 2**63" if payload > 0 else "< -2**63"}
    if vtag == V_FLOAT:
        return {"t": "float", "v": repr(float(payload))}
    if vtag == V_STR:
        return {"t": "str", "l": int(payload)}
    if vtag == V_BYTES:
        return {"t": "bytes", "l": int(payload)}
    if vtag == V_SIZED:
        index, length = int(payload) >> LEN_BITS, int(payload) & ((1 << LEN_BITS) - 1)
        name = type_name(types[index]) if index < len(types) else "?"
        return {"t": name, "l": length}
    if vtag in (V_OBJ, V_EXC):
        index = int(payload)
        return {"t": type_name(types[index]) if 0 <= index < len(types) else "?"}
    if vtag == V_TYPE:
        index = int(payload)
        # As a local's class reads (describe.py): "<class int>", "<class app.models.User>".
        return {"t": "type", "v": f"<class {type_name(types[index])}>"} if 0 <= index < len(types) else {"t": "type"}
    return None


_SUMMARIZED = object()  # stands for a value known only by its summary


def _plain_value(vtag: int, payload: int | float) -> object:
    """The value itself when its summary says it all (None, a bool, the empty string), else a stand-in."""
    if vtag == V_NONE:
        return None
    if vtag == V_BOOL:
        return bool(payload)
    return "" if vtag == V_STR and payload == 0 else _SUMMARIZED


def _line(state: _State, idx: int, offset: int) -> int:
    table = state.lines.get(idx)
    code = state.codes[idx]
    if table is None:
        spans = list(code.co_lines())
        starts = [start for start, _end, _line in spans]
        # Lineless spans take the line of the code that follows: EXCEPTION_HANDLED fires
        # on PUSH_EXC_INFO, which belongs to the ``except`` clause after it. Trailing
        # ones (the re-raise ending a ``finally`` or ``with``) take the line before.
        following: list[int | None] = []
        after: int | None = None
        for _start, _end, line in reversed(spans):
            after = line if line is not None else after
            following.append(after)
        following.reverse()
        lines: list[int] = []
        before = code.co_firstlineno
        for (_start, _end, line), next_line in zip(spans, following, strict=True):
            before = line if line is not None else before
            lines.append(line if line is not None else next_line or before)
        table = state.lines[idx] = (starts, lines)
    from bisect import bisect_right

    pos = bisect_right(table[0], offset) - 1
    return table[1][pos] if pos >= 0 and offset > 0 else code.co_firstlineno


class _TrailBuilder:
    """Turns raw entries into the ``trail`` dict: nested calls, oldest first."""

    def __init__(self, state: _State, types: list[type]) -> None:
        self.state = state
        self.types = types
        self.fn_index: dict[int, int] = {}
        self.fns: list[list[Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.open: list[tuple[int, int, dict[str, Any]]] = []  # (code idx, depth, node)
        self.inflight: tuple[str, str] | None = None  # (exception type, "fn:line" first seen)
        self.last_handled: tuple[int, int, str, dict[str, Any]] | None = None
        self.last_start: tuple[int, dict[str, Any]] | None = None  # K_ARG entries belong to it
        self.last_end: dict[str, Any] | None = None  # K_VALUE entries belong to it
        self.base = 0
        self.newest_ns = 0

    def fn(self, idx: int) -> int:
        ref = self.fn_index.get(idx)
        if ref is None:
            code = self.state.codes[idx]
            ref = self.fn_index[idx] = len(self.fns)
            lines = [line for _start, _end, line in code.co_lines() if line is not None]
            self.fns.append([_code_name(code), code.co_filename, code.co_firstlineno, max(lines, default=0)])
        return ref

    def where(self, idx: int, offset: int) -> str:
        return f"{self.state.codes[idx].co_qualname}:{_line(self.state, idx, offset)}"

    def feed(self, entries: list[RawEntry]) -> None:
        self.base = min((e[4] for e in entries if e[1] not in (K_ARG, K_VALUE)), default=0)
        self.newest_ns = max((e[0] for e in entries), default=0)
        for ns, kind, idx, offset, depth, vtag, payload, text in entries:
            if kind == K_ARG:
                self.arg(depth, vtag, payload, text)
                continue
            if kind == K_VALUE:
                self.item(depth, vtag, payload, text)
                continue
            self.last_start = self.last_end = None
            if idx < 0 or idx >= len(self.state.codes):
                continue
            if kind in ENTER_KINDS:
                self.enter(ns, kind, idx, depth)
            elif kind in LEAVE_KINDS:
                self.leave(ns, kind, idx, offset, depth, vtag, payload)
            elif kind in (K_RAISE, K_RERAISE):
                name = self.exc_name(vtag, payload)
                if kind == K_RERAISE and self.retract(idx, depth, name):
                    continue
                if self.inflight is None or self.inflight[0] != name:
                    self.inflight = (name, self.where(idx, offset))
            elif kind == K_HANDLED:
                self.handled(idx, offset, depth, vtag, payload)

    def value(self, vtag: int, payload: int | float, text: bytes | None) -> dict[str, Any] | None:
        """A descriptor from a summary; a text prefix becomes a (redacted) preview."""
        from agentlog.core.redact import MARKER_RE, redact_prefix, redact_text  # cold path: decoding

        desc = value_descriptor(vtag, payload, self.types)
        if desc is None or text is None:
            return desc
        shown = text.decode("utf-8", "replace") if vtag == V_STR else text.decode("latin-1")
        cut = int(payload) > len(shown)
        clean = redact_prefix(shown) if cut else redact_text(shown)
        if clean != shown:
            found = MARKER_RE.search(clean)
            desc["red"] = found.group()[len("[REDACTED:") : -1] if found else "shape"
        if vtag == V_STR:
            desc["v"] = repr(clean)
        else:
            desc["v"] = "b" + repr(clean) if clean != shown else repr(text)
        if cut:
            desc["x"] = int(payload) - len(shown)
        return desc

    def arg(self, slot: int, vtag: int, payload: int | float, text: bytes | None) -> None:
        """An argument of the call that just started, named from its code object."""
        if self.last_start is None:
            return  # the window begins between a call and its arguments
        idx, node = self.last_start
        names = self.state.codes[idx].co_varnames
        name = names[slot] if slot < len(names) else f"arg{slot}"
        desc = self.value(vtag, payload, text)
        if desc is None:
            return
        from agentlog.core.redact import cannot_be_secret, is_secret_name, marker

        if not cannot_be_secret(_plain_value(vtag, payload)) and is_secret_name(name):
            desc = {"t": desc["t"], "v": marker("name"), "red": "name"}
        node.setdefault("a", {})[name] = desc

    def item(self, index: int, vtag: int, payload: int | float, text: bytes | None) -> None:
        """The returned value's text, or one item of the short tuple it was."""
        node = self.last_end
        desc = self.value(vtag, payload, text)
        if node is None or desc is None:
            return
        result = node.get("r")
        if result is not None and result.get("t") == "tuple" and "l" in result:
            result.setdefault("items", []).append(desc)
        elif index == 0:
            node["r"] = desc

    def exc_name(self, vtag: int, payload: int | float) -> str:
        desc = value_descriptor(vtag, payload, self.types)
        return desc["t"] if desc else "?"

    def enter(self, ns: int, kind: int, idx: int, depth: int) -> None:
        self.inflight = None
        node: dict[str, Any] = {"c": self.fn(idx), "d": depth - self.base, "t0": ns}
        if kind in START_NAMES:
            node["k"] = START_NAMES[kind]
        self.calls.append(node)
        self.open.append((idx, depth, node))
        if kind == K_START:
            self.last_start = (idx, node)

    def leave(self, ns: int, kind: int, idx: int, offset: int, depth: int, vtag: int, payload: int | float) -> None:
        node = None
        for pos in range(len(self.open) - 1, -1, -1):
            if self.open[pos][0] == idx and self.open[pos][1] == depth:
                node = self.open[pos][2]
                del self.open[pos:]
                break
        if node is None:
            # Its start is older than the window (or than install): show where it ended.
            node = {"c": self.fn(idx), "d": depth - self.base, "pre": True}
            self.calls.append(node)
        elif ns >= 0 and not folded(self.state.codes[idx]):
            # No duration for a return the engine did not time (ns -1: a sampled-out leaf
            # call), nor for a generator expression, which ran in pieces.
            node["ns"] = ns - node["t0"]
        if self.last_handled is not None and self.last_handled[:2] == (idx, depth):
            self.last_handled = None  # the frame is gone: its handled exception stays handled
        node["end"] = END_NAMES[kind]
        node["ln"] = _line(self.state, idx, offset)
        desc = value_descriptor(vtag, payload, self.types)
        if kind == K_UNWIND:
            node["e"] = desc["t"] if desc else "?"
        else:
            self.inflight = None
            self.last_end = node
            if desc is not None:
                node["r"] = desc

    def retract(self, idx: int, depth: int, name: str) -> bool:
        """Undo the last ``handled`` item if this RERAISE re-raises what it caught.

        ``finally``, ``with`` and the implicit handler CPython wraps around every
        generator body (StopIteration -> RuntimeError) catch an exception only to
        re-raise it: EXCEPTION_HANDLED then RERAISE in the same frame.
        """
        last = self.last_handled
        self.last_handled = None
        if last is None or last[:3] != (idx, depth, name):
            return False
        item = last[3]
        self.calls.remove(item)
        self.inflight = (name, item["at"])
        return True

    def handled(self, idx: int, offset: int, depth: int, vtag: int, payload: int | float) -> None:
        name = self.exc_name(vtag, payload)
        origin = self.inflight[1] if self.inflight and self.inflight[0] == name else None
        self.inflight = None
        # Nested under the handling call when it is in the window (it is not when the
        # handler's frame started before install, e.g. a module body).
        inside = any(i == idx and d == depth for i, d, _node in self.open)
        item = {
            "ev": "handled",
            "c": self.fn(idx),
            "d": depth - self.base + inside,
            "e": name,
            "at": origin or self.where(idx, offset),
            "ln": _line(self.state, idx, offset),
        }
        self.calls.append(item)
        self.last_handled = (idx, depth, name, item)

    def result(self) -> list[dict[str, Any]]:
        """The calls, each start as ``ago``: ns before the window's newest entry (the failure's last event)."""
        for node in self.calls:
            if "t0" in node:
                node["ago"] = self.newest_ns - node.pop("t0")
        return self.calls


def decode_trail(ident: int, max_calls: int) -> dict[str, Any]:
    """The ``trail`` field: a thread's last ``max_calls`` calls, decoded."""
    state = _state
    engine = state.engine
    if engine is None:
        return {}
    entries, written, dropped = engine.entries(ident, max_calls)
    builder = _TrailBuilder(state, engine.types())
    builder.feed(entries)
    trail = {
        "engine": state.engine_name,
        "tid": ident,
        "events": written,
        "dropped": dropped,
        "fn": builder.fns,
        "calls": builder.result(),
    }
    capacity, reduced = engine.ring_info(ident)
    if reduced:  # the ring budget held this thread's ring below ring_size
        trail["ring"] = capacity
    if state.restarts:
        trail["restarts"] = state.restarts
    if state.config is not None and state.config.trail_args and not engine.ARGS_SUPPORTED:
        trail["noargs"] = getattr(engine, "ARGS_OFF_REASON", None) or "not supported by this engine"
    return trail


AGENTLOG_THREAD_PREFIX = "agentlog-"  # describe.REPR_THREAD_NAME is "agentlog-repr"


def thread_summaries(exclude: int | None = None) -> list[dict[str, Any]]:
    """One line's worth per other thread that recorded: name, current function, depth.

    AgentLog's own helper threads (the guarded-repr worker) are left out.
    """
    state = _state
    if state.engine is None:
        return []
    import threading  # loaded already in a program that has threads

    names = {t.ident: t.name for t in threading.enumerate()}
    out = []
    for ident, alive, written, dropped, depth, top in state.engine.thread_infos():
        if ident == exclude or not alive or names.get(ident, "").startswith(AGENTLOG_THREAD_PREFIX):
            continue
        item: dict[str, Any] = {
            "tid": ident,
            "th": names.get(ident, "?"),
            "d": depth,
            "events": written,
            "dropped": dropped,
        }
        if 0 <= top < len(state.codes):
            item["fn"] = state.codes[top].co_qualname
        out.append(item)
    return out


def failure_fields(thread_id: int) -> dict[str, Any]:
    """``trail``, ``threads`` and ``traced`` for a failure record; {} when not recording."""
    state = _state
    fields: dict[str, Any] = {}
    if not state.running or state.engine is None or state.config is None:
        return fields
    try:
        paused = state.engine.set_paused(True)
        try:
            fields["trail"] = decode_trail(thread_id, state.config.trail_calls)
            fields["threads"] = thread_summaries(exclude=thread_id)
        finally:
            state.engine.set_paused(paused)
        calls = traced.snapshot()
        if calls:
            fields["traced"] = calls
    except Exception as exc:  # noqa: BLE001 - called from crash hooks
        selflog.report("tracer.failure_fields", exc)
    return fields


def profile_fields(top: int = PROFILE_TOP) -> dict[str, Any]:
    """The ``profile`` record body: per user function calls, total and self ns, by self time."""
    state = _state
    if state.engine is None:
        return {}
    rows = []
    for idx, calls, total, own in state.engine.profile():
        if 0 <= idx < len(state.codes):
            code = state.codes[idx]
            rows.append(
                {
                    "f": code.co_qualname,
                    "file": code.co_filename,
                    "ln": code.co_firstlineno,
                    "n": calls,
                    "tot": total,
                    "self": own,
                }
            )
    rows.sort(key=lambda row: row["self"], reverse=True)
    return {"engine": state.engine_name, "fns": rows[:top], "more": max(0, len(rows) - top)}


@selflog.quiet_at_exit
def _flush_at_exit() -> None:
    """atexit: append the profile record and the @trace record, then uninstall."""
    from agentlog import store

    try:
        if _state.running:
            body = profile_fields()
            if body.get("fns"):
                store.append(store.make_record("profile", **body))
        calls = traced.snapshot()
        if calls:
            store.append(store.make_record("traced", fns=calls))
    except Exception as exc:  # noqa: BLE001
        selflog.report("tracer.flush", exc)
    stop()
