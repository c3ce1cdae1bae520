"""Outcomes: how a session (or a failure) ended, tagged by the agent or read from the records.

``tag_outcome`` appends an ``outcome`` record; the newest tag of a target wins.
An untagged session's outcome is derived from its ``session_end``: ``ok`` and
``exit`` (the status unknown) and ``exit 0`` are success; ``error``, ``failed``,
``interrupted`` and ``exit N`` (N != 0) failure; ``abandoned`` partial; no end record: open. A session id that only
carries records such as tags (a process that called ``tag_outcome`` without
running under AgentLog) is no session: it has no start, no end and no failure.

Time to fix, per agent and task: from a session's first failure (the first one
since the last success) to the end of the next successful session of the same
agent and task, that session itself included (a session whose first run fails
and whose later run passes). A tagged session ends at its tag or its end
record, whichever came first.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

OUTCOME = "outcome"
SCAN_BYTES = 64 * 1024 * 1024  # newest record files history reads (outcomes, fixes)
SESSION_OUTCOMES = ("success", "failure", "partial")
MAX_NOTE_CHARS = 2000
MAX_OUTCOME_CHARS = 50
_SESSION_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{8}$")
_FAILURE_ID_RE = re.compile(r"^[0-9a-f]{12}$")
_DERIVED = {"ok": "success", "exit": "success", "error": "failure", "failed": "failure",
            "interrupted": "failure", "abandoned": "partial"}


def _target(failure_or_session: Any) -> tuple[str, str]:
    """(kind, id) of a failure id or record, a session id or a Session object."""
    if isinstance(failure_or_session, dict):
        if failure_or_session.get("k") == "failure":
            return "failure", str(failure_or_session["id"])
        raise ValueError("tag_outcome: a dict target must be a failure record")
    ident = str(getattr(failure_or_session, "id", failure_or_session))
    if _SESSION_ID_RE.match(ident):
        return "session", ident
    if _FAILURE_ID_RE.match(ident):
        return "failure", ident
    raise ValueError(f"tag_outcome: {ident!r} is neither a session id nor a failure id")


def tag_outcome(failure_or_session: Any, outcome: str, note: str | None = None) -> None:
    """Record how a failure or session ended (``fixed``, ``success``, ``wontfix``, ...), with HEAD's commit."""
    from agentlog.core.redact import redact_cut
    from agentlog.store import append, make_record
    from agentlog.work.git import capture_git_state

    kind, ident = _target(failure_or_session)
    if not isinstance(outcome, str) or not outcome.strip():
        raise ValueError("tag_outcome: outcome must be a non-empty string")
    fields: dict[str, Any] = {"on": ident, "of": kind, "out": outcome.strip()[:MAX_OUTCOME_CHARS]}
    if note:
        fields["note"] = redact_cut(str(note), MAX_NOTE_CHARS)
    git = capture_git_state()
    if git and git.get("sha"):
        fields["sha"] = git["sha"]
    append(make_record(OUTCOME, **fields))


def tag_session_outcome(session: Any, outcome: str, note: str | None = None) -> None:
    """Tag a session ``success``, ``failure`` or ``partial``."""
    if outcome not in SESSION_OUTCOMES:
        raise ValueError(f"tag_session_outcome: outcome must be one of {', '.join(SESSION_OUTCOMES)}")
    kind, ident = _target(session)
    if kind != "session":
        raise ValueError(f"tag_session_outcome: {ident!r} is not a session id")
    tag_outcome(ident, outcome, note)


def tags(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest ``outcome`` record per target id."""
    return {r["on"]: r for r in records if r.get("k") == OUTCOME and isinstance(r.get("on"), str)}


def derived_outcome(end: str | None) -> str:
    """A session-end outcome as success / failure / partial / open (module docstring)."""
    if end is None:
        return "open"
    if end.startswith("exit "):
        return "success" if end == "exit 0" else "failure"
    return _DERIVED.get(end, end)


def session_outcomes(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per session: ``outcome``, ``tagged`` (bool), ``note``, ``agent``, ``task``, ``failures``,
    ``first_failure`` (ts), ``end`` (ts of the tag or end record)."""
    from agentlog.store.records import FAILURE
    from agentlog.work.summary import summarize_sessions

    tagged = tags(records)
    first_failure: dict[str, float] = {}
    for r in records:
        if r.get("k") == FAILURE and isinstance(r.get("sid"), str):
            first_failure.setdefault(r["sid"], r.get("ts", 0))
    out = {}
    for sid, info in summarize_sessions(records).items():
        if info.start_record is None and info.ended is None and not info.failures:
            continue  # only tags or other notes written under this id: not a session
        tag = tagged.get(sid)
        ends = [t for t in (tag["ts"] if tag else None, info.ended) if t]
        out[sid] = {"outcome": tag["out"] if tag else derived_outcome(info.outcome), "tagged": bool(tag),
                    "note": tag.get("note") if tag else None, "agent": info.agent, "task": info.task,
                    "failures": info.failures, "first_failure": first_failure.get(sid),
                    "start": info.start, "end": min(ends) if ends else None}
    return out


def get_outcome_stats(by: str = "agent", data_dir: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Per agent (or task): sessions, counts per outcome, success rate, failures per session and
    median time to fix in seconds (module docstring), from the newest SCAN_BYTES of records."""
    from agentlog.core.config import get_config
    from agentlog.store import iter_records

    if by not in ("agent", "task"):
        raise ValueError("get_outcome_stats: by must be 'agent' or 'task'")
    folder = Path(data_dir) if data_dir else get_config().data_dir
    infos = sorted(session_outcomes(list(iter_records(folder, warn=False, max_bytes=SCAN_BYTES))).values(),
                   key=lambda i: i["start"] or 0)
    groups: dict[str, list[dict[str, Any]]] = {}
    for info in infos:
        groups.setdefault(info[by] or "(none)", []).append(info)
    fixes = _times_to_fix(infos)
    return {name: _stats(group, [seconds for info, seconds in fixes if (info[by] or "(none)") == name])
            for name, group in sorted(groups.items())}


def _times_to_fix(infos: list[dict[str, Any]]) -> list[tuple[dict[str, Any], float]]:
    """(the fixing session, seconds since the failure it fixed) per agent and task (module docstring)."""
    pending: dict[tuple[Any, Any], float] = {}  # (agent, task) -> first failure not fixed yet
    fixes = []
    for info in infos:  # by start time
        key = (info["agent"], info["task"])
        if info["first_failure"] and key not in pending:
            pending[key] = info["first_failure"]
        if info["outcome"] == "success" and key in pending and info["end"] and info["end"] >= pending[key]:
            fixes.append((info, info["end"] - pending.pop(key)))
    return fixes


def _stats(infos: list[dict[str, Any]], fixes: list[float]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for info in infos:
        counts[info["outcome"]] = counts.get(info["outcome"], 0) + 1
    finished = sum(n for outcome, n in counts.items() if outcome != "open")
    return {"sessions": len(infos), "outcomes": counts, "tagged": sum(i["tagged"] for i in infos),
            "success_rate": round(counts.get("success", 0) / finished, 3) if finished else None,
            "failures_per_session": round(sum(i["failures"] for i in infos) / len(infos), 2),
            "time_to_fix_s": round(statistics.median(fixes), 1) if fixes else None, "fixes": len(fixes)}
