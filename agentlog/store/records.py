"""The envelope every record carries. docs/FORMAT.md documents every field."""

from __future__ import annotations

import _thread
import os
import sys
import time

from agentlog.core import ownimports

TYPE_CHECKING = False
if TYPE_CHECKING:  # the exit path of every activated process imports this module: no typing
    from typing import Any

SCHEMA_VERSION = 1

# Record kinds ("k"). Readers ignore kinds they do not know.
FAILURE = "failure"
# The envelope's strings (kind, session id, thread name) come from the environment and
# the program: each is cut to this many characters, the same way every time, so the
# records of one session still share one id.
MAX_ENVELOPE_CHARS = 128
ENVELOPE_STRINGS = ("k", "sid", "th")


def bound_envelope(record: dict[str, Any]) -> dict[str, Any]:
    """``record``, or a copy whose overlong envelope strings end in "…" at MAX_ENVELOPE_CHARS."""
    long = [k for k in ENVELOPE_STRINGS
            if isinstance(record.get(k), str) and len(record[k]) > MAX_ENVELOPE_CHARS]
    if not long:
        return record
    record = dict(record)
    for key in long:
        record[key] = record[key][: MAX_ENVELOPE_CHARS - 1] + "…"
    return record


def current_thread() -> tuple[int, str]:
    """(ident, name) of the calling thread, as ``threading.current_thread()`` says.

    Without importing ``threading`` (milliseconds at exit) when no program code did and
    this is the main thread: then no Thread object exists and the name is "MainThread".
    """
    main_ident = getattr(_thread, "_get_main_thread_ident", None)  # 3.13+
    ident = _thread.get_ident()
    if "threading" not in sys.modules and main_ident is not None and main_ident() == ident:
        return ident, "MainThread"
    import threading

    return ident, threading.current_thread().name


def make_record(kind: str, **fields: Any) -> dict[str, Any]:
    """A record with the common envelope: schema, kind, session, pid, thread, wall time."""
    from agentlog.core.sessionid import current_session_id

    with ownimports.own_modules():  # a program's threading.py is not asked for the thread's name
        tid, name = current_thread()
    record: dict[str, Any] = {
        "sv": SCHEMA_VERSION,
        "k": kind,
        "sid": current_session_id(),
        "pid": os.getpid(),
        "tid": tid,
        "th": name,
        "ts": round(time.time(), 6),
    }
    record.update(fields)
    return record
