"""A non-zero ``SystemExit`` leaving the ``__main__`` module, seen without the launcher.

The interpreter handles a ``SystemExit`` that leaves ``__main__`` itself: no
``sys.excepthook`` runs, and by ``atexit`` time the exception and its frames are
gone. So under ``AGENTLOG=true`` a ``sys.monitoring`` tool watches PY_UNWIND while
the exception is still on its way out: when it unwinds ``__main__``'s ``<module>``
frame, its traceback holds every frame from the raise up, locals intact, and
:func:`agentlog.runtime.hooks.record_exit` records it. The exit itself goes on
untouched (the callback returns None, nothing is printed).

PY_UNWIND cannot be a local event, so every unwinding frame of the process reaches
the callback: ``agentlog._tracer`` drops all but a ``SystemExit``'s in C. A Python
callback for every unwind cost ~28% on exception-heavy code, so without the C
extension only the (already pure-Python) ``calls`` mode watches exits in Python.

In ``calls`` mode with the C engine the call trail's own PY_UNWIND callback already
sees every unwind: while the trail runs it covers exits (:func:`trail_started`) and
this watcher holds no tool id; when the trail stops (or yields its id and cannot
take another) the watcher takes one of its own again.
"""

from __future__ import annotations

import os
import sys

from agentlog.core import selflog

TYPE_CHECKING = False
if TYPE_CHECKING:  # installed as every activated process starts: no collections, typing
    from collections.abc import Callable
    from types import CodeType

TOOL_NAME = "agentlog-exit"
_tool: int | None = None  # our own tool id, while the trail does not cover exits
_trace: str | None = None  # the trace mode install() was given; None: not watching
_trail: object = None  # the running C engine whose trail covers exits (trail_started)


def install(trace: str) -> bool:
    """Watch for the program's exit; True if watching. Idempotent, never raises."""
    global _trace
    if not watching():
        _trace = trace
        _sync()
    return watching()


def uninstall() -> None:
    """Stop watching: no handler in the trail, no tool id of ours."""
    global _trace
    _trace = None
    _sync()


def trail_started(engine: object) -> None:
    """The call trail runs with ``engine``: if it can (the C engine), it covers exits from now on."""
    global _trail
    if getattr(engine, "set_trail_exit_handler", None) is not None:
        _trail = engine
        _sync()


def trail_stopped() -> None:
    """The call trail stops: exits go back to a tool id of our own (if watching)."""
    global _trail
    if _trail is not None:
        trail, _trail = _trail, None
        _set_trail_handler(trail, None)
        _sync()


def watching() -> bool:
    """Whether the exit watcher is on in this process."""
    return _trace is not None and (_trail is not None or _tool is not None)


def _sync() -> None:
    """Make the hooks match the wishes: the trail's handler or our own tool id, or neither."""
    if _trail is not None:
        _release_tool()
        _set_trail_handler(_trail, on_exit_unwind if _trace is not None else None)
    elif _trace is None:
        _release_tool()
    elif _tool is None:
        _claim_tool(_trace)


def _set_trail_handler(engine: object, handler: Callable[..., object] | None) -> None:
    try:
        engine.set_trail_exit_handler(handler)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001
        selflog.report("exitwatch.trail", exc)


def _claim_tool(trace: str) -> None:
    """Watch PY_UNWIND from a tool id of our own. Never raises."""
    global _tool
    try:
        callback = _callback(trace)
        if callback is None:
            selflog.warn_once("exit-watch-no-c", "the C extension is not loaded: a SystemExit under "
                                                 "AGENTLOG=true is recorded only in calls mode or by the launcher")
            return
        from agentlog.runtime.toolids import claim_tool_id

        tool = claim_tool_id(TOOL_NAME, _move)
        if tool is None:
            selflog.warn_once("no-tool-id-exit", "no free sys.monitoring tool id; exits are recorded "
                                                 "only under the launcher")
            return
        monitoring = sys.monitoring
        monitoring.register_callback(tool, monitoring.events.PY_UNWIND, callback)
        monitoring.set_events(tool, monitoring.events.PY_UNWIND)
        _tool = tool
    except Exception as exc:  # noqa: BLE001 - activation must never break the program
        selflog.report("exitwatch.install", exc)


def _callback(trace: str) -> Callable[..., object] | None:
    """The C filter when the extension loads, else a Python one in ``calls`` mode, else None."""
    if os.environ.get("AGENTLOG_ENGINE", "").strip().lower() != "python":
        try:
            from agentlog import _tracer  # type: ignore[attr-defined]
        except ImportError:
            pass
        else:
            return _tracer.exit_unwind_callback(on_exit_unwind)
    return _on_any_unwind if trace == "calls" else None


def _on_any_unwind(code: CodeType, offset: int, exc: BaseException) -> None:
    if isinstance(exc, SystemExit):
        on_exit_unwind(code, offset, exc)


def on_exit_unwind(code: CodeType, offset: int, exc: BaseException) -> None:
    """A ``SystemExit`` unwinds ``code``'s frame: record it if that frame is ``__main__``'s module."""
    try:
        if code.co_name != "<module>":
            return
        from agentlog.runtime import hooks

        tb = exc.__traceback__
        # The traceback grows outward: its head is the frame being unwound now.
        if hooks.launched or tb is None or tb.tb_frame.f_code is not code:
            return  # the launcher records exits itself, with its own frames trimmed
        if (tb.tb_frame.f_globals.get("__name__") == "__main__" and isinstance(exc, SystemExit)
                and not _multiprocessing_child()):
            hooks.record_exit(exc)
    except Exception as err:  # noqa: BLE001 - the exit must go on untouched
        selflog.report("exitwatch", err)


def _multiprocessing_child() -> bool:
    """A spawn or forkserver child exits through ``spawn_main``'s ``sys.exit(exitcode)`` from its
    ``-c`` main: multiprocessing's own exit (its target's failure is recorded as ``mp_process``)."""
    process = sys.modules.get("multiprocessing.process")
    return process is not None and process.parent_process() is not None


def _move() -> None:
    """The program asks for our tool id (runtime/toolids.py): watch from another one."""
    _release_tool()
    _sync()


def _release_tool() -> None:
    """Remove our event, callback and tool id."""
    global _tool
    tool, _tool = _tool, None
    if tool is None:
        return
    try:
        from agentlog.runtime.toolids import release_tool_id  # imported already: it claimed the id

        release_tool_id(tool, TOOL_NAME, (sys.monitoring.events.PY_UNWIND,))
    except Exception as exc:  # noqa: BLE001
        selflog.report("exitwatch.uninstall", exc)
