"""Crash hooks: every place an exception can go unhandled, chained after existing hooks.

Covered: ``sys.excepthook``, ``threading.excepthook``, ``sys.unraisablehook``,
asyncio's loop exception handler (unretrieved task exceptions, callback errors),
and multiprocessing children (``Pool``/``ProcessPoolExecutor`` workers and
``Process.run``), where the worker-side frames and locals are still alive.
Each hook records first, then calls the hook it replaced, so output is unchanged.
"""

from __future__ import annotations

import atexit
import os
import sys

from agentlog.core import ownimports, selflog
from agentlog.runtime import importhooks

TYPE_CHECKING = False
if TYPE_CHECKING:  # every activated process imports this module: no typing, types, threading
    import threading
    from types import ModuleType, TracebackType
    from typing import Any

# (owner, attribute, original, replacement), in installation order.
_patches: list[tuple[Any, str, Any, Any]] = []
_unhandled_interrupt = False


def _record(
    exc: BaseException | None,
    source: str,
    tb: TracebackType | None = None,
    thread: threading.Thread | None = None,
) -> None:
    """Record a failure; anything going wrong inside AgentLog ends up in errors.log.

    Never raises: at interpreter shutdown even an import fails (sys.meta_path is
    None), and the hook we replaced must still run.
    """
    if exc is None:
        return
    try:
        with ownimports.own_modules():
            from agentlog.capture.failure import record_failure

            record_failure(exc, source, tb=tb, thread=thread)
    except Exception as err:  # noqa: BLE001 - a hook must never fail the user's program
        selflog.report(f"hook {source}", err)


# Set by the launcher: only then do the leading runpy/AgentLog frames of a traceback
# belong to us (under AGENTLOG=true, runpy frames are the program's own `python -m`).
launched = False


def trim_launcher_frames(tb: TracebackType | None) -> TracebackType | None:
    """Drop the leading entries of ``python -m agentlog`` itself: its runpy frames, then ours.

    The runpy frames after ours are kept: ``agentlog -m pkg`` shows them as ``python -m pkg`` does.
    """
    if not launched:
        return tb
    from agentlog.capture.codepaths import is_agentlog_frame

    for is_ours in (_is_runpy, lambda f: is_agentlog_frame(f) and not _is_runpy(f)):
        while tb is not None and tb.tb_next is not None and is_ours(tb.tb_frame):
            tb = tb.tb_next
    return tb


def _is_runpy(frame: Any) -> bool:
    return frame.f_code.co_filename == "<frozen runpy>"


def record_unhandled(exc: BaseException) -> None:
    """The launcher saw ``exc`` leave the program: record it even if sys.excepthook is not ours."""
    _note_interrupt(exc)
    _record(exc, "excepthook", trim_launcher_frames(exc.__traceback__))


def exit_code(exc: SystemExit) -> int:
    """The status a ``SystemExit`` ends the process with, as the interpreter decides it."""
    code = exc.code
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def record_exit(exc: SystemExit) -> None:
    """The launcher saw a non-zero ``SystemExit`` leave the program: a failure, if the program raised it.

    Raised by the program: at least one of its own frames is on the traceback (``sys.exit``
    in a script, ``argparse``'s ``parser.error`` called from it), not a runner's own exit
    (``unittest.main()``'s verdict: its failing tests are recorded as they fail).
    What a library printed as it raised the exit (argparse's, click's message) goes in ``exitmsg``.
    """
    with ownimports.own_modules():
        _record_exit(exc)


def _record_exit(exc: SystemExit) -> None:
    try:
        from agentlog.capture.codepaths import is_user_file
        from agentlog.capture.failure import record_failure

        code = exit_code(exc)
        from agentlog.work.session import note_exit

        note_exit(code)  # the session's outcome says it (work/session.py)
        tb = trim_launcher_frames(exc.__traceback__)
        frames, entry = [], tb
        while entry is not None:
            frames.append(entry.tb_frame)
            entry = entry.tb_next
        runner = bool(frames) and frames[-1].f_globals.get("__name__") in RUNNER_EXIT_MODULES
        if code != 0 and not runner and any(is_user_file(f.f_code.co_filename) for f in frames):
            from agentlog.capture.exitmessage import exit_message

            message = exit_message(exc, tb)
            record_failure(exc, "exit", tb=tb, exit=code, **({"exitmsg": message} if message else {}))
    except Exception as err:  # noqa: BLE001 - the exit must go on untouched
        selflog.report("hook exit", err)


# A SystemExit raised in these modules is a test runner's verdict, not the program's failure.
RUNNER_EXIT_MODULES = ("unittest.main",)


def _patch_unittest(result_module: ModuleType) -> None:
    """Record each failing test of a ``unittest`` run (``unittest.main()``, a TextTestRunner) as it fails.

    The runner catches the test's exception, so no hook sees it; ``src`` is ``unittest``
    and ``test`` the test's id (a subtest's parameters in brackets, as pytest writes them).
    Under pytest, TestCase methods report to pytest's own result object, not to this one.
    """
    result_class = result_module.TestResult

    def recording(name: str) -> Any:
        original = getattr(result_class, name)

        @ownimports.hands_over
        def add(self: Any, test: Any, *args: Any) -> Any:
            err = args[-1] if args else None
            if isinstance(err, tuple) and len(err) == 3 and isinstance(err[1], BaseException):
                _record_test(err[1], err[2], test, args[0] if name == "addSubTest" else None)
            return original(self, test, *args)

        add.__name__ = add.__qualname__ = name
        return add

    for name in ("addError", "addFailure", "addSubTest"):
        _patch(result_class, name, recording(name))


def _record_test(exc: BaseException, tb: TracebackType | None, test: Any, subtest: Any) -> None:
    try:
        from agentlog.capture.failure import record_failure

        test_id = str(test.id())
        if subtest is not None:
            params = str(subtest.id())[len(test_id) :].strip()
            test_id += f"[{params.removeprefix('(').removesuffix(')')}]" if params else ""
        record_failure(exc, "unittest", tb=tb, test=f"{test_id} (call)")
    except Exception as err:  # noqa: BLE001 - a hook must never fail the user's program
        selflog.report("hook unittest", err)


def _note_interrupt(exc: BaseException | None) -> None:
    global _unhandled_interrupt
    if isinstance(exc, KeyboardInterrupt):
        _unhandled_interrupt = True


def _patch(owner: Any, attr: str, replacement: Any) -> None:
    original = getattr(owner, attr)
    _patches.append((owner, attr, original, replacement))
    setattr(owner, attr, ownimports.hands_over(replacement))
    # sys.__excepthook__ (and __unraisablehook__, threading.__excepthook__) keep what the
    # interpreter started with; programs test ``sys.excepthook is sys.__excepthook__`` to
    # learn whether anyone replaced the hook. Nobody did, as far as the program is concerned.
    dunder = f"__{attr}__"
    if getattr(owner, dunder, None) is original:
        _patches.append((owner, dunder, original, replacement))
        setattr(owner, dunder, replacement)


def _excepthook_wrapper(previous: Any) -> Any:
    def agentlog_excepthook(exc_type: type[BaseException], exc: BaseException,
                            tb: TracebackType | None) -> None:
        if launched:
            try:
                tb = trim_launcher_frames(tb)
                # The default hook prints exc.__traceback__, not its tb argument (3.12+).
                if exc is not None and exc.__traceback__ is not tb:
                    exc.__traceback__ = tb
            except Exception as err:  # noqa: BLE001 - show the untrimmed traceback rather than none
                selflog.report("trim_launcher_frames", err)
        _note_interrupt(exc)
        # A program formatting an exception it handled (sys.excepthook(*sys.exc_info())) is no failure.
        if exc is None or sys.exception() is not exc:
            _record(exc, "excepthook", tb)
        previous(exc_type, exc, tb)

    return agentlog_excepthook


def _threading_wrapper(previous: Any) -> Any:
    def agentlog_threading_excepthook(args: Any) -> None:
        if args.exc_type is not SystemExit:
            _record(args.exc_value, "thread", args.exc_traceback, args.thread)
        previous(args)

    return agentlog_threading_excepthook


def _patch_thread_invoke(threading_module: ModuleType) -> None:
    """Threads started from now on record their exception before any ``threading.excepthook`` runs.

    So a program that replaces ``threading.excepthook`` is still covered. The
    per-thread invoker comes from a private factory (present in 3.8-3.14); if
    it is missing, only the excepthook route remains.
    """
    make = getattr(threading_module, "_make_invoke_excepthook", None)
    if make is None:
        return

    def _make_invoke_excepthook() -> Any:
        invoke = make()

        @ownimports.hands_over
        def invoke_excepthook(thread: threading.Thread) -> None:
            exc = sys.exception()
            if exc is not None and not isinstance(exc, SystemExit):
                _record(exc, "thread", exc.__traceback__, thread)
            invoke(thread)

        return invoke_excepthook

    _patch(threading_module, "_make_invoke_excepthook", _make_invoke_excepthook)


def _patch_threading(threading_module: ModuleType) -> None:
    _patch(threading_module, "excepthook", _threading_wrapper(threading_module.excepthook))
    _patch_thread_invoke(threading_module)


# Unraisable exceptions (raised in __del__, a weakref callback, a generator's close) can come by
# the thousand from one line: each place is recorded this many times per process, and at most
# MAX_UNRAISABLE in all; the rest are counted (errors.log at exit), at the cost of a dict lookup.
MAX_UNRAISABLE_PER_PLACE = 3
MAX_UNRAISABLE = 50
_unraisable_seen: dict[tuple[object, ...], int] = {}
_unraisable_skipped = 0


def _unraisable_place(unraisable: Any) -> tuple[object, ...]:
    tb = unraisable.exc_traceback
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = (tb.tb_frame.f_code, tb.tb_lineno) if tb is not None else (unraisable.err_msg,)
    return (type(unraisable.exc_value), *where)


def _should_record_unraisable(unraisable: Any) -> bool:
    global _unraisable_skipped
    place = _unraisable_place(unraisable)
    seen = _unraisable_seen.get(place, 0)
    if seen >= MAX_UNRAISABLE_PER_PLACE or len(_unraisable_seen) >= MAX_UNRAISABLE:
        if _unraisable_skipped == 0:
            atexit.register(_report_skipped_unraisable)
        _unraisable_skipped += 1
        return False
    _unraisable_seen[place] = seen + 1
    return True


def _report_skipped_unraisable() -> None:
    selflog.report(f"{_unraisable_skipped} unraisable exception(s) not recorded: "
                        f"at most {MAX_UNRAISABLE_PER_PLACE} per place and {MAX_UNRAISABLE} places per process")


def _unraisable_wrapper(previous: Any) -> Any:
    def agentlog_unraisablehook(unraisable: Any) -> None:
        try:
            record = _should_record_unraisable(unraisable)
        except Exception:  # noqa: BLE001 - an odd unraisable object: record it
            record = True
        if record:
            _record(unraisable.exc_value, "unraisable", unraisable.exc_traceback)
        previous(unraisable)

    return agentlog_unraisablehook


def _patch_asyncio(base_events: ModuleType) -> None:
    loop_cls = base_events.BaseEventLoop
    original = loop_cls.call_exception_handler

    def call_exception_handler(self: Any, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            _record(exc, "asyncio")
        original(self, context)

    _patch(loop_cls, "call_exception_handler", call_exception_handler)


def _patch_exception_with_traceback(owner: type) -> None:
    """Pool workers wrap a task's exception here, while its frames are still alive."""
    original = owner.__init__

    def __init__(self: Any, exc: BaseException, tb: TracebackType | None) -> None:
        _record(exc, "mp_worker", tb)
        original(self, exc, tb)

    _patch(owner, "__init__", __init__)


def _patch_process(process_module: ModuleType) -> None:
    """A ``Process`` child catches its target's exception and prints it with ``traceback.print_exc()``.

    While the child's ``_bootstrap`` runs, ``print_exc`` records the exception it is
    about to print. Wrapping ``run`` instead would add a frame of ours to that
    printed traceback.
    """
    base = process_module.BaseProcess
    original = base._bootstrap

    def _bootstrap(self: Any, *args: Any, **kwargs: Any) -> int:
        import traceback

        print_exc = traceback.print_exc

        def recording_print_exc(*a: Any, **kw: Any) -> None:
            exc = sys.exception()
            tb = exc.__traceback__ if exc is not None else None
            # Only the exception _bootstrap itself caught: the program may print handled ones too.
            if tb is not None and tb.tb_frame.f_code is original.__code__ and not isinstance(exc, KeyboardInterrupt):
                _record(exc, "mp_process")
            print_exc(*a, **kw)

        traceback.print_exc = recording_print_exc
        try:
            return original(self, *args, **kwargs)
        finally:
            traceback.print_exc = print_exc

    _patch(base, "_bootstrap", _bootstrap)


def _left_the_program(tb: TracebackType) -> bool:
    """Whether an exception with traceback ``tb`` propagated out of the main module's top level.

    Its outermost entry is then the bottom frame (``__main__``'s ``<module>``, or runpy's
    for ``-m``), and that frame, now finished, stopped on the line the exception passed.
    """
    bottom = tb.tb_frame
    if bottom.f_code.co_filename != "<frozen runpy>" and not (
        bottom.f_code.co_name == "<module>" and bottom.f_globals.get("__name__") == "__main__"
    ):
        return False
    return bottom.f_lineno == tb.tb_lineno


@selflog.quiet_at_exit
def _record_last_unhandled() -> None:
    """atexit: record the exception or exit that ended the program where no hook of ours saw it.

    A program may replace ``sys.excepthook`` (rich, Sentry). The interpreter still
    stores what it handed that hook in ``sys.last_exc`` (3.12+); if that exception
    left the main module's top level (not one a REPL or pytest stored) and was not
    recorded yet, it is recorded now, after the program's own atexit handlers.
    Likewise the last ``sys.exit()`` seen by :func:`watch_exit`, if it ended the program.
    """
    exc = getattr(sys, "last_exc", None)
    tb = getattr(exc, "__traceback__", None)
    if tb is not None and _left_the_program(tb):
        _note_interrupt(exc)
        _record(exc, "excepthook", trim_launcher_frames(tb))
    exit_exc = _exit_seen
    tb = getattr(exit_exc, "__traceback__", None)
    if exit_exc is not None and tb is not None and _left_the_program(tb):
        exit_exc.__traceback__ = _without_frames_of(tb, _watched_exit_code)
        record_exit(exit_exc)


_exit_seen: SystemExit | None = None
_watched_exit_code: Any = None


def watch_exit() -> None:
    """Remember the ``SystemExit`` each ``sys.exit()`` raises (the relaunched program has no launcher
    around it to see one leave): :func:`_record_last_unhandled` records it at exit if it ended the program.

    A ``raise SystemExit`` in the program itself is not seen this way.
    """
    global _watched_exit_code
    real_exit = sys.exit

    def exit(status: object = None, /) -> Any:
        global _exit_seen
        try:
            real_exit(status)
        except SystemExit as exc:
            _exit_seen = exc
            raise

    exit.__doc__ = real_exit.__doc__
    _watched_exit_code = exit.__code__
    _patch(sys, "exit", exit)


def _without_frames_of(tb: TracebackType | None, code: Any) -> TracebackType | None:
    """``tb`` rebuilt without the entries of ``code`` (our sys.exit wrapper)."""
    entries = []
    while tb is not None:
        if tb.tb_frame.f_code is not code:
            entries.append(tb)
        tb = tb.tb_next
    import types

    rebuilt = None
    for entry in reversed(entries):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


@selflog.quiet_at_exit
def _end_session() -> None:
    """atexit: end the session this process started, its outcome knowing what ended the program."""
    session = sys.modules.get("agentlog.work.session")
    if session is not None:
        with ownimports.own_modules():
            session.end_implicit_session(interrupted=_unhandled_interrupt)


@selflog.quiet_at_exit
def _exit_by_sigint() -> None:
    """Die by SIGINT after an unhandled KeyboardInterrupt, as plain python does.

    The interpreter would do this itself, but any ``exec`` (an import, say) run
    by a hook clears its "unhandled KeyboardInterrupt" flag, and recording a
    failure imports. Registered before the program runs, so it runs after the
    program's own atexit handlers.
    """
    if not _unhandled_interrupt:
        return
    import contextlib
    import signal

    if not hasattr(signal, "SIGINT"):
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed stream must not stop the exit
            stream.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def install() -> None:
    """Install all crash hooks once; later calls do nothing."""
    if _patches:
        return
    atexit.register(_exit_by_sigint)
    atexit.register(_end_session)  # after what ended the program is recorded, before a SIGINT death
    atexit.register(_record_last_unhandled)  # LIFO: runs first
    _patch(sys, "excepthook", _excepthook_wrapper(sys.excepthook))
    _patch(sys, "unraisablehook", _unraisable_wrapper(sys.unraisablehook))
    # No thread can start before threading is imported (bare _thread threads report
    # through sys.unraisablehook), so a program without threads never imports it.
    importhooks.when_imported("threading", _patch_threading)
    importhooks.when_imported("asyncio.base_events", _patch_asyncio)
    importhooks.when_imported(
        "multiprocessing.pool", lambda m: _patch_exception_with_traceback(m.ExceptionWithTraceback)
    )
    importhooks.when_imported(
        "concurrent.futures.process",
        lambda m: _patch_exception_with_traceback(m._ExceptionWithTraceback),
    )
    importhooks.when_imported("multiprocessing.process", _patch_process)
    importhooks.when_imported("unittest.result", _patch_unittest)


def uninstall() -> None:
    """Restore every hook and patched method, newest first.

    A hook that someone replaced after us is left alone: theirs wins.
    """
    importhooks.clear()
    atexit.unregister(_exit_by_sigint)
    atexit.unregister(_end_session)
    atexit.unregister(_record_last_unhandled)
    while _patches:
        owner, attr, original, replacement = _patches.pop()
        if getattr(owner, attr) is replacement:
            setattr(owner, attr, original)
