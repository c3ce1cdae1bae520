"""The session id every record carries, shared by a process tree through ``AGENTLOG_SESSION``.

Kept apart from ``work/session.py`` (session records, start and end) so that the
store, which stamps the id on every record, does not depend on the session layer.
"""

from __future__ import annotations

import os
import time

SESSION_ENV = "AGENTLOG_SESSION"

# (session id, pid) of the session this process created rather than inherited.
_created: tuple[str, int] | None = None


def new_session_id() -> str:
    """Sortable by creation time, unique across machines: ``<hex seconds>-<random>``."""
    return f"{int(time.time()):08x}-{os.urandom(4).hex()}"


def current_session_id() -> str:
    """The session this process belongs to; created (and inherited by children) on first use."""
    global _created
    sid = os.environ.get(SESSION_ENV)
    if not sid:
        sid = new_session_id()
        os.environ[SESSION_ENV] = sid
        _created = (sid, os.getpid())
    return sid


def created_here(sid: str) -> bool:
    """Whether this process (not a parent) created session ``sid``."""
    return _created == (sid, os.getpid())
