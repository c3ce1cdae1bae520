"""The envelope every record carries. docs/FORMAT.md documents every field."""

from __future__ import annotations

import os
import threading
import time
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


def make_record(kind: str, **fields: Any) -> dict[str, Any]:
    """A record with the common envelope: schema, kind, session, pid, thread, wall time."""
    from agentlog.core.sessionid import current_session_id

    thread = threading.current_thread()
    record: dict[str, Any] = {
        "sv": SCHEMA_VERSION,
        "k": kind,
        "sid": current_session_id(),
        "pid": os.getpid(),
        "tid": thread.ident,
        "th": thread.name,
        "ts": round(time.time(), 6),
    }
    record.update(fields)
    return record
