"""Sessions: one id shared by a process tree, carried in ``AGENTLOG_SESSION``.

A process whose environment names a session joins it; a process without one
starts a new session. ``start_session`` opens an explicit session (an agent's
task, a sub-agent) that links to the session it was started from, and child
processes started inside it inherit it through the environment. Sessions are
per process, not per thread: the environment is process-wide.
"""

from __future__ import annotations

import os
import sys
import time

from agentlog.core import selflog
from agentlog.core.projectdir import working_dir
from agentlog.core.sessionid import SESSION_ENV, created_here, current_session_id, new_session_id

TYPE_CHECKING = False
if TYPE_CHECKING:  # activation imports this module: typing and types would cost milliseconds
    from types import TracebackType
    from typing import Any

PARENT_SESSION_ENV = "AGENTLOG_PARENT_SESSION"
AGENT_ENV = "AGENTLOG_AGENT"
# Environment variables an agent sets for the commands it runs, and the agent they name
# (first match wins; AGENTLOG_AGENT overrides them all).
AGENT_MARKERS = (
    ("CLAUDECODE", "claude-code"), ("CLAUDE_CODE_SESSION_ID", "claude-code"),
    ("CODEX_THREAD_ID", "codex"), ("CODEX_SANDBOX", "codex"), ("CODEX_CI", "codex"),
    ("CODEX_SANDBOX_NETWORK_DISABLED", "codex"),
    ("GEMINI_CLI", "gemini-cli"), ("CURSOR_AGENT", "cursor"),
)
TASK_ENV = "AGENTLOG_TASK"
SESSION_START = "session_start"
SESSION_END = "session_end"
# Git capture when a session starts; the crash path uses capture_git_state's default.
GIT_START_TIMEOUT_S = 0.5
_ENV_KEYS = (SESSION_ENV, PARENT_SESSION_ENV, AGENT_ENV, TASK_ENV)


# The session whose start record this process wrote: the launcher may create the id
# (core/sessionid.py) before starting it.
_start_written: str | None = None
# The session whose start record this process wrote: (id, pid, start time), ended at exit.
_implicit: tuple[str, int, float] | None = None
_implicit_atexit = False
_ended: set[str] = set()  # sessions ended explicitly without a Session object (end_session)
_failed: set[str] = set()  # sessions this process recorded a failure for (note_failure)
_opened: set[str] = set()  # sessions start_session opened in this process
_exit_code: int | None = None  # the status the program ends with, once known (note_exit)
_exits_watched = False  # every SystemExit leaving the program reaches note_exit (note_exits_watched)
_launch: dict[str, Any] = {}  # "argv" and "launcher" of a program run by the launcher (note_launch)
LAUNCHER = "agentlog"  # python -m agentlog / the agentlog script
_exiting = False  # the implicit session is ending at exit: a start record still deferred records nothing else


class Session:
    """An open session of this process; a context manager that ends it on exit."""

    __slots__ = ("agent", "ended", "id", "parent", "saved_env", "started", "task")

    def __init__(
        self,
        id: str,
        parent: str | None = None,
        agent: str | None = None,
        task: str | None = None,
        started: float | None = None,
        saved_env: dict[str, str | None] | None = None,
    ) -> None:
        self.id = id
        self.parent = parent
        self.agent = agent
        self.task = task
        self.started = started
        self.ended = False
        self.saved_env = saved_env or {}  # the environment to restore when it ends

    def __repr__(self) -> str:
        return f"Session(id={self.id!r}, agent={self.agent!r}, task={self.task!r}, parent={self.parent!r})"

    def end(self, outcome: str = "ok") -> None:
        """End this session (see :func:`end_session`)."""
        end_session(outcome, session=self)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            mark_exception(exc, self.id)
        if self.ended:
            return
        if exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)):
            end_session("ok", session=self)
        elif isinstance(exc, KeyboardInterrupt):
            end_session("interrupted", session=self)
        else:
            end_session("error", session=self, error=f"{type(exc).__name__}: {exc}"[:500])


EXCEPTION_SESSION_ATTR = "__agentlog_session__"


def mark_exception(exc: BaseException, sid: str) -> None:
    """Remember the innermost session an exception left, so its failure record joins that session."""
    import contextlib

    if getattr(exc, EXCEPTION_SESSION_ATTR, None) is None:
        with contextlib.suppress(AttributeError, TypeError):  # exceptions with __slots__ and no dict
            setattr(exc, EXCEPTION_SESSION_ATTR, sid)


def session_of(exc: BaseException) -> str | None:
    """The session ``exc`` escaped from, if it escaped from one opened with start_session."""
    sid = getattr(exc, EXCEPTION_SESSION_ATTR, None)
    return sid if isinstance(sid, str) else None


_stack: list[Session] = []
_atexit_registered = False


def _write(kind: str, sid: str, ts: float | None = None, **fields: Any) -> None:
    from agentlog.store import append, make_record

    record = make_record(kind, **fields)
    record["sid"] = sid
    if ts is not None:  # a record written later than what it describes keeps its own time
        record["ts"] = round(ts, 6)
    append(record)


def typed_argv() -> list[str]:
    """The program's command line as typed after the interpreter and its options: ``['app.py', 'x']``,
    ``['-m', 'app', 'x']``, ``['-c', CODE, 'x']``. ``sys.argv`` says ``['-m', 'x']`` until runpy
    replaces it with the module's path; ``sys.orig_argv`` keeps what was typed."""
    orig, argv = getattr(sys, "orig_argv", None) or [], sys.argv
    first = len(orig) - len(argv)  # where argv[0] stands in orig_argv (a script's path)
    if not argv or first < 1 or orig[first + 1 :] != argv[1:]:
        return list(argv)  # the program changed sys.argv, or no orig_argv: what it holds now
    return orig[first - 1 :] if first >= 2 and orig[first - 1] in ("-m", "-c") else orig[first:]


def _write_start(session: Session, argv: list[str], cwd: str | None = None, head_only: bool = False,
                 launcher: str | None = None) -> None:
    """The start record; ``cwd`` (default: now) is where the session started, git is read there.

    ``head_only``: git's root, branch and HEAD from its files (no git process) if they say.
    ``launcher``: what ran the program for the user (``agentlog``), kept apart from its argv.
    """
    from agentlog.core.redact import redact_argv
    from agentlog.work.git import head_state, recent_git_state

    cwd = cwd or working_dir()
    git = head_state(cwd) if head_only else None
    _write(
        SESSION_START,
        session.id,
        ts=session.started,
        agent=session.agent,
        task=session.task,
        parent=session.parent,
        argv=redact_argv(argv),
        cwd=cwd,
        git=git or recent_git_state(cwd, timeout_s=GIT_START_TIMEOUT_S),
        **({"launcher": launcher} if launcher else {}),
    )


def _set_env(name: str, value: str | None) -> None:
    if value:
        os.environ[name] = value
    else:
        os.environ.pop(name, None)


def environment_agent() -> str | None:
    """The agent this process runs under: ``AGENTLOG_AGENT``, else the markers the agent sets."""
    named = os.environ.get(AGENT_ENV)
    if named:
        return named
    for var, agent in AGENT_MARKERS:
        if os.environ.get(var):
            return agent
    return None


def start_session(
    agent: str | None = None,
    task: str | None = None,
    parent_session_id: str | None = None,
) -> Session:
    """Open a new session, linked to ``parent_session_id`` or else to the current session.

    Usable as a function (end it with :func:`end_session`) or as a context
    manager (ended on exit: ``ok``, ``error`` or ``interrupted``). Sessions
    still open when the process exits end with outcome ``exit``.
    """
    global _atexit_registered
    parent = parent_session_id or os.environ.get(SESSION_ENV) or None
    session = Session(
        id=new_session_id(),
        parent=parent,
        agent=agent or environment_agent(),
        task=task or os.environ.get(TASK_ENV),
        started=time.time(),
        saved_env={k: os.environ.get(k) for k in _ENV_KEYS},
    )
    for name, value in zip(_ENV_KEYS, (session.id, parent, session.agent, session.task), strict=True):
        _set_env(name, value)
    _stack.append(session)
    _opened.add(session.id)
    if not _atexit_registered:
        import atexit

        atexit.register(_end_open_sessions)
        _atexit_registered = True
    try:
        _write_start(session, typed_argv())
    except Exception as exc:  # noqa: BLE001 - recording must never break the agent
        from agentlog.core import selflog

        selflog.report("session.start_session", exc)
    return session


def end_session(
    outcome: str = "ok",
    session: Session | None = None,
    error: str | None = None,
) -> None:
    """End ``session`` (default: the innermost open one) with ``outcome``; restore the previous.

    Sessions opened inside it and still open end first, as ``abandoned``.
    Without any open session, the process's inherited session gets the end record.
    """
    target = session or (_stack[-1] if _stack else None)
    if target is None:
        sid = current_session_id()
        _ended.add(sid)
        _write(SESSION_END, sid, out=outcome, err=error)
        return
    if target.ended:
        return
    while target in _stack and _stack[-1] is not target:
        end_session("abandoned", session=_stack[-1])
    target.ended = True
    _ended.add(target.id)
    if target in _stack:
        _stack.remove(target)
    duration = round(time.time() - target.started, 3) if target.started else None
    try:
        _write(SESSION_END, target.id, out=outcome, dur=duration, err=error)
    finally:
        for name, value in target.saved_env.items():
            _set_env(name, value)


@selflog.quiet_at_exit
def _end_open_sessions() -> None:
    while _stack:
        end_session("exit", session=_stack[-1])


def current_session() -> Session:
    """The session records are written to now (the innermost open one, or the inherited one)."""
    sid = current_session_id()
    if _stack and _stack[-1].id == sid:
        return _stack[-1]
    return Session(
        id=sid,
        parent=os.environ.get(PARENT_SESSION_ENV) or None,
        agent=environment_agent(),
        task=os.environ.get(TASK_ENV) or None,
    )


def note_failure(sid: str | None = None) -> None:
    """Note that this process recorded a failure for session ``sid`` (default: the current one).

    The implicit session's end record then says ``failed``. Cheap (a set insert); never raises.
    """
    try:
        if sid is None:
            sid = os.environ.get(SESSION_ENV)
        if isinstance(sid, str) and sid:
            _failed.add(sid)
    except Exception:  # noqa: BLE001 - called from failure capture; must never raise
        pass


def note_exit(code: int) -> None:
    """The program is ending with status ``code`` (a ``SystemExit`` left it, or it returned: 0)."""
    global _exit_code
    if isinstance(code, int):
        _exit_code = code


def note_exits_watched() -> None:
    """Every ``SystemExit`` that leaves this program will reach :func:`note_exit` (a relaunched
    program under the exit watcher): one that ends with none seen, and no unhandled exception,
    returned normally, status 0."""
    global _exits_watched
    _exits_watched = True


def note_launch(argv: list[str] | None = None) -> None:
    """The launcher runs this process's program: the start record names it (``launcher``) and,
    given ``argv`` (the program's command line as typed), records that instead of this process's."""
    _launch["launcher"] = LAUNCHER
    if argv is not None:
        _launch["argv"] = list(argv)


def implicit_outcome(sid: str, interrupted: bool = False) -> str:
    """How the session this process started ends: ``failed`` if it recorded a failure for it or for a
    session it opened inside (an exception that left a ``start_session`` block crashed the run too),
    ``interrupted``, ``exit N`` once the exit status is known (``exit 0`` when exits are watched and
    neither one nor an unhandled exception was seen), else ``exit`` (ended, status unknown)."""
    if sid in _failed or _failed & _opened:
        return "failed"
    if interrupted:
        return "interrupted"
    if _exit_code is None and _exits_watched and getattr(sys, "last_exc", None) is None:
        return "exit 0"
    return "exit" if _exit_code is None else f"exit {_exit_code}"


def end_implicit_session(interrupted: bool = False) -> None:
    """End the session whose start record this process wrote, unless already ended (at exit).

    Outcome: :func:`implicit_outcome`. Not in a forked child (the start record is its parent's),
    nor after SIGKILL or ``os._exit``. Under activation the crash hooks call it at exit after
    they recorded what ended the program (so its outcome can say so); else an atexit handler.
    """
    global _exiting
    try:
        if _implicit is None:
            return
        sid, pid, started = _implicit
        if pid != os.getpid() or sid != _start_written or sid in _ended:
            return
        _ended.add(sid)
        _exiting = True
        outcome = implicit_outcome(sid, interrupted)
        _write(SESSION_END, sid, out=outcome, dur=round(time.time() - started, 3), err=None)
    except Exception as exc:  # noqa: BLE001 - never raise at exit
        from agentlog.core import selflog

        selflog.report("session.end_implicit_session", exc)


def ensure_session_started(argv: list[str], defer: bool = False) -> None:
    """Write a session-start record if this process created a new session; never raises.

    A process that inherited ``AGENTLOG_SESSION`` joins that session silently.
    Idempotent; a session id created earlier in this process still counts as new.
    A session started here gets a ``session_end`` at process exit (:func:`implicit_outcome`)
    unless :func:`end_session` ended it first: with ``defer`` (activation) the crash hooks
    end it (``runtime/hooks.py``), after they record what ended the program.
    Cost: one environment lookup when joining; git state capture (bounded by
    ``GIT_START_TIMEOUT_S``) when starting. With ``defer`` (activation), starting costs
    a clock read and ``working_dir()``: the record, with the time, argv and cwd of now,
    is written just before this process's first record, at the latest with its
    ``session_end`` at exit (``core/firstwrite.py``).
    """
    global _start_written, _implicit, _implicit_atexit
    try:
        sid = os.environ.get(SESSION_ENV)
        if sid and (not created_here(sid) or sid == _start_written):
            return
        session = current_session()
        session.started = time.time()
        _start_written = session.id
        argv, cwd = list(argv), working_dir()
        if defer:
            from agentlog.core.firstwrite import defer as defer_work

            # At exit (nothing else recorded) the git head is read from its files: no git process.
            defer_work(lambda: _write_start(session, _launch.get("argv") or argv, cwd, head_only=_exiting,
                                            launcher=_launch.get("launcher")))
        else:
            _write_start(session, argv, cwd)
        _implicit = (session.id, os.getpid(), session.started)
        if not _implicit_atexit and not defer:
            import atexit

            atexit.register(end_implicit_session)
            _implicit_atexit = True
    except Exception as exc:  # noqa: BLE001 - never raise into the user program
        from agentlog.core import selflog

        selflog.report("session.ensure_session_started", exc)
