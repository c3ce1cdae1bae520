"""The failure header's history line.

``seen 3 times before (first 2026-11-20, 2 sessions); last seen at 4f2a91c; last fixed in 9b1c2d3, came back``:
the count comes from the pattern index; the fix (history/correlate.py) from a scan
of the records, done only for a failure seen before.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def seen_before_line(failure: dict[str, Any], data_dir: Path | None = None) -> str | None:
    """One line on earlier occurrences of this failure's fingerprint, or None if it is new (or unknown)."""
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
    earlier = [r for r in pattern.get("recent", []) if r.get("ts", 0) < ts and r.get("id") != failure.get("id")]
    later = sum(1 for r in pattern.get("recent", []) if r.get("ts", 0) > ts)
    before = pattern["n"] - 1 - later
    if before <= 0:
        return None
    sessions = pattern.get("nsess", 0) - (0 if any(r.get("sid") == sid for r in earlier) else 1)
    first = time.strftime("%Y-%m-%d", time.localtime(pattern.get("first") or 0))
    times = "once" if before == 1 else f"{before} times"
    line = f"seen {times} before (first {first}, {max(sessions, 1)} session{'s' if sessions > 1 else ''})"
    sha = next((r["sha"] for r in reversed(earlier) if r.get("sha")), None)
    if sha:
        line += f"; last seen at {sha[:7]}"
    return line + _fix_text(fp, ts, data_dir)


def _fix_text(fp: str, ts: float, data_dir: Path | None) -> str:
    """``; last fixed in 9b1c2d3, came back`` when a fix is known from before this occurrence."""
    from agentlog.history.correlate import history_line, last_fix_before

    try:
        fix = last_fix_before(fp, ts, data_dir)
    except (OSError, ValueError, KeyError, TypeError):  # the count stands without it
        return ""
    return f"; {history_line({'fixed': True, 'fixed_in': fix[1], 'came_back': True})}" if fix else ""
