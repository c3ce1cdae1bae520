"""Correlation: what the history says about one fingerprint, and when it was last fixed.

A *fix* is a session started after an occurrence that ran the same thing and
did not fail that way: the failing test passed (the pytest plugin's ``tests``
records), or the same command line ran to a successful end without this
fingerprint; or an explicit ``tag_outcome(failure_id, "fixed")``. Command lines
are compared as the ``session_start`` records hold them (the failure record's
``argv`` is the program's, the session's the launcher's: ``python -m agentlog
app.py`` starts a session with ``[.../agentlog/__main__.py, "app.py"]``). Its commit is
the HEAD that session (or the tag) recorded. An occurrence after the newest fix
means the bug came back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentlog.history.outcomes import SCAN_BYTES, session_outcomes, tags
from agentlog.history.patterns import find_pattern, load_patterns

TESTS = "tests"


def test_name(test: str | None) -> str | None:
    """A failure's ``test`` field without its phase: ``tests/t.py::test_x (call)`` -> ``tests/t.py::test_x``."""
    return test.rsplit(" (", 1)[0] if test else None


def passed_tests(record: dict[str, Any]) -> set[str]:
    res = record.get("res")
    return {name for name, outcome in res.items() if outcome == "passed"} if isinstance(res, dict) else set()


def _fixes(fp: str, records: list[dict[str, Any]]) -> list[tuple[float, str | None]]:
    """(time, commit) of every fix of ``fp`` the records show (module docstring)."""
    from agentlog.store.records import FAILURE
    from agentlog.work.session import SESSION_START

    occurrences = [r for r in records if r.get("k") == FAILURE and r.get("fp") == fp]
    if not occurrences:
        return []
    first = min(r.get("ts", 0) for r in occurrences)
    failing_sessions = {r.get("sid") for r in occurrences}
    tests = {test_name(r.get("test")) for r in occurrences} - {None}
    starts = {r["sid"]: r for r in records if r.get("k") == SESSION_START and isinstance(r.get("sid"), str)}
    argvs = {tuple(starts[r["sid"]].get("argv") or ()) for r in occurrences
             if not r.get("test") and r.get("sid") in starts}
    outcomes = session_outcomes(records)

    def sha_of(sid: Any) -> str | None:
        git = (starts.get(sid) or {}).get("git")
        return git.get("sha") if isinstance(git, dict) else None

    fixes: list[tuple[float, str | None]] = []
    for r in records:
        ts = r.get("ts", 0)
        if ts <= first or r.get("sid") in failing_sessions:
            continue
        if r.get("k") == TESTS and tests & passed_tests(r):
            fixes.append((ts, sha_of(r.get("sid"))))
        elif (r.get("k") == SESSION_START and tuple(r.get("argv") or ()) in argvs
              and outcomes.get(r["sid"], {}).get("outcome") == "success"):
            fixes.append((ts, sha_of(r["sid"])))
    ids = {r.get("id") for r in occurrences}
    fixes += [(t["ts"], t.get("sha")) for on, t in tags(records).items() if on in ids and t.get("out") == "fixed"]
    return sorted(fixes, key=lambda f: f[0])


def _records(data_dir: str | Path | None) -> list[dict[str, Any]]:
    """The newest SCAN_BYTES of records in the data dir."""
    from agentlog.core.config import get_config
    from agentlog.store import iter_records

    folder = Path(data_dir) if data_dir else get_config().data_dir
    return list(iter_records(folder, warn=False, max_bytes=SCAN_BYTES))


def correlate(fp: str, data_dir: str | Path | None = None) -> dict[str, Any] | None:
    """Earlier occurrences of fingerprint ``fp`` (or a unique prefix), or None if never seen.

    Keys: ``fp``, ``t``, ``m``, ``fns``, ``count``, ``first``, ``last`` (wall times),
    ``sessions`` (id, agent, task, outcome; the newest MAX_SESSIONS), ``nsess``,
    ``agents``, ``commits`` (sha, first, last, count), ``recent`` occurrences,
    ``fixed`` (a fix is known), ``fixed_in`` (the commit of the fix after the newest
    occurrence, else of the newest fix; None if unknown) and ``came_back`` (it
    occurred again after that fix).
    """
    pattern = find_pattern(load_patterns(data_dir).values(), fp)
    if pattern is None:
        return None
    records = _records(data_dir)
    outcomes = session_outcomes(records)
    sessions = [{"id": sid, **{k: outcomes.get(sid, {}).get(k) for k in ("agent", "task", "outcome")}}
                for sid in pattern["sessions"]]
    fixes = _fixes(pattern["fp"], records)
    after = [f for f in fixes if f[0] > pattern["last"]]
    before = [f for f in fixes if f[0] < pattern["last"]]
    fix = after[0] if after else before[-1] if before else None
    return {"fp": pattern["fp"], "t": pattern["t"], "m": pattern["m"], "fns": pattern["fns"],
            "count": pattern["n"], "first": pattern["first"], "last": pattern["last"],
            "sessions": sessions, "nsess": pattern["nsess"], "agents": pattern["agents"],
            "commits": [{"sha": s, "first": a, "last": b, "count": n} for s, a, b, n in pattern["shas"]],
            "recent": pattern["recent"], "fixed": fix is not None, "fixed_in": fix[1] if fix else None,
            "came_back": bool(fix) and not after}


def last_fix_before(fp: str, ts: float, data_dir: str | Path | None = None) -> tuple[float, str | None] | None:
    """(time, commit) of the newest fix of ``fp`` before wall time ``ts``, or None."""
    before = [f for f in _fixes(fp, _records(data_dir)) if f[0] < ts]
    return before[-1] if before else None


def history_line(info: dict[str, Any]) -> str:
    """``last fixed in 4f2a91c, came back`` / ``fixed in 4f2a91c`` / "" (no fix known)."""
    if not info.get("fixed"):
        return ""
    where = f"in {info['fixed_in'][:7]}" if info.get("fixed_in") else "(commit unknown)"
    return f"last fixed {where}, came back" if info.get("came_back") else f"fixed {where}"
