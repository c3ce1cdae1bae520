"""Failure records: one unhandled exception with everything an agent needs to fix it."""

from __future__ import annotations

import os
import platform
import secrets
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from agentlog.capture.describe import Describer, Limits
from agentlog.capture.frames import ExceptionCapture
from agentlog.core.config import Config, get_config
from agentlog.core.projectdir import working_dir
from agentlog.core.redact import is_secret_function, marker, redact_argv
from agentlog.history.fingerprint import stamp
from agentlog.store import append, make_record
from agentlog.store.records import FAILURE
from agentlog.store.writer import encode
from agentlog.work.git import recent_git_state
from agentlog.work.session import note_failure, session_of

GIT_TIMEOUT_S = 1.0
# The same exception can reach several hooks (an asyncio handler, then sys.excepthook; a
# thread's invoker, then threading.excepthook). Those hooks run in the thread that failed,
# so each thread remembers its own recent exceptions: a hundred threads failing at once
# cannot push each other's out. The shared deque catches the rare cross-thread hand-over.
RECENT_PER_THREAD = 32
_recent: deque[BaseException] = deque(maxlen=RECENT_PER_THREAD)
_thread_recent = threading.local()
_lock = threading.RLock()


def _first_sighting(exc: BaseException) -> bool:
    """Whether ``exc`` is seen here for the first time (and remember it)."""
    mine = getattr(_thread_recent, "seen", None)
    if mine is None:
        mine = _thread_recent.seen = deque(maxlen=RECENT_PER_THREAD)
    with _lock:
        if any(seen is exc for seen in mine) or any(seen is exc for seen in _recent):
            return False
        mine.append(exc)
        _recent.append(exc)
    return True


def _user_frames(exc_dict: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Frames holding locals, least useful first: chained exceptions, then outermost frames."""
    for key in ("group", "ctx", "cause"):
        linked = exc_dict.get(key)
        for member in linked if isinstance(linked, list) else [linked] if linked else []:
            yield from _user_frames(member)
    yield from reversed([f for f in exc_dict.get("frames", []) if "loc" in f])


def fit_failure(record: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """Drop the least useful detail until the record encodes under ``max_bytes``.

    Order: the call trail's oldest half (repeatedly), then locals of chained
    exceptions and outer frames; the innermost frame's locals go last.
    """
    trail = record.get("trail")
    while len(encode(record)) >= max_bytes and isinstance(trail, dict) and len(trail.get("calls", [])) > 10:
        calls = trail["calls"]
        trail["calls"] = calls[len(calls) // 2 :]
        trail["dropped"] = trail.get("dropped", 0) + len(calls) // 2
    for frame in list(_user_frames(record["exc"])):
        if len(encode(record)) < max_bytes:
            break
        frame["loc_cut"] = len(frame.pop("loc"))
    return record


def hide_secret_results(record: dict[str, Any]) -> None:
    """Hide the trail's return values of functions whose names say they return secrets (``get_token``)."""
    trail = record.get("trail")
    if not isinstance(trail, dict):
        return
    fns = trail.get("fn", [])
    secret = [is_secret_function(str(fn[0]).rpartition(".")[2]) for fn in fns]
    for call in trail.get("calls", []):
        result = call.get("r")
        index = call.get("c", -1)
        if not (isinstance(result, dict) and 0 <= index < len(secret) and secret[index]):
            continue
        empty = result.get("t") == "str" and result.get("l") == 0  # cannot_be_secret, from a summary
        if result.get("t") not in ("NoneType", "bool") and not empty and ("v" in result or "items" in result):
            call["r"] = {"t": result.get("t", "?"), "v": marker("name"), "red": "name"}


def build_failure(
    exc: BaseException,
    source: str,
    tb: TracebackType | None = None,
    thread: threading.Thread | None = None,
    config: Config | None = None,
) -> dict[str, Any]:
    """A failure record for ``exc``; ``tb`` overrides its traceback (e.g. trimmed)."""
    config = config or get_config()
    describer = Describer(Limits.from_config(config))
    capture = ExceptionCapture(describer, max_frames=config.max_frames)
    thread = thread or threading.current_thread()
    # The trail first: describing values may call into user code, which the tracer would record.
    trail = _tracer_fields(thread.ident)
    record = make_record(
        FAILURE,
        id=secrets.token_hex(6),
        src=source,
        exc=capture.exception(exc, tb),
        argv=redact_argv(sys.argv),
        cwd=working_dir(),
        py=platform.python_version(),
    )
    stamp(record)
    record["tid"], record["th"] = thread.ident, thread.name
    record["sid"] = session_of(exc) or record["sid"]
    record.update(trail)
    hide_secret_results(record)
    git = recent_git_state(timeout_s=GIT_TIMEOUT_S)  # a crash loop does not spawn git each time
    if git:
        record["git"] = git
    return fit_failure(record, config.max_record_bytes)


def _tracer_fields(thread_id: int | None) -> dict[str, Any]:
    tracer = sys.modules.get("agentlog.runtime.tracer")
    if tracer is None or thread_id is None:
        return {}
    return tracer.failure_fields(thread_id) or {}


def _count_pattern(record: dict[str, Any]) -> None:
    """One line in the pattern index's log (history/patterns.py); its failure never loses the record."""
    from agentlog.core import selflog
    from agentlog.history.patterns import append_occurrence, occurrence

    try:
        append_occurrence(get_config().data_dir, occurrence(
            record, os.environ.get("AGENTLOG_AGENT"), os.environ.get("AGENTLOG_TASK")))
    except Exception as err:  # noqa: BLE001 - history is optional; the record is written
        selflog.report("record_failure: pattern index", err)


def record_failure(
    exc: BaseException,
    source: str,
    tb: TracebackType | None = None,
    thread: threading.Thread | None = None,
    scope: Callable[[dict[str, Any]], None] | None = None,
    **extra: Any,
) -> bool:
    """Build and append a failure record once per exception object. Never raises.

    ``scope`` narrows the record in place (a test's trail); ``extra`` adds fields.
    """
    from agentlog.core import selflog

    try:
        if not _first_sighting(exc):
            return False
        record = build_failure(exc, source, tb=tb, thread=thread)
        if scope is not None:
            scope(record)
        record.update(extra)
        written = append(record)
        if written:
            note_failure(record["sid"])
            _count_pattern(record)
        return written
    except Exception as err:  # noqa: BLE001 - a bug here must not touch the user's program
        selflog.report(f"record_failure({source})", err)
        return False
