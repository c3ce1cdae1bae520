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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentlog.store import iter_records
from agentlog.store.records import FAILURE
from agentlog.tokencount import count_tokens
from agentlog.valuetext import local_line

DEFAULT_MAX_TOKENS = 4000
MAX_OLDER_FAILURES = 5
# Context reads only the newest record files up to this size: a full data dir (256 MB)
# would otherwise be parsed whole for every call.
SCAN_BYTES = 32 * 1024 * 1024
RELATED_WINDOW_S = 60.0

# Priorities: lower is admitted first.
P_HEADLINE, P_INNER_FRAME, P_HEADER, P_CHAIN, P_FRAME, P_TRAIL = 0, 1, 1.5, 2, 3, 4
P_SESSION, P_OTHER, P_OUTER_FRAME, P_OLDER = 5, 6, 7, 8
SESSION_PRIORITIES = {"session": P_SESSION, "git": P_SESSION, "decisions": P_SESSION,
                      "tools": P_OTHER, "tokens": P_OLDER, "perf": P_OLDER}


@dataclasses.dataclass
class Chunk:
    order: float
    priority: float
    lines: list[str]
    keep_tail: bool = False  # when cut, keep the last lines (a call trail), not the first


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _frame_chunks(exc: dict[str, Any], order: float, base_priority: float) -> list[Chunk]:
    """One chunk per frame, innermost first: location, source, then locals."""
    chunks = []
    user_rank = 0
    for i, frame in enumerate(exc.get("frames", [])):
        if "skipped" in frame:
            chunks.append(Chunk(order + i / 1000, P_OUTER_FRAME, [f"  … {frame['skipped']} frames skipped"]))
            continue
        rep = ""
        if frame.get("rep"):
            block = f"this and the next {frame['per'] - 1} frame(s)" if frame.get("per") else "this frame"
            rep = f" ({block} repeated x{frame['rep']})"
        where = f"  at {frame['f']} ({frame['file']}:{frame['ln']}){rep}"
        if not frame.get("u"):
            chunks.append(Chunk(order + i / 1000, P_OUTER_FRAME, [where + " [library]"]))
            continue
        lines = [where]
        for n, text in frame.get("src", []):
            marker = ">" if n == frame["ln"] else " "
            lines.append(f"    {marker}{n}| {text}")
        locals_ = frame.get("loc", {})
        if locals_:
            lines.append("    locals:")
            lines.extend(f"      {local_line(name, d)}" for name, d in locals_.items())
        elif frame.get("loc_cut"):
            lines.append(f"    locals: {frame['loc_cut']} omitted (record size cap)")
        priority = base_priority + (P_INNER_FRAME if user_rank == 0 else P_FRAME + user_rank / 100)
        user_rank += 1
        chunks.append(Chunk(order + i / 1000, priority, lines))
    return chunks


def _exception_chunks(exc: dict[str, Any], order: float, base_priority: float,
                      label: str = "") -> list[Chunk]:
    head = [f"{label}{exc['t']}: {exc.get('m', '')}".rstrip()]
    head.extend(f"  note: {n}" for n in exc.get("notes", []))
    chunks = [Chunk(order, base_priority + (P_HEADLINE if not label else P_CHAIN), head)]
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
        from agentlog import trailview
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
                chunks.append(Chunk(order + n * 0.01, priority, [title, *lines], keep_tail=tail))
    return chunks


def _session_chunks(failure: dict[str, Any], records: list[dict[str, Any]], order: float) -> list[Chunk]:
    try:
        from agentlog.session_context import session_blocks
    except ImportError:
        return []
    chunks = []
    for n, (name, lines) in enumerate(session_blocks(failure, records).items()):
        if lines:
            priority = SESSION_PRIORITIES.get(name, P_OTHER)
            chunks.append(Chunk(order + n * 0.01, priority, [f"{name}:", *lines]))
    return chunks


def _failure_header(failure: dict[str, Any], index: int, total: int) -> str:
    argv = " ".join(failure.get("argv", []))
    return (f"FAILURE {index}/{total} id={failure.get('id', '?')} at={_when(failure['ts'])} "
            f"via={failure.get('src', '?')} pid={failure.get('pid')} thread={failure.get('th')} "
            f"cmd={argv!r}")


def _related(failure: dict[str, Any], failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worker-side failures (multiprocessing) of the same session just before this one."""
    return [f for f in failures
            if f is not failure and f.get("src", "").startswith("mp_")
            and f.get("sid") == failure.get("sid") and f.get("pid") != failure.get("pid")
            and 0 <= failure["ts"] - f["ts"] <= RELATED_WINDOW_S]


def build_chunks(failures: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[Chunk]:
    """All candidate chunks, newest failure first."""
    if not failures:
        return [Chunk(0, 0, ["No failures recorded."])]
    newest, older = failures[-1], failures[-2::-1]
    chunks = [Chunk(0, P_HEADER, [_failure_header(newest, 1, len(failures))])]
    chunks += _exception_chunks(newest["exc"], 1, 0)
    for n, worker in enumerate(_related(newest, failures)[-2:]):
        label = f"in worker pid={worker.get('pid')}: "
        chunks += _exception_chunks(worker["exc"], 2 + n * 0.1, P_CHAIN, label)
    chunks += _tracer_chunks(newest, 3)
    chunks += _session_chunks(newest, records, 4)
    for n, failure in enumerate(older[:MAX_OLDER_FAILURES]):
        base = 10 + n
        chunks.append(Chunk(base, P_OLDER + n, [_failure_header(failure, n + 2, len(failures))]))
        for chunk in _exception_chunks(failure["exc"], base + 0.01, P_OLDER + n):
            chunk.priority = max(chunk.priority, P_OLDER + n)
            chunks.append(chunk)
    return chunks


def _cut(chunk: Chunk, budget: int) -> list[str]:
    """As many lines of the chunk as fit in ``budget`` tokens, plus a marker of what was cut."""
    lines = list(reversed(chunk.lines)) if chunk.keep_tail else list(chunk.lines)
    kept: list[str] = []
    used = 0
    for line in lines:
        cost = count_tokens(line + "\n")
        marker_cost = count_tokens(f"  … {len(lines) - len(kept)} more lines\n")
        if used + cost + marker_cost > budget:
            break
        kept.append(line)
        used += cost
    if not kept:
        return []
    kept.append(f"  … {len(lines) - len(kept)} more lines")
    return list(reversed(kept)) if chunk.keep_tail else kept


def fit_chunks(chunks: list[Chunk], max_tokens: int) -> str:
    """Admit chunks by priority within ``max_tokens``; render them in document order.

    Admission stops at the first chunk that cannot fit even in part, so a less
    important scrap never takes the place of a more important chunk.
    """
    chosen: list[tuple[float, list[str]]] = []
    remaining = max_tokens
    for chunk in sorted(chunks, key=lambda c: (c.priority, c.order)):
        text = "\n".join(chunk.lines) + "\n"
        cost = count_tokens(text)
        lines = chunk.lines if cost <= remaining else _cut(chunk, remaining)
        if not lines:
            break  # what is left is too small to be useful; don't fill it with scraps
        remaining -= count_tokens("\n".join(lines) + "\n")
        chosen.append((chunk.order, lines))
    chosen.sort(key=lambda item: item[0])
    return "".join("\n".join(lines) + "\n" for _, lines in chosen)


def load(data_dir: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(failures oldest first, all records oldest first) from the store."""
    from agentlog.config import get_config

    records = list(iter_records(data_dir or get_config().data_dir, max_bytes=SCAN_BYTES))
    return [r for r in records if r.get("k") == FAILURE and "exc" in r], records


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _shrunk(failure: dict[str, Any], max_tokens: int) -> dict[str, Any] | None:
    """The failure with trail and locals dropped until it fits, else just its headline."""
    from agentlog.capture.failure import fit_failure

    size = len(_dumps(failure))
    while size > 512:
        size //= 2
        slim = fit_failure(json.loads(_dumps(failure)), size)
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
    return fit_chunks(build_chunks(failures, records), max_tokens)
