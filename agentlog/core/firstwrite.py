"""Work deferred until this process writes its first record, or exits.

Activation must not pay for what only a written record needs (the session start
record with its git state, say), so such work registers here with :func:`defer`.
The store calls :func:`run_pending` before each append (a list check once the
work is done); the deferrer makes sure it also runs at exit. A fork runs it in
the parent first, so a child never writes what belongs to its parent.
"""

from __future__ import annotations

import _thread
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_pending: list[Callable[[], None]] = []
_lock = _thread.RLock()  # re-entrant: deferred work appends records itself
_fork_hook = False


def defer(work: Callable[[], None]) -> None:
    """Run ``work`` once, just before this process's first record is written."""
    global _fork_hook
    _pending.append(work)
    if not _fork_hook:
        os.register_at_fork(before=run_pending)
        _fork_hook = True


def run_pending() -> None:
    """Run deferred work, oldest first, each once; a failure goes to errors.log. Never raises."""
    if not _pending:
        return
    with _lock:
        while _pending:
            work = _pending.pop(0)
            try:
                work()
            except Exception as exc:  # noqa: BLE001 - deferred work must not break the write
                from agentlog.core import selflog

                selflog.report("firstwrite.run_pending", exc)

