"""The envelope every record carries. docs/FORMAT.md documents every field."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

SCHEMA_VERSION = 1

# Record kinds ("k"). Readers ignore kinds they do not know.
FAILURE = "failure"


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
