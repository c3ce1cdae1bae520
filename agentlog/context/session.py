"""The session around a failure as compact, labelled text lines for a language model.

Each block's lines come most important first, so a token budget can cut from
the end: the newest decision, failed tool and perf marker come first.
"""

from __future__ import annotations

import shlex
import time
from typing import Any

from agentlog.work.decisions import DECISION
from agentlog.work.perfmarks import PERF
from agentlog.work.summary import SessionInfo, summarize_sessions
from agentlog.work.tokens import summarize_tokens
from agentlog.work.tools import EXEC, OUTPUT

BLOCKS = ("session", "git", "decisions", "tools", "tokens", "perf")
MAX_DECISIONS = 8
MAX_TOOLS = 3
MAX_PERF = 3
MAX_FILES_SHOWN = 20
TOOL_TAIL_LINES = 12
LINE_CHARS = 240
TEXT_CHARS = 300
MAX_ANCESTORS = 20
MAX_TREE_DEPTH = 20


def fmt_time(ts: float | None) -> str:
    """Local wall time, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def fmt_dur(seconds: float | None) -> str:
    """``0.25s``, ``12.3s``, ``4m05s``, ``2h07m``."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def fmt_bytes(n: int | None) -> str:
    """Bytes as ``KB``/``MB``/``GB`` with one decimal."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1024 or unit == "GB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}GB"


def _short(text: Any, limit: int = TEXT_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else f"{text[:limit]}...(+{len(text) - limit} chars)"


def session_line(info: SessionInfo) -> str:
    """One labelled line: id, agent, task, start, duration, failures, outcome, parent."""
    return (
        f"{info.id} agent={info.agent or '-'} task={_short(info.task or '-', 80)} "
        f"start={fmt_time(info.start)} dur={fmt_dur(info.duration)} failures={info.failures} "
        f"outcome={info.outcome or 'open'} parent={info.parent or '-'}"
    )


def _session_block(info: SessionInfo, infos: dict[str, SessionInfo]) -> list[str]:
    lines = [
        f"session id={info.id} agent={info.agent or '-'} task={_short(info.task or '-')}",
        f"outcome={info.outcome or 'open'} started={fmt_time(info.start)} "
        f"duration={fmt_dur(info.duration)} failures={info.failures}",
    ]
    if info.error:
        lines.append(f"session error: {_short(info.error)}")
    parent = infos.get(info.parent or "")
    if info.parent:
        detail = f" agent={parent.agent or '-'} task={_short(parent.task or '-', 80)}" if parent else ""
        lines.append(f"parent session id={info.parent}{detail}")
    if info.children:
        lines.append(f"child sessions: {', '.join(info.children[:10])}")
    return lines


def _git_block(git: dict[str, Any] | None, where: str) -> list[str]:
    if not git:
        return []
    dirty = {True: "yes", False: "no"}.get(git.get("dirty"), "unknown")
    lines = [
        f"git at={where} branch={git.get('branch') or 'detached'} "
        f"sha={str(git.get('sha') or '-')[:12]} dirty={dirty} root={git.get('root')}"
    ]
    if git.get("subject"):
        lines.append(f"head subject: {_short(git['subject'])}")
    files = git.get("files") or []
    if files:
        shown = ", ".join(files[:MAX_FILES_SHOWN])
        more = git.get("nfiles", len(files)) - min(len(files), MAX_FILES_SHOWN)
        lines.append(f"changed files ({git.get('nfiles', len(files))}): {shown}" + (f" +{more} more" if more else ""))
    if git.get("late"):
        lines.append(f"git incomplete (timed out): {', '.join(git['late'])}")
    diff = git.get("diff") or []
    if diff:
        lines.append(f"diff vs HEAD, first {len(diff)} lines:")
        lines.extend(line[:LINE_CHARS] for line in diff)
    return lines


def _ago(ts: float, cutoff: float | None) -> str:
    return f"{fmt_dur(cutoff - ts)} before failure" if cutoff else f"at {fmt_time(ts)}"


def _decision_block(records: list[dict[str, Any]], cutoff: float | None) -> list[str]:
    lines = []
    for rec in reversed(records[-MAX_DECISIONS:]):
        line = f"decision ({_ago(rec['ts'], cutoff)}): {_short(rec.get('what'))} | why: {_short(rec.get('why'))}"
        if rec.get("alt"):
            line += f" | alternatives: {'; '.join(_short(a, 80) for a in rec['alt'])}"
        lines.append(line)
    return lines


def _tail_lines(label: str, text: str | None, total: int | None) -> list[str]:
    lines = (text or "").rstrip("\n").splitlines()
    if not lines:
        return []
    tail = lines[-TOOL_TAIL_LINES:]
    return [f"{label} tail, {len(tail)} of {len(lines)} lines ({total} chars):"] + [
        f"  {line[:LINE_CHARS]}" for line in tail
    ]


def tool_lines(rec: dict[str, Any], cutoff: float | None = None) -> list[str]:
    """A failed ``exec`` or ``output`` record: what ran, how it ended, the tail of its output."""
    when = _ago(rec.get("ts") or 0.0, cutoff)
    if rec.get("k") == EXEC:
        head = f"exec `{_short(shlex.join(rec.get('cmd') or []), 200)}` rc={rec.get('rc')}"
    else:
        head = f"output block={rec.get('name')} raised={_short(rec.get('exc'), 200)}"
    lines = [f"{head} dur={fmt_dur(rec.get('dur'))} ({when})"]
    lines += _tail_lines("stderr", rec.get("err"), rec.get("le"))
    lines += _tail_lines("stdout", rec.get("out"), rec.get("lo"))
    return lines


def is_failed_tool(rec: dict[str, Any]) -> bool:
    """An ``exec`` that exited non-zero, or an ``output`` block that raised."""
    if rec.get("k") == EXEC:
        return rec.get("rc") not in (0, None)
    return rec.get("k") == OUTPUT and bool(rec.get("exc"))


def perf_line(rec: dict[str, Any]) -> str:
    """A perf marker as one labelled line."""
    cpu = rec.get("cpu") or []
    parts = [f"perf label={_short(rec.get('label'), 80)} pid={rec.get('pid')}"]
    if "dur" in rec:
        parts.append(f"dur={fmt_dur(rec['dur'])}")
    parts.append(f"rss={fmt_bytes(rec.get('rss'))}")
    if "drss" in rec:
        parts.append(f"rss_change={fmt_bytes(rec['drss'])}")
    if cpu:
        parts.append(f"cpu_user={cpu[0]}s cpu_sys={cpu[1]}s")
    parts.append(f"threads={rec.get('nth', '-')} open_files={rec.get('nof', '-')}")
    return " ".join(parts)


def _token_block(records: list[dict[str, Any]]) -> list[str]:
    summary = summarize_tokens(records)
    lines = []
    for model, t in summary["models"].items():
        cost = "-" if t["cost"] is None else f"{t['cost']:.4f}"
        lines.append(f"llm model={model} calls={t['calls']} in={t['in']} out={t['out']} cost={cost}")
    if len(lines) > 1:
        total = summary["total"]
        lines.insert(0, f"llm all models calls={total['calls']} in={total['in']} out={total['out']}")
    return lines


def lineage(sid: str, infos: dict[str, SessionInfo]) -> list[str]:
    """``sid`` and its ancestors, nearest first (at most MAX_ANCESTORS)."""
    chain = [sid]
    while len(chain) < MAX_ANCESTORS and (info := infos.get(chain[-1])) and info.parent:
        if info.parent in chain:
            break
        chain.append(info.parent)
    return chain


def blocks_for_session(
    sid: str,
    records: list[dict[str, Any]],
    cutoff: float | None = None,
    git: tuple[dict[str, Any] | None, str] | None = None,
    infos: dict[str, SessionInfo] | None = None,
) -> dict[str, list[str]]:
    """The blocks for session ``sid`` using records up to ``cutoff`` (a failure's time).

    ``infos`` (summaries of every session) lets ``records`` be only the lineage's own.
    """
    infos = summarize_sessions(records) if infos is None else infos
    info = infos.get(sid)
    if info is None:
        return {name: [] for name in BLOCKS}
    family = set(lineage(sid, infos))
    before = [r for r in records if cutoff is None or (r.get("ts") or 0.0) <= cutoff]
    own = [r for r in before if r.get("sid") == sid]
    if git is None:
        git = ((info.start_record or {}).get("git"), "session start")
    tools = [r for r in own if is_failed_tool(r)][-MAX_TOOLS:]
    return {
        "session": _session_block(info, infos),
        "git": _git_block(*git),
        "decisions": _decision_block([r for r in before if r.get("k") == DECISION and r.get("sid") in family], cutoff),
        "tools": [line for rec in reversed(tools) for line in tool_lines(rec, cutoff)],
        "tokens": _token_block(own),
        "perf": [perf_line(r) for r in reversed([r for r in own if r.get("k") == PERF][-MAX_PERF:])],
    }


def session_blocks(failure: dict[str, Any] | None, records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Blocks ``session``, ``git``, ``decisions``, ``tools``, ``tokens``, ``perf`` for a failure.

    Without a failure, the session of the newest record, up to now. Decisions
    include those of the session's ancestors (the agent that spawned it).
    Every key is present; a block with nothing to say is an empty list.
    """
    if failure is not None:
        sid, cutoff = failure.get("sid"), failure.get("ts")
        git = (failure["git"], "failure") if failure.get("git") else None
    else:
        sid, cutoff, git = (records[-1].get("sid") if records else None), None, None
    if not isinstance(sid, str):
        return {name: [] for name in BLOCKS}
    return blocks_for_session(sid, records, cutoff, git)


def tree_lines(info: SessionInfo, infos: dict[str, SessionInfo], depth: int = 0) -> list[str]:
    """``info`` and its descendants, one indented line each."""
    lines = ["  " * depth + session_line(info)]
    if depth < MAX_TREE_DEPTH:
        for child in info.children:
            lines += tree_lines(infos[child], infos, depth + 1)
    return lines


def session_detail_lines(info: SessionInfo, infos: dict[str, SessionInfo], records: list[dict[str, Any]]) -> list[str]:
    """One session in detail: its block, start, tree of child sessions, then git, decisions, tools, tokens, perf."""
    blocks = blocks_for_session(info.id, records, infos=infos)
    start = info.start_record or {}
    lines = [*blocks["session"], f"records={info.records} cwd={start.get('cwd', '-')} argv={start.get('argv', '-')}",
             "tree:", *tree_lines(info, infos, 1)]
    for name in ("git", "decisions", "tools", "tokens", "perf"):
        if blocks[name]:
            lines += [f"{name}:", *(f"  {line}" for line in blocks[name])]
    return lines


def token_table_lines(summary: dict[str, Any]) -> list[str]:
    """:func:`agentlog.work.tokens.summarize_tokens`' totals as a table, one model a row, then TOTAL."""
    rows = [*summary["models"].items(), ("TOTAL", summary["total"])]
    width = max(len(model) for model, _ in rows)
    lines = [f"{'model':<{width}} {'calls':>6} {'input':>10} {'output':>10} {'total':>10} {'cost':>10} {'time':>8}"]
    for model, t in rows:
        cost = "-" if t["cost"] is None else f"{t['cost']:.4f}"
        lines.append(f"{model:<{width}} {t['calls']:>6} {t['in']:>10} {t['out']:>10} "
                     f"{t['in'] + t['out']:>10} {cost:>10} {t['dur']:>7.1f}s")
    return lines
