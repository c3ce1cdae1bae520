"""What the records say about sessions: summaries for listings, `agentlog show` and context."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from agentlog.store.records import FAILURE
from agentlog.work.session import SESSION_END, SESSION_START


@dataclasses.dataclass
class SessionInfo:
    """What the records say about one session (for listings and context)."""

    id: str
    start: float
    last: float
    parent: str | None = None
    agent: str | None = None
    task: str | None = None
    outcome: str | None = None
    error: str | None = None
    ended: float | None = None
    failures: int = 0
    records: int = 0
    start_record: dict[str, Any] | None = None
    children: list[str] = dataclasses.field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds from start to end, or to the session's last record while it is open."""
        return max(0.0, (self.ended or self.last) - self.start)


BASELINE = "baseline"  # a tag of a session written later (history/regression.py): not a session's activity
NOT_ACTIVITY = frozenset({BASELINE})


def summarize_sessions(records: Iterable[dict[str, Any]]) -> dict[str, SessionInfo]:
    """Sessions by id in order of first appearance, with their child session ids (a baseline
    tag is about a session, not part of one: it neither starts a session nor extends it)."""
    infos: dict[str, SessionInfo] = {}
    for rec in records:
        sid, ts, kind = rec.get("sid"), rec.get("ts") or 0.0, rec.get("k")
        if not isinstance(sid, str) or kind in NOT_ACTIVITY:
            continue
        info = infos.get(sid)
        if info is None:
            info = infos[sid] = SessionInfo(id=sid, start=ts, last=ts)
        info.last = max(info.last, ts)
        info.records += 1
        if kind == SESSION_START and info.start_record is None:
            info.start_record = rec
            info.start = min(info.start, ts)
            info.parent = rec.get("parent") or None
            info.agent = rec.get("agent")
            info.task = rec.get("task")
        elif kind == SESSION_END:
            info.outcome, info.error, info.ended = rec.get("out"), rec.get("err"), ts
        elif kind == FAILURE:
            info.failures += 1
    for info in infos.values():
        if info.parent in infos:
            infos[info.parent].children.append(info.id)
    return infos


MAX_NAMED_MATCHES = 3  # ids an "ambiguous" error names


def session_tree(infos: dict[str, SessionInfo], sid: str) -> list[str]:
    """``sid`` and the sessions started inside it, at any depth (a run and its sub-sessions)."""
    tree, i = [sid], 0
    while i < len(tree):
        info = infos.get(tree[i])
        tree.extend(c for c in (info.children if info else []) if c not in tree)
        i += 1
    return tree


def root_session(infos: dict[str, SessionInfo], sid: str) -> str:
    """The outermost session ``sid`` was started inside (itself if none is recorded)."""
    seen = {sid}
    while (parent := infos[sid].parent if sid in infos else None) in infos and parent not in seen:
        sid = parent
        seen.add(sid)
    return sid


def resolve_session(infos: dict[str, SessionInfo], ref: str) -> SessionInfo:
    """The session whose id is ``ref``, starts with it, or whose random part (after the ``-``)
    starts with it; LookupError with a one-line reason.

    Ids start with the creation time in hex (sessions of one minute share 6 characters),
    so 4 characters of the random part (``6b0e8b0b-c79a…`` -> ``c79a``) are usually enough.
    """
    ref = ref.strip()
    if not ref:
        raise LookupError("the session id is empty")
    if ref in infos:
        return infos[ref]
    matches = [sid for sid in infos if sid.startswith(ref) or sid.partition("-")[2].startswith(ref)]
    if not matches:
        raise LookupError(f"no session matches {ref!r}")
    if len(matches) > 1:
        named = ", ".join(matches[-MAX_NAMED_MATCHES:])
        more = "…, " if len(matches) > MAX_NAMED_MATCHES else ""
        raise LookupError(f"{ref!r} is ambiguous: {len(matches)} sessions match ({more}{named}); "
                          "give more characters, or the part after the '-'")
    return infos[matches[0]]
