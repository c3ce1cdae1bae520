"""Failures one line each, found by id, by search text, and grouped into patterns.

Searching and grouping key on the exception type, its message and the innermost
user frame. When failures carry fingerprints (the history stage), :func:`pattern_key`
is the one place to switch to them.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

MAX_MESSAGE_CHARS = 120


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


def pattern_key(failure: dict[str, Any]) -> str:
    """What makes two failures the same problem: exception type and where it was raised."""
    frame = _innermost(failure)
    where = f"{frame['file']}:{frame['f']}" if frame else "?"
    return f"{failure.get('exc', {}).get('t', '?')} at {where}"


def search_failures(failures: list[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    """Failures, newest first, whose pattern, type, message, file, function or test contains
    every word of ``query`` (case-insensitive)."""
    words = query.lower().split()
    found = []
    for failure in reversed(failures):
        exc = failure.get("exc", {})
        haystack = " ".join([pattern_key(failure), str(exc.get("m", "")), str(failure.get("test", "")),
                             str(failure.get("id", ""))]).lower()
        if all(word in haystack for word in words):
            found.append(failure)
    return found


def pattern_lines(failures: list[dict[str, Any]], limit: int = 20) -> list[str]:
    """The most frequent patterns: ``count x pattern (last id, last time)``, most frequent first."""
    counts = Counter(pattern_key(f) for f in failures)
    last = {pattern_key(f): f for f in failures}
    lines = []
    for key, n in counts.most_common(limit):
        newest = last[key]
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(newest.get("ts", 0)))
        lines.append(f"{n}x {key} (last id={newest.get('id', '?')} at {when})")
    return lines
