"""Token-budgeted context for agents: the newest failure first, then what surrounds it.

The context is cut into chunks. Each chunk has a place in the document and a
priority; chunks are admitted by priority while they fit the budget (a chunk
that does not fit whole is cut line by line), then printed in document order.
So the exception and the innermost frame's locals always survive, and the
session, older failures and distant frames go first when space is short.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from agentlog.context.tokencount import count_tokens, truncate_to_tokens
from agentlog.context.values import local_line
from agentlog.store import iter_records
from agentlog.store.records import FAILURE

DEFAULT_MAX_TOKENS = 4000
MAX_OLDER_FAILURES = 5
# Context reads only the newest record files up to this size: a full data dir (256 MB)
# would otherwise be parsed whole for every call.
SCAN_BYTES = 32 * 1024 * 1024
RELATED_WINDOW_S = 60.0
MAX_CMD_CHARS = 100

# Priorities: lower is admitted first.
P_HEADLINE, P_INNER_FRAME, P_HEADER, P_CHAIN, P_FRAME, P_TRAIL = 0, 1, 1.5, 2, 3, 4
P_OLDER_SUMMARY, P_SESSION, P_OTHER, P_OUTER_FRAME, P_OLDER = 2.5, 5, 6, 7, 8
SESSION_PRIORITIES = {"session": P_SESSION, "git": P_SESSION, "decisions": P_SESSION,
                      "tools": P_OTHER, "tokens": P_OLDER, "perf": P_OLDER}


@dataclasses.dataclass
class Chunk:
    """Lines that are admitted together, in whole or cut."""

    order: float  # place in the document
    priority: float  # lower is admitted first
    lines: list[str]
    keep_tail: bool = False  # when cut, keep the last lines (a call trail), not the first
    head: int = 0  # leading lines (a title, a frame's location) kept whenever any line is
    optional: frozenset[int] = frozenset()  # line indexes dropped first when the chunk must shrink
    label: str = ""  # what it is, for the line that lists what the budget left out


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _frame_lines(frame: dict[str, Any]) -> tuple[list[str], frozenset[int]]:
    """A user frame's lines and which of them (source around the failing line) are optional."""
    lines = [_where(frame)]
    optional = set()
    for n, text in frame.get("src", []):
        if n != frame["ln"]:
            optional.add(len(lines))
        lines.append(f"    {'>' if n == frame['ln'] else ' '}{n}| {text}")
    locals_ = frame.get("loc", {})
    if locals_:
        lines.append("    locals:")
        lines.extend(f"      {local_line(name, d)}" for name, d in locals_.items())
    elif frame.get("loc_cut"):
        lines.append(f"    locals: {frame['loc_cut']} omitted (record size cap)")
    return lines, frozenset(optional)


def _where(frame: dict[str, Any]) -> str:
    rep = ""
    if frame.get("rep"):
        block = f"this and the next {frame['per'] - 1} frame(s)" if frame.get("per") else "this frame"
        rep = f" ({block} repeated x{frame['rep']})"
    return f"  at {frame['f']} ({frame['file']}:{frame['ln']}){rep}"


def _frame_chunks(exc: dict[str, Any], order: float, base_priority: float) -> list[Chunk]:
    """One chunk per frame, innermost first; library frames are one line each."""
    chunks = []
    user_rank = 0
    for i, frame in enumerate(exc.get("frames", [])):
        place = order + i / 1000
        if "skipped" in frame:
            chunks.append(Chunk(place, P_OUTER_FRAME, [f"  … {frame['skipped']} frames skipped"]))
        elif not frame.get("u"):
            chunks.append(Chunk(place, P_OUTER_FRAME, [_where(frame) + " [library]"], label="library frame"))
        else:
            lines, optional = _frame_lines(frame)
            priority = base_priority + (P_INNER_FRAME if user_rank == 0 else P_FRAME + user_rank / 100)
            user_rank += 1
            chunks.append(Chunk(place, priority, lines, head=1, optional=optional, label="frame"))
    return chunks


def _exception_chunks(exc: dict[str, Any], order: float, base_priority: float,
                      label: str = "") -> list[Chunk]:
    head = [f"{label}{exc['t']}: {exc.get('m', '')}".rstrip()]
    head.extend(f"  note: {n}" for n in exc.get("notes", []))
    chunks = [Chunk(order, base_priority + (P_HEADLINE if not label else P_CHAIN), head, head=1,
                    label="chained exception" if label else "")]
    chunks += _frame_chunks(exc, order + 0.001, base_priority + (0 if not label else P_CHAIN))
    links = (("cause", "caused by: "), ("ctx", "while handling: "))
    for n, (key, text) in enumerate(links, start=1):
        if exc.get(key):
            chunks += _exception_chunks(exc[key], order + n * 0.1, base_priority + P_CHAIN, text)
    for m, member in enumerate(exc.get("group", [])):
        chunks += _exception_chunks(member, order + 0.3 + m * 0.01, base_priority + P_CHAIN,
                                    f"group member {m + 1}: ")
    return chunks


def _tracer_chunks(failure: dict[str, Any], order: float) -> list[Chunk]:
    try:
        from agentlog.context import trail as trailview
    except ImportError:
        return []
    chunks = []
    sections: list[tuple[str, str, Callable[[Any], list[str]], float, bool]] = [
        ("traced", "traced calls:", trailview.traced_lines, P_TRAIL, False),
        ("trail", "call trail before the failure (oldest first):", trailview.trail_lines, P_TRAIL, True),
        ("threads", "other threads:", trailview.threads_lines, P_OTHER, False),
    ]
    for n, (key, title, render, priority, tail) in enumerate(sections):
        if failure.get(key):
            lines = render(failure[key])
            if lines:
                chunks.append(Chunk(order + n * 0.01, priority, [title, *lines], keep_tail=tail, head=1,
                                    label=key.replace("trail", "call trail")))
    return chunks


def _session_chunks(failure: dict[str, Any], records: list[dict[str, Any]], order: float) -> list[Chunk]:
    try:
        from agentlog.context.session import session_blocks
    except ImportError:
        return []
    chunks = []
    for n, (name, lines) in enumerate(session_blocks(failure, records).items()):
        if lines:
            priority = SESSION_PRIORITIES.get(name, P_OTHER)
            chunks.append(Chunk(order + n * 0.01, priority, [f"{name}:", *lines], head=1, label=name))
    return chunks


def _failure_header(failure: dict[str, Any], index: int, total: int, cmd: bool = True) -> str:
    """``FAILURE 1/3 id=… at=… cmd=…``, plus the hook and thread when they are not the usual ones."""
    parts = [f"FAILURE {index}/{total} id={failure.get('id', '?')} at={_when(failure['ts'])}"]
    if failure.get("src") not in (None, "excepthook"):
        parts.append(f"via={failure['src']}")
    if failure.get("th") not in (None, "MainThread"):
        parts.append(f"thread={failure['th']}")
    if failure.get("test"):
        parts.append(f"test={failure['test']}")
    if cmd:
        command = " ".join(failure.get("argv", []))
        if len(command) > MAX_CMD_CHARS:
            command = f"{command[:MAX_CMD_CHARS]}… (+{len(command) - MAX_CMD_CHARS} chars)"
        parts.append(f"cmd={command!r}")
    return " ".join(parts)


def _summary_line(failure: dict[str, Any], index: int, total: int) -> str:
    """An older failure in one line: header, exception, innermost user frame."""
    exc = failure["exc"]
    frames = [f for f in exc.get("frames", []) if f.get("u")] or [f for f in exc.get("frames", []) if "f" in f]
    where = f" at {frames[0]['f']} ({frames[0]['file']}:{frames[0]['ln']})" if frames else ""
    message = exc.get("m", "").splitlines()[0][:160] if exc.get("m") else ""
    return f"{_failure_header(failure, index, total, cmd=False)}: {exc['t']}: {message}{where}"


def _related(failure: dict[str, Any], failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worker-side failures (multiprocessing) of the same session just before this one."""
    return [f for f in failures
            if f is not failure and f.get("src", "").startswith("mp_")
            and f.get("sid") == failure.get("sid") and f.get("pid") != failure.get("pid")
            and 0 <= failure["ts"] - f["ts"] <= RELATED_WINDOW_S]


def build_chunks(failures: list[dict[str, Any]], records: list[dict[str, Any]],
                 data_dir: Path | None = None) -> list[Chunk]:
    """All candidate chunks, newest failure first; a record that cannot be rendered is skipped."""
    if not failures:
        return [Chunk(0, 0, ["No failures recorded."])]
    newest, older = failures[-1], failures[-2::-1]
    total = len(failures)
    chunks = [Chunk(0, P_HEADER, [_failure_header(newest, 1, total)])]
    chunks += _guarded(_seen_before_chunks, newest, data_dir)
    chunks += _guarded(_exception_chunks, newest["exc"], 1, 0)
    for n, worker in enumerate(_related(newest, failures)[-2:]):
        label = f"in worker pid={worker.get('pid')}: "
        chunks += _guarded(_exception_chunks, worker["exc"], 2 + n * 0.1, P_CHAIN, label)
    chunks += _guarded(_tracer_chunks, newest, 3)
    chunks += _guarded(_session_chunks, newest, records, 4)
    for n, failure in enumerate(older[:MAX_OLDER_FAILURES]):
        base = 10 + n
        summary = _guarded(_summary_chunks, failure, n + 2, total, base)
        chunks += summary
        if summary:
            # Its frames (the exception line is already in the summary) only if room remains.
            frames = _guarded(_frame_chunks, failure["exc"], base + 0.01, P_OLDER + n)
            chunks += [dataclasses.replace(c, priority=max(c.priority, P_OLDER + n)) for c in frames]
    return chunks


def _seen_before_chunks(failure: dict[str, Any], data_dir: Path | None) -> list[Chunk]:
    """The header's history line (context/seen.py), right under it, kept with the headline."""
    from agentlog.context.seen import seen_before_line

    line = seen_before_line(failure, data_dir)
    return [Chunk(0.0001, P_HEADER, [line], label="history")] if line else []


def _summary_chunks(failure: dict[str, Any], index: int, total: int, order: float) -> list[Chunk]:
    return [Chunk(order, P_OLDER_SUMMARY + index / 100, [_summary_line(failure, index, total)],
                  label="older failure")]


def _guarded(build: Callable[..., list[Chunk]], *args: Any) -> list[Chunk]:
    """Chunks from one record, or none if the record is malformed (hand-edited, another version)."""
    try:
        return build(*args)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError):
        return []


def _cost(lines: list[str]) -> int:
    return count_tokens("\n".join(lines) + "\n") if lines else 0


def _cut(chunk: Chunk, budget: int) -> list[str]:
    """The chunk shrunk to ``budget`` tokens: optional lines go first, then lines from the
    end (the start for ``keep_tail``) behind a marker saying how many; head lines always stay."""
    lines = [line for i, line in enumerate(chunk.lines) if i not in chunk.optional]
    if _cost(lines) <= budget:
        return lines
    head, body = lines[: chunk.head], lines[chunk.head :]
    if chunk.keep_tail:
        body.reverse()
    used = _cost(head)
    kept: list[str] = []
    for line in body:
        marker = f"  … {len(body) - len(kept) - 1} more lines"
        if used + count_tokens(line + "\n") + count_tokens(marker + "\n") > budget:
            break
        kept.append(line)
        used += count_tokens(line + "\n")
    marker = f"  … {len(body) - len(kept)} more lines"
    if not kept or used + count_tokens(marker + "\n") > budget:
        return []  # a title alone, or a frame's location alone, says nothing
    if chunk.keep_tail:
        return _with_ancestors(head, body[::-1], kept[::-1], budget)
    return [*head, *kept, marker]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _with_ancestors(head: list[str], body: list[str], tail: list[str], budget: int) -> list[str]:
    """A cut tree (the call trail): its last lines, plus the lines of their enclosing calls.

    Oldest kept lines make room for the ancestors, so an indented line is never
    shown without the calls it happened in.
    """
    while tail:
        start = len(body) - len(tail)
        ancestors: list[str] = []
        depth = _indent(tail[0])
        for line in reversed(body[:start]):
            if _indent(line) < depth:
                ancestors.insert(0, line)
                depth = _indent(line)
        lines = [*head, f"  … {start - len(ancestors)} more lines", *ancestors, *tail]
        if _cost(lines) <= budget:
            return lines
        tail = tail[1:]
    return []


def fit_chunks(chunks: list[Chunk], max_tokens: int) -> str:
    """Admit chunks by priority within ``max_tokens``; render them in document order.

    Admission stops at the first chunk that cannot fit even in part, so a less
    important scrap never takes the place of a more important chunk (one-line
    chunks are skipped instead: they have no part to keep).
    """
    chosen: list[tuple[float, list[str]]] = []
    reserve = OMITTED_LINE_TOKENS if max_tokens >= 4 * OMITTED_LINE_TOKENS else 0
    remaining = max_tokens - reserve
    left_out: list[str] = []
    for chunk in sorted(chunks, key=lambda c: (c.priority, c.order)):
        lines = chunk.lines if _cost(chunk.lines) <= remaining else _cut(chunk, remaining)
        if not lines:
            left_out.append(chunk.label)
            if len(chunk.lines) == 1:
                continue  # a whole line that does not fit: a shorter one later still may
            left_out += [c.label for c in chunks if c.priority > chunk.priority or
                         (c.priority == chunk.priority and c.order > chunk.order)]
            break  # what is left is too small to be useful; don't fill it with scraps
        remaining -= _cost(lines)
        chosen.append((chunk.order, lines))
    note = _left_out_line(left_out)
    if note and _cost([note]) <= remaining + reserve:
        chosen.append((float("inf"), [note]))
    if not chosen and chunks:
        # Not even the first line fits: a cut headline still says what failed.
        first = min(chunks, key=lambda c: (c.priority, c.order)).lines[0]
        cut = truncate_to_tokens(first, max_tokens - 1)
        chosen = [(0, [cut])] if cut else []
    chosen.sort(key=lambda item: item[0])
    return _CONTROL_RE.sub(_escape, "".join("\n".join(lines) + "\n" for _, lines in chosen))


OMITTED_LINE_TOKENS = 24  # kept free for the line saying what the budget left out


def _left_out_line(labels: list[str]) -> str:
    """``(left out to fit the budget: 3 frames, call trail, git)``, or "" if nothing named was."""
    counts = Counter(label for label in labels if label)
    if not counts:
        return ""
    parts = [f"{n} {label}s" if n > 1 else label for label, n in counts.items()]
    return f"(left out to fit the budget: {', '.join(parts)})"


# Terminal control characters from messages or output (an ESC clearing the screen) are shown, not sent.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def load(data_dir: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(failures oldest first, all records oldest first) from the store."""
    from agentlog.core.config import get_config

    records = list(iter_records(data_dir or get_config().data_dir, max_bytes=SCAN_BYTES))
    return [r for r in records if r["k"] == FAILURE and _is_failure(r)], records


def _is_failure(record: dict[str, Any]) -> bool:
    exc = record.get("exc")
    if not (isinstance(exc, dict) and isinstance(exc.get("t"), str)):
        return False
    frames = exc.get("frames", [])
    return isinstance(frames, list) and all(isinstance(f, dict) for f in frames)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _slimmer(failure: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Ever smaller copies of a failure record, least useful detail first.

    Call trail, threads, git; the envelope but id, time and kind; chained exceptions;
    locals of all but the innermost
    user frame; all frames but that one; its source but the failing line; its locals;
    that line.
    """
    record = json.loads(_dumps(failure))
    for key in ("traced", "threads", "trail", "git"):
        if record.pop(key, None) is not None:
            yield record
    for key in ("argv", "cwd", "py", "sid", "pid", "tid", "th"):
        record.pop(key, None)
    yield record
    exc = record["exc"]
    for key in ("group", "ctx", "cause"):
        exc.pop(key, None)
    yield record
    user = [f for f in exc.get("frames", []) if f.get("u")]
    for frame in user[1:]:
        frame.pop("loc", None)
    yield record
    exc["frames"] = user[:1]
    yield record
    for frame in user[:1]:
        frame["src"] = [line for line in frame.get("src", []) if line[0] == frame["ln"]]
        yield record
        frame.pop("loc", None)
        yield record
        frame.pop("src", None)
        yield record


def _shrunk(failure: dict[str, Any], max_tokens: int) -> dict[str, Any] | None:
    """The largest of :func:`_slimmer`'s copies that fits, else the bare exception, else None."""
    for slim in _slimmer(failure):
        if count_tokens(_dumps({"failures": [slim]})) <= max_tokens:
            return slim
    exc = failure["exc"]
    headline = {"id": failure.get("id"), "ts": failure.get("ts"),
                "exc": {"t": exc.get("t"), "m": exc.get("m", "")[:200]}}
    return headline if count_tokens(_dumps({"failures": [headline]})) <= max_tokens else None


def _json_context(failures: list[dict[str, Any]], max_tokens: int) -> str:
    """Whole failure records, newest first, as many as fit; the newest shrunk if it must."""
    chosen: list[dict[str, Any]] = []
    for failure in reversed(failures):
        if count_tokens(_dumps({"failures": [*chosen, failure], "total": len(failures)})) <= max_tokens:
            chosen.append(failure)
            continue
        if not chosen:
            slim = _shrunk(failure, max_tokens - 20)
            chosen.extend([slim] if slim else [])
        break
    return _dumps({"failures": chosen, "total": len(failures)})


def get_debug_context(max_tokens: int = DEFAULT_MAX_TOKENS, format: str = "text",
                      data_dir: str | Path | None = None) -> str:
    """Context for the newest failure (then older ones) in at most ``max_tokens`` tokens."""
    failures, records = load(Path(data_dir) if data_dir else None)
    if format == "json":
        return _json_context(failures, max_tokens)
    if format != "text":
        raise ValueError(f"unknown context format {format!r} (text or json)")
    return fit_chunks(build_chunks(failures, records, Path(data_dir) if data_dir else None), max_tokens)
