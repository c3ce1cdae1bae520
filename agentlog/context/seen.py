"""The failure header's history line.

``seen 3 times before (first 2026-11-20, 2 sessions); last seen at 4f2a91c; last fixed in 9b1c2d3, came back``:
the count comes from the pattern index; the fix (history/correlate.py) from a scan
of the records, done only for a failure seen before.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agentlog.context.grouping import same_run
from agentlog.store.records import FAILURE


def seen_before_line(failure: dict[str, Any], data_dir: Path | None = None,
                     records: list[dict[str, Any]] | None = None) -> str | None:
    """One line on earlier occurrences of this failure's fingerprint, or None if it is new (or unknown).

    ``records`` (the loaded store) tell which occurrences are of the same run
    (context/grouping.py: the other failing cases of a test, the same process): those
    are not "before", nor are occurrences after this one.
    """
    fp = failure.get("fp")
    if not isinstance(fp, str):
        return None
    try:
        from agentlog.history.patterns import load_patterns

        pattern = load_patterns(data_dir, save=False).get(fp)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not pattern:
        return None
    ts, sid = failure.get("ts") or 0, failure.get("sid")
    same_fp = [r for r in records or [] if r.get("k") == FAILURE and r.get("fp") == fp
               and r.get("id") != failure.get("id")]
    this_run = {f.get("id") for f in same_fp if same_run(failure, f)}
    recent = [r for r in pattern.get("recent", []) if r.get("id") not in this_run]
    earlier = [r for r in recent if r.get("ts", 0) < ts and r.get("id") != failure.get("id")]
    # Both counts of later occurrences only miss some (a bounded list; records up to a chosen failure).
    later = max(sum(1 for r in recent if r.get("ts", 0) > ts),
                sum(1 for f in same_fp if f.get("id") not in this_run and (f.get("ts") or 0) > ts))
    before = pattern["n"] - 1 - len(this_run) - later
    if before <= 0:
        return None
    sessions = _sessions_before(earlier, before, pattern.get("nsess", 0), sid)
    first = time.strftime("%Y-%m-%d", time.localtime(pattern.get("first") or 0))
    times = "once" if before == 1 else f"{before} times"
    line = f"seen {times} before (first {first}, {sessions} session{'s' if sessions > 1 else ''})"
    sha = next((r["sha"] for r in reversed(earlier) if r.get("sha")), None)
    if sha:
        line += f"; last seen at {sha[:7]}"
    return line + _fix_text(fp, ts, data_dir)


def _sessions_before(earlier: list[dict[str, Any]], before: int, nsess: int, sid: Any) -> int:
    """Sessions the ``before`` earlier occurrences happened in, as of this failure.

    Exact when the index's bounded recent list holds them all; else the index's
    session total (which counts later sessions too) without this one, at most one
    per occurrence.
    """
    known = {r.get("sid") for r in earlier if r.get("sid")}
    if len(earlier) >= before:
        return max(len(known), 1)
    return max(len(known), min(before, nsess - (sid not in known)), 1)


def _fix_text(fp: str, ts: float, data_dir: Path | None) -> str:
    """``; last fixed in 9b1c2d3, came back`` when a fix is known from before this occurrence."""
    from agentlog.history.correlate import history_line, last_fix_before

    try:
        fix = last_fix_before(fp, ts, data_dir)
    except (OSError, ValueError, KeyError, TypeError):  # the count stands without it
        return ""
    return f"; {history_line({'fixed': True, 'fixed_in': fix[1], 'came_back': True})}" if fix else ""
