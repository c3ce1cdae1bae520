"""Failures one line each, found by id or by search words; history patterns as lines.

A listing has one line per group (context/grouping.py): the failing cases of one
test, or a failure with the worker and child failures it absorbs.

Search matches a failure's fingerprint (``fp``, from the history stage), exception
type, message, innermost user frame, test and id.
"""

from __future__ import annotations

import time
from typing import Any

from agentlog.context.grouping import Group, group_failures

MAX_MESSAGE_CHARS = 120
MAX_IDS = 3  # ids of absorbed failures named on a list line


def _innermost(failure: dict[str, Any]) -> dict[str, Any] | None:
    """The innermost user frame that names its place (else any frame that does), or None."""
    frames = failure.get("exc", {}).get("frames", [])
    placed = [f for f in frames if isinstance(f, dict) and {"file", "ln", "f"} <= f.keys()]
    user = [f for f in placed if f.get("u")] or placed
    return user[0] if user else None


def failure_line(failure: dict[str, Any]) -> str:
    """``id  time  Type: message  at file:line in function  test ...``."""
    exc = failure.get("exc", {})
    frame = _innermost(failure)
    where = f"{frame['file']}:{frame['ln']} in {frame['f']}" if frame else "?"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(failure.get("ts", 0)))
    message = exc.get("m", "").splitlines()[0][:MAX_MESSAGE_CHARS] if exc.get("m") else ""
    test = f"  test {failure['test']}" if failure.get("test") else ""
    return f"{failure.get('id', '?')}  {when}  {exc.get('t', '?')}: {message}  at {where}{test}"


def group_line(group: Group) -> str:
    """:func:`failure_line` of the group's lead, then what it stands for: ``(+2 cases; +1 worker
    or child failure: 3f2a…; +1 other child failure: 9c1d…)``, so a worker's failure is not listed
    on its own."""
    extra = []
    if len(group.cases) > 1:
        extra.append(f"+{len(group.cases) - 1} case{'s' if len(group.cases) > 2 else ''}")
    if group.related:
        ids = ", ".join(str(f.get("id", "?")) for f in group.related[-MAX_IDS:])
        more = "…" if len(group.related) > MAX_IDS else ""
        noun = "failure" if len(group.related) == 1 else "failures"
        extra.append(f"+{len(group.related)} worker or child {noun}: {more}{ids}")
    if group.others:
        ids = ", ".join(str(f.get("id", "?")) for f in group.others[-MAX_IDS:])
        more = "…" if len(group.others) > MAX_IDS else ""
        noun = "failure" if len(group.others) == 1 else "failures"
        extra.append(f"+{len(group.others)} other child {noun}: {more}{ids}")
    return failure_line(group.lead) + (f"  ({'; '.join(extra)})" if extra else "")


def list_lines(failures: list[dict[str, Any]], limit: int) -> tuple[list[str], int]:
    """(the newest ``limit`` groups' lines, newest first; how many groups there are)."""
    groups = group_failures(failures)
    return [group_line(g) for g in groups[::-1][:limit]], len(groups)


def find_failure(failures: list[dict[str, Any]], failure_id: str) -> dict[str, Any]:
    """The failure with this id (or unique id prefix); LookupError naming the problem otherwise."""
    matches = [f for f in failures if f.get("id") == failure_id]
    if not matches and failure_id:
        matches = [f for f in failures if str(f.get("id", "")).startswith(failure_id)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise LookupError(f"no failure with id {failure_id!r} (list_failures shows the ids)")
    raise LookupError(f"id prefix {failure_id!r} matches {len(matches)} failures; give more characters")


def search_failures(failures: list[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    """Failures, newest first, whose fingerprint, type, message, file, function, test or id
    contains every word of ``query`` (case-insensitive; a fingerprint prefix matches)."""
    words = query.lower().split()
    found = []
    for failure in reversed(failures):
        exc = failure.get("exc", {})
        frame = _innermost(failure) or {}
        haystack = " ".join(str(part) for part in (
            failure.get("fp", ""), exc.get("t", ""), exc.get("m", ""), frame.get("file", ""), frame.get("f", ""),
            failure.get("test", ""), failure.get("id", ""))).lower()
        if all(word in haystack for word in words):
            found.append(failure)
    return found


def _day(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts or 0))


def pattern_lines(pattern: dict[str, Any]) -> list[str]:
    """A history pattern (``agentlog.history.patterns``): fingerprint, count, days, sessions, last
    commit, exception; then the functions it runs through."""
    sha = f", last at {pattern['shas'][-1][0][:7]}" if pattern.get("shas") else ""
    lines = [f"{pattern['fp']}  x{pattern['n']}  {_day(pattern['first'])}..{_day(pattern['last'])}  "
             f"{pattern['nsess']} sessions{sha}  {pattern['t']}: {pattern['m']}"]
    if pattern.get("fns"):
        lines.append(f"    in {' < '.join(pattern['fns'][:4])}")
    return lines
