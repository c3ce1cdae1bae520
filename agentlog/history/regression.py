"""Regressions: one session (a run) against a baseline session.

A session stands for its run: itself and the sessions started inside it (an
agent's sub-sessions, ``start_session`` blocks), so a crash recorded in a child
session counts for the run; the default session is the newest run's outermost one.

A regression is any of: a fingerprint the baseline did not have; a test that
passed in the baseline and fails now; a user function's total time (profile
``tot``) or a perf marker's duration that got worse beyond the threshold.
Times are compared noise-aware: the *fastest* sample of the current session
against the *median* of the baseline's samples (one per process or marker), and
the ratio must pass ``threshold`` (default 2.0), widened to 1.2x the baseline's
own max/min spread when it has several samples; differences under
MIN_DELTA_MS are ignored. Tokens are reported, never a regression by themselves.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from agentlog.work.summary import BASELINE

DEFAULT_THRESHOLD = 2.0
MIN_DELTA_MS = 5.0
MAX_LISTED = 50  # items per section of the report
_RUN_KINDS = frozenset({"failure", "tests", "profile", "perf", "llm"})


def _folder(data_dir: str | Path | None) -> Path:
    from agentlog.core.config import get_config

    return Path(data_dir).absolute() if data_dir else get_config().data_dir


def _records(data_dir: str | Path | None) -> list[dict[str, Any]]:
    from agentlog.store import iter_records

    return list(iter_records(_folder(data_dir), warn=False))


def _resolve(records: list[dict[str, Any]], ref: str) -> str:
    from agentlog.work.summary import resolve_session, summarize_sessions

    return resolve_session(summarize_sessions(records), ref).id


def set_baseline(session: str, data_dir: str | Path | None = None) -> str:
    """Tag ``session`` (an id or unique prefix) as the baseline; returns its full id."""
    from agentlog.core.config import get_config
    from agentlog.store import append, make_record

    sid = _resolve(_records(data_dir), session)
    # Under the tagged session's own id, so the tag never shows as a session of its own.
    if not append(make_record(BASELINE, of=sid, sid=sid), config=get_config()._replace(dir=str(_folder(data_dir)))):
        raise OSError(f"cannot write to {_folder(data_dir)}")
    return sid


def current_baseline(records: list[dict[str, Any]]) -> str | None:
    tagged = [r["of"] for r in records if r.get("k") == BASELINE and isinstance(r.get("of"), str)]
    return tagged[-1] if tagged else None


def _newest_run(records: list[dict[str, Any]], exclude: str | None) -> str | None:
    """The outermost session of the newest run that is not the baseline's."""
    from agentlog.work.summary import root_session, session_tree, summarize_sessions

    infos = summarize_sessions(records)
    skip = set(session_tree(infos, exclude)) if exclude else set()
    sids = [r.get("sid") for r in records if r.get("k") in _RUN_KINDS and r.get("sid") not in skip]
    sid = next((s for s in reversed(sids) if isinstance(s, str)), None)
    if sid is None:
        return None
    root = root_session(infos, sid)
    return sid if root in skip else root


def session_facts(records: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    """What a session and the sessions started inside it ran into: fingerprints, test outcomes,
    time samples, tokens."""
    from agentlog.history.fingerprint import fingerprint_record
    from agentlog.work.summary import session_tree, summarize_sessions

    tree = set(session_tree(summarize_sessions(records), sid))
    facts: dict[str, Any] = {"fps": {}, "tests": {}, "times": {}, "tokens": 0}
    for r in records:
        if r.get("sid") not in tree:
            continue
        kind = r.get("k")
        if kind == "failure" and isinstance(r.get("exc"), dict):
            fp = fingerprint_record(r)
            entry = facts["fps"].setdefault(fp, {"fp": fp, "t": r["exc"].get("t"),
                                                 "m": str(r["exc"].get("m", ""))[:200], "n": 0})
            entry["n"] += 1
        elif kind == "tests" and isinstance(r.get("res"), dict):
            facts["tests"].update(r["res"])
        elif kind == "profile":
            for fn in r.get("fns", []):
                name = f"function {fn.get('f')} ({os.path.basename(str(fn.get('file', '')))})"
                facts["times"].setdefault(name, []).append(fn.get("tot", 0) / 1e6)
        elif kind == "perf" and isinstance(r.get("dur"), int | float):
            facts["times"].setdefault(f"perf marker {r.get('label')!r}", []).append(r["dur"] * 1000)
        elif kind == "llm":
            facts["tokens"] += int(r.get("in", 0)) + int(r.get("out", 0))
    return facts


def _slower(base: dict[str, list[float]], now: dict[str, list[float]], threshold: float) -> list[dict[str, Any]]:
    slower = []
    for name, samples in now.items():
        before = base.get(name)
        if not before:
            continue
        typical, best = statistics.median(before), min(samples)
        limit = threshold
        if len(before) > 1 and min(before) > 0:
            limit = max(threshold, 1.2 * max(before) / min(before))
        if best - typical >= MIN_DELTA_MS and best > typical * limit:
            slower.append({"name": name, "base_ms": round(typical, 2), "now_ms": round(best, 2),
                           "ratio": round(best / typical, 2) if typical else None, "limit": round(limit, 2)})
    return sorted(slower, key=lambda s: -(s["now_ms"] - s["base_ms"]))


def compare_to_baseline(session: str | None = None, baseline: str | None = None,
                        data_dir: str | Path | None = None,
                        threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """Compare ``session`` (default: the newest run) with ``baseline`` (default: the tagged one).

    LookupError when there is no baseline or no session to compare.
    """
    records = _records(data_dir)
    base_id = _resolve(records, baseline) if baseline else current_baseline(records)
    if base_id is None:
        raise LookupError("no baseline: tag one with `agentlog baseline set SESSION`")
    sid = _resolve(records, session) if session else _newest_run(records, base_id)
    if sid is None:
        raise LookupError("no session ran since the baseline")
    base, now = session_facts(records, base_id), session_facts(records, sid)
    was = base["tests"]
    result = {
        "baseline": base_id, "session": sid, "threshold": threshold,
        "new_failures": [f for fp, f in now["fps"].items() if fp not in base["fps"]],
        "gone_failures": [f for fp, f in base["fps"].items() if fp not in now["fps"]],
        "broken_tests": sorted(t for t, o in now["tests"].items() if o == "failed" and was.get(t) == "passed"),
        "fixed_tests": sorted(t for t, o in now["tests"].items() if o == "passed" and was.get(t) == "failed"),
        "slower": _slower(base["times"], now["times"], threshold),
        "tokens": {"baseline": base["tokens"], "session": now["tokens"]},
    }
    result["regression"] = bool(result["new_failures"] or result["broken_tests"] or result["slower"])
    return result


def detect_regression(session: str | None = None, baseline: str | None = None,
                      data_dir: str | Path | None = None, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether ``session`` regressed against ``baseline`` (see :func:`compare_to_baseline`)."""
    return compare_to_baseline(session, baseline, data_dir, threshold)["regression"]


def generate_regression_report(comparison: dict[str, Any] | None = None, session: str | None = None,
                               baseline: str | None = None, data_dir: str | Path | None = None,
                               threshold: float = DEFAULT_THRESHOLD) -> str:
    """A markdown report of a comparison (made with :func:`compare_to_baseline` when not given)."""
    c = comparison or compare_to_baseline(session, baseline, data_dir, threshold)
    verdict = "REGRESSION" if c["regression"] else "no regression"
    lines = [f"# Regression report: {verdict}", "",
             f"Session `{c['session']}` against baseline `{c['baseline']}` (time threshold {c['threshold']}x).", ""]

    def section(title: str, items: list[str]) -> None:
        lines.extend([f"## {title} ({len(items)})", ""])
        lines.extend(f"- {item}" for item in items[:MAX_LISTED])
        if len(items) > MAX_LISTED:
            lines.append(f"- … {len(items) - MAX_LISTED} more")
        lines.append("" if items else "none\n")

    section("New failures", [f"`{f['fp']}` {f['t']}: {f['m']} (x{f['n']})" for f in c["new_failures"]])
    section("Tests that passed in the baseline and fail now", [f"`{t}`" for t in c["broken_tests"]])
    section("Slower", [f"{s['name']}: {s['base_ms']} ms -> {s['now_ms']} ms ({s['ratio']}x, limit {s['limit']}x)"
                       for s in c["slower"]])
    section("Failures gone since the baseline", [f"`{f['fp']}` {f['t']}: {f['m']}" for f in c["gone_failures"]])
    section("Tests fixed since the baseline", [f"`{t}`" for t in c["fixed_tests"]])
    tokens = c["tokens"]
    lines.extend(["## Tokens", "", f"baseline {tokens['baseline']}, session {tokens['session']}", ""])
    return "\n".join(lines).rstrip() + "\n"
