"""Token-budgeted context for agents: the newest failure first, then what surrounds it.

The context is built as sections of ranked lines (select.py fits them into the
budget and prints them in document order). The exception, the header, the
failing line, the values named on it and the call whose result flowed in rank
first, so they survive any budget; the session, older failures, library frames
and distant trail calls go first when space is short.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from agentlog.context.grouping import group_failures, quotes_child, without_quoted_traceback
from agentlog.context.provenance import links, statement_span
from agentlog.context.select import Block, Line, Section, printed, select
from agentlog.context.select import text as plain_text
from agentlog.context.tokencount import count_tokens
from agentlog.context.trailcut import trail_section_lines
from agentlog.context.values import local_line
from agentlog.store import iter_records
from agentlog.store.records import FAILURE

DEFAULT_MAX_TOKENS = 4000
MAX_OLDER_FAILURES = 5
# Context reads only the newest record files up to this size: a full data dir (256 MB)
# would otherwise be parsed whole for every call.
SCAN_BYTES = 32 * 1024 * 1024
MAX_CMD_CHARS = 100
MAX_CASES = 20  # failing cases of one test listed together
MAX_RELATED_SHOWN = 2  # worker and child failures shown with their parent's
MAX_CASE_LOCALS = 3  # locals a case is told apart by
MAX_EXIT_LINES = 5  # lines of a library's exit message shown

# Ranks: lower is kept first (select.py). KEY: what a debugger needs at any budget:
# the failing line, the values named on it, the call whose result flowed in.
R_HEADLINE, R_HEADER, R_KEY, R_NOTE, R_INNER, R_PATH, R_OLDER_SUMMARY = 0, 0.5, 1, 1.5, 2, 2.5, 2.6
R_FRAME, R_TRAIL, R_SOURCE, R_TRAIL_REST, R_SESSION, R_OTHER, R_LIBRARY, R_OLDER = 3, 4, 4.5, 5, 6, 7, 8, 9
R_CHAIN = 2  # added to the ranks of a chained exception's lines
R_WORKER = -0.45  # added for a worker's failure: its lines rank before the parent's plumbing frames
SESSION_RANKS = {"session": R_SESSION, "git": R_SESSION, "decisions": R_SESSION,
                 "tools": R_OTHER, "tokens": R_OLDER, "perf": R_OLDER}
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PACKAGE_RE = re.compile(  # site-packages/NAME, lib/python3.X/NAME (the stdlib), <frozen NAME>
    r"(?:/(?:site|dist)-packages/|/lib/python\d+\.\d+t?/(?!(?:site|dist)-packages/)|^<frozen )([^/>]+)")


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _frame_section(frame: dict[str, Any], place: float, base: float, key: bool) -> Block:
    """A user frame: location, failing line, locals (those named on the failing line first).

    ``key``: the innermost user frame, whose failing line and named values rank as KEY.
    """
    lines = [Line(_where(frame), base + R_KEY, alone=False)]
    first, last = statement_span(frame) or (frame["ln"], frame["ln"])
    failing = []
    for n, text in frame.get("src", []):
        if first <= n <= last:  # the whole failing statement ranks as its failing line
            failing.append(text)
            mark = ">" if n == frame["ln"] else " "
            lines.append(Line(f"    {mark}{n}| {text}", base + (R_KEY if key else 0), (0,)))
        else:
            lines.append(Line(f"     {n}| {text}", R_SOURCE + base / 10, (0,), silent=True))
    named = set(_NAME_RE.findall("\n".join(failing)))
    locals_ = frame.get("loc", {})
    if locals_:
        title = len(lines)
        lines.append(Line("    locals:", base + R_INNER, (0,), alone=False))
        for name, d in locals_.items():
            offset = (R_KEY, R_INNER) if key else (0, 0.5)
            rank = base + offset[name not in named]
            lines.append(Line(f"      {local_line(name, d)}", rank, (0, title)))
    elif frame.get("loc_cut"):
        lines.append(Line(f"    locals: {frame['loc_cut']} omitted (record size cap)", base + 0.5, (0,)))
    lines += _repeat_lines(frame, base, len(lines))
    return Block(place, lines, "frame")


def _repeat_lines(frame: dict[str, Any], base: float, offset: int) -> list[Line]:
    """A collapsed recursion: how its arguments moved, then the outermost copy's locals."""
    lines = [Line(f"    across the repeats (outermost first): {name}: {', '.join(values)}", base + 0.5, (0,))
             for name, values in frame.get("moves", {}).items()]
    outer = frame.get("outer")
    if isinstance(outer, dict) and outer.get("loc"):
        title = offset + len(lines)  # index in the frame's section
        lines.append(Line(f"    outermost copy (line {outer.get('ln', '?')}) locals:", base + R_INNER, (0,),
                          alone=False))
        lines += [Line(f"      {local_line(name, d)}", base + R_INNER, (0, title)) for name, d in outer["loc"].items()]
    return lines


def _where(frame: dict[str, Any]) -> str:
    rep = ""
    if frame.get("rep"):
        block = f"this and the next {frame['per'] - 1} frame(s)" if frame.get("per") else "this frame"
        rep = f" ({block} repeated x{frame['rep']})"
    return f"  at {frame['f']} ({frame['file']}:{frame['ln']}){rep}"


def _library_package(filename: str) -> str:
    """``_pytest``, ``pluggy``, ``asyncio``: the package (or module) a library frame's file belongs to."""
    found = _PACKAGE_RE.search(filename.replace("\\", "/"))
    return (found.group(1) if found else Path(filename).parent.name or filename).removesuffix(".py")


def _library_section(run: list[dict[str, Any]], place: float, rank: float) -> Block:
    """A run of library frames as one line: the innermost (where it raised, or what called the user
    frame above it), then how many more and whose they are."""
    text = _where(run[0]) + " [library]"
    if len(run) > 1:
        packages = ", ".join(dict.fromkeys(_library_package(str(f.get("file", ""))) for f in run[1:]))
        text += f", called from {len(run) - 1} more library frame{'s' if len(run) > 2 else ''} ({packages})"
    return Block(place, [Line(text, rank)], "library frame", count=len(run))


def _frame_sections(exc: dict[str, Any], order: float, base: float) -> list[Block]:
    """One block per frame, innermost first; a run of library frames is one line."""
    sections: list[Block] = []
    user_rank = 0
    frames = exc.get("frames", [])
    run_start = 0
    for i, frame in enumerate(frames):
        place = order + i / 1000
        if "skipped" in frame:
            sections.append(Block(place, [Line(f"  … {frame['skipped']} frames skipped", base + R_LIBRARY)]))
            continue
        if not frame.get("u"):
            if i == 0 or frames[i - 1].get("u") or "skipped" in frames[i - 1]:
                run_start = i
            if i + 1 == len(frames) or frames[i + 1].get("u") or "skipped" in frames[i + 1]:
                sections.append(_library_section(frames[run_start : i + 1], order + run_start / 1000,
                                                 base + R_LIBRARY + run_start / 1000))
            continue
        rank = base + (0 if user_rank == 0 else R_FRAME + user_rank / 100)
        sections.append(_frame_section(frame, place, rank, key=user_rank == 0))
        user_rank += 1
    return sections


def _exception_sections(exc: dict[str, Any], order: float, base: float, label: str = "",
                        frame_base: float | None = None) -> list[Block]:
    """The exception's headline, its frames (ranked from ``frame_base``, default ``base``), its chain."""
    rank = base + (R_HEADLINE if not label else R_NOTE)
    # A chained exception's headline is one short line that often names the real cause: it
    # ranks right after the failing line's values, its frames stay where ``base`` puts them.
    lead = min(rank, R_NOTE + base / 10) if label else rank
    first, *more = str(exc.get("m", "")).splitlines() or [""]
    head = [Line(f"{label}{exc['t']}: {first}".rstrip(), lead)]
    # A multi-line message: its other lines indented under the headline, never at column 0.
    head += [Line(f"    | {line}", rank + R_NOTE, (0,)) for line in more]
    head += [Line(f"  note: {n}", rank + R_NOTE, (0,)) for n in exc.get("notes", [])]
    sections = [Block(order, head, "chained exception" if label else "")]
    sections += _frame_sections(exc, order + 0.001, base if frame_base is None else frame_base)
    links = (("cause", "caused by: "), ("ctx", "while handling: "))
    for n, (key, text) in enumerate(links, start=1):
        if exc.get(key):
            sections += _exception_sections(exc[key], order + n * 0.1, base + R_CHAIN, text)
    for m, member in enumerate(exc.get("group", [])):
        sections += _exception_sections(member, order + 0.3 + m * 0.01, base + R_CHAIN, f"group member {m + 1}: ")
    return sections


def _origin_sections(failure: dict[str, Any], exc: dict[str, Any]) -> list[Block]:
    """Where the failing values came from (context/provenance.py), right under the innermost user frame."""
    found = links(failure, exc)
    if not found:
        return []
    at = next((i for i, f in enumerate(exc.get("frames", [])) if f.get("u")), 0)
    lines: list[Line] = []
    for n, link in enumerate(found):  # the calls inside follow their link, ranked after every link
        head = len(lines)
        lines.append(Line(link.text, R_KEY + n / 100))
        lines += [Line(text, R_KEY + 0.05 + (n * 10 + k) / 1000, (head,)) for k, text in enumerate(link.via)]
    return [Block(1.001 + at / 1000 + 0.0005, lines, "value origin")]


def _tracer_sections(failure: dict[str, Any], order: float, origins: bool = False) -> list[Block]:
    """The call trail (its flowed-in guess ranks KEY only without a value origin), threads, traced calls."""
    try:
        from agentlog.context import trail as trailview
    except ImportError:
        return []
    sections = []
    if failure.get("traced"):
        sections.append(_titled(order, "traced calls:", trailview.traced_lines(failure["traced"]),
                                R_TRAIL + 0.5, "traced calls"))
    if failure.get("trail"):
        lines = trailview.trail_lines(failure["trail"])
        if lines:
            ranks = (R_TRAIL if origins else R_KEY, R_PATH, R_TRAIL, R_TRAIL_REST)
            title = "call trail before the failure (oldest first):"
            sections.append(Block(order + 0.01, trail_section_lines(title, lines, ranks), "call trail"))
    if failure.get("threads"):
        sections.append(_titled(order + 0.02, "other threads:", trailview.threads_lines(failure["threads"]),
                                R_OTHER, "threads"))
    return [s for s in sections if len(s.lines) > 1]


def _titled(order: float, title: str, body: list[str], rank: float, label: str) -> Block:
    """A title and its lines in order, all at ``rank``."""
    step = 1 / (1000 * (len(body) + 1))
    lines = [Line(title, rank, alone=False), *(Line(t, rank + i * step, (0,)) for i, t in enumerate(body))]
    return Block(order, lines, label)


def _session_sections(failure: dict[str, Any], records: list[dict[str, Any]], order: float) -> list[Block]:
    try:
        from agentlog.context.session import session_blocks
    except ImportError:
        return []
    return [_titled(order + n * 0.01, f"{name}:", lines, SESSION_RANKS.get(name, R_OTHER), name)
            for n, (name, lines) in enumerate(session_blocks(failure, records).items()) if lines]


def command_text(failure: dict[str, Any]) -> str:
    """What was run, as a person would type it: ``pytest tests/t.py::test_x``, ``python -m pkg``."""
    if failure.get("test") and failure.get("src") == "pytest":
        return f"pytest {failure['test'].rsplit(' (', 1)[0]}"
    argv = [str(a) for a in failure.get("argv", [])]
    if not argv:
        return ""
    first = argv[0]
    if first.endswith("__main__.py"):
        package = Path(first).parent.name
        return " ".join(["pytest" if package == "pytest" else f"python -m {package}", *argv[1:]])
    return " ".join(["python", *argv])


def _failure_header(failure: dict[str, Any], index: int, total: int, cmd: bool = True) -> str:
    """``FAILURE 1/3 id=… at=… cmd=…``, plus the hook and thread when they are not the usual ones."""
    parts = [f"FAILURE {index}/{total} id={failure.get('id', '?')} at={_when(failure['ts'])}"]
    if failure.get("src") not in (None, "excepthook"):
        parts.append(f"via={failure['src']}")
    if failure.get("exit") is not None:
        parts.append(f"exit code {failure['exit']}")
    if failure.get("th") not in (None, "MainThread"):
        parts.append(f"thread={failure['th']}")
    if failure.get("test"):
        parts.append(f"phase={failure['test'].rsplit(' (', 1)[-1].rstrip(')')}")
    if cmd:
        command = command_text(failure)
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
    test = f" test={failure['test']}" if failure.get("test") else ""
    return f"{_failure_header(failure, index, total, cmd=False)}{test}: {exc['t']}: {message}{where}"


def build_sections(failures: list[dict[str, Any]], records: list[dict[str, Any]],
                   data_dir: Path | None = None) -> list[Block]:
    """All candidate sections, newest failure first; a record that cannot be rendered is skipped."""
    if not failures:
        return [Block(0, [Line("No failures recorded.", 0)])]
    groups = group_failures(failures)
    group = groups[-1]
    cases = group.cases[-MAX_CASES:]
    newest = cases[0]  # the first failing case of the test leads
    workers = group.related[-MAX_RELATED_SHOWN:]
    total = len(groups)
    sections = [Block(0, [Line(_failure_header(newest, 1, total), R_HEADER)])]
    sections += _guarded(_cases_sections, cases)
    sections += _guarded(_seen_before_sections, newest, data_dir, records)
    exc = newest["exc"]
    if workers and str((exc.get("cause") or {}).get("t", "")).endswith("RemoteTraceback"):
        exc = {k: v for k, v in exc.items() if k != "cause"}  # the worker's own record says it better
    if workers and any(quotes_child(newest, w) for w in workers):
        exc = {**exc, "m": without_quoted_traceback(str(exc.get("m", "")))}  # the child's record says it
    # With a worker's record, the parent's frames are plumbing (pool.map): the worker's come first.
    sections += _guarded(_exception_sections, exc, 1, 0, "", R_CHAIN if workers else None)
    origins = _guarded(_origin_sections, newest, exc)
    sections += origins
    sections += _guarded(_exit_message_sections, newest)
    for n, worker in enumerate(workers):
        kind = "worker" if worker.get("src", "").startswith("mp_") else "child"
        named = " (the command the error names)" if group.others and n == len(workers) - 1 else ""
        label = f"in {kind} pid={worker.get('pid')}{named}: "
        sections += _guarded(_exception_sections, worker["exc"], 0.5 + n * 0.1, R_WORKER, label)
    sections += _guarded(_other_children_sections, group.others)
    sections += _in_part("trail", _guarded(_tracer_sections, newest, 3, bool(origins)))
    sections += _in_part("session", _guarded(_session_sections, newest, records, 4))
    older = [g.lead for g in groups[-2::-1]]
    for n, failure in enumerate(older[:MAX_OLDER_FAILURES]):
        base = 10 + n
        summary = _guarded(_summary_sections, failure, n + 2, total, base)
        sections += summary
        if summary:
            # Its frames (the exception line is already in the summary) only if room remains.
            for section in _guarded(_frame_sections, failure["exc"], base + 0.01, R_OLDER + n):
                section.lines = [line._replace(rank=max(line.rank, R_OLDER + n)) for line in section.lines]
                section.part = "older"
                sections.append(section)
    return sections


def _other_children_sections(others: list[dict[str, Any]]) -> list[Block]:
    """Children of the run that failed too but are not the one the error names: a line each."""
    if not others:
        return []
    shown = others[-MAX_RELATED_SHOWN:]
    more = f", {len(others) - len(shown)} more" if len(others) > len(shown) else ""
    lines = [Line(f"other child failures in this run ({len(others)}{more}, not the command the error names):",
                  R_NOTE, alone=False)]
    for n, child in enumerate(shown):
        exc = child["exc"]
        message = exc.get("m", "").splitlines()[0][:120] if exc.get("m") else ""
        lines.append(Line(f"  pid={child.get('pid')} id={child.get('id', '?')} cmd={command_text(child)!r}: "
                          f"{exc['t']}: {message}", R_NOTE + n / 1000, (0,)))
    return [Block(2.5, lines, "other child failures")]


def _exit_message_sections(failure: dict[str, Any]) -> list[Block]:
    """What a library printed as it exited for the program (argparse, click), under the exception."""
    said = [line for line in str(failure.get("exitmsg") or "").splitlines() if line.strip()][:MAX_EXIT_LINES]
    if not said:
        return []
    lines = [Line(f"  printed as it exited: {said[0]}", R_KEY)]
    lines += [Line(f"    {line}", R_NOTE + n / 1000, (0,)) for n, line in enumerate(said[1:])]
    return [Block(1.0005, lines, "exit message")]


def _seen_before_sections(failure: dict[str, Any], data_dir: Path | None,
                          records: list[dict[str, Any]]) -> list[Block]:
    """The header's history line (context/seen.py), right under it, kept with the headline.

    All loaded records, not only the failures shown: a view of one failure (``get_failure``)
    must still know the other cases of its run.
    """
    from agentlog.context.seen import seen_before_line

    line = seen_before_line(failure, data_dir, records)
    return [Block(0.0001, [Line(line, R_HEADER)], "history")] if line else []


def _case_locals(failure: dict[str, Any]) -> dict[str, str]:
    frames = [f for f in failure["exc"].get("frames", []) if f.get("u") and f.get("loc")]
    return {name: local_line(name, d) for name, d in frames[-1]["loc"].items()} if frames else {}


def _cases_sections(cases: list[dict[str, Any]]) -> list[Block]:
    """One line per failing case of the test: its parameters, exception, the locals it differs by."""
    if len(cases) < 2:
        return []
    lead = _case_locals(cases[0])
    lines = [Line(f"failing cases of this test ({len(cases)}, the first shown in full):", R_NOTE, alone=False)]
    for n, case in enumerate(cases):
        test = case["test"].rpartition(" (")[0]
        params = test[test.index("["):] if "[" in test else ""
        differs = [text for name, text in _case_locals(case).items() if lead.get(name) != text][:MAX_CASE_LOCALS]
        exc = case["exc"]
        message = exc.get("m", "").splitlines()[0][:120] if exc.get("m") else ""
        text = f"  {n + 1}. {params + ' ' if params else ''}{exc['t']}: {message}"
        if differs:
            text += f" ({'; '.join(differs)})"
        lines.append(Line(text, (R_KEY if n < 2 else R_NOTE) + n / 1000, (0,)))
    return [Block(0.0002, lines, "failing cases")]


def _in_part(part: str, blocks: list[Block]) -> list[Block]:
    for block in blocks:
        block.part = part
    return blocks


def _summary_sections(failure: dict[str, Any], index: int, total: int, order: float) -> list[Block]:
    return [Block(order, [Line(_summary_line(failure, index, total), R_OLDER_SUMMARY + index / 100)],
                    "older failure", "older")]


def _guarded(build: Callable[..., list[Block]], *args: Any) -> list[Block]:
    """Sections from one record, or none if the record is malformed (hand-edited, another version)."""
    try:
        return build(*args)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError):
        return []


def fit_sections(blocks: list[Block], max_tokens: int) -> list[Section]:
    """What ``max_tokens`` keeps of ``blocks`` (select.py), as printed sections in document order."""
    return printed(select(blocks, max_tokens), max_tokens)


def fit_text(blocks: list[Block], max_tokens: int) -> str:
    """The plain-text context: :func:`fit_sections`' lines, one after another."""
    return plain_text(fit_sections(blocks, max_tokens))


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
    return fit_text(build_sections(failures, records, Path(data_dir) if data_dir else None), max_tokens)
