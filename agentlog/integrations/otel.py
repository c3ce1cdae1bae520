"""AgentLog records as OpenTelemetry: OTLP/JSON traces and logs, no SDK needed.

Conventions followed (README "OpenTelemetry" cites them): OTLP JSON encoding of
opentelemetry-proto v1.11 (ids as hex, enums as integers, int64 as strings,
lowerCamelCase keys); semantic conventions v1.44.0 (exceptions as log records
with event name ``exception``, ``exception.*``, ``code.function.name``,
``code.file.path``, ``code.line.number``, ``session.id``, ``process.*``,
``thread.*``) and the GenAI agent conventions (``gen_ai.agent.name``,
``gen_ai.conversation.id``, ``gen_ai.operation.name``, ``gen_ai.tool.name``).

A session is one trace. Its spans: the session itself; each tool execution
(``agentlog exec`` and ``capture_output`` blocks) under it; each failure's call
trail under it, nested as the calls were. Each failure is a log record carrying
the span context of the call that failed (no span id when the trail has no span
for it). Ids are derived from the records, so exporting twice gives the same ids.
Values are the records' own, already redacted when they were written, and
scrubbed once more here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SCOPE_NAME = "agentlog"
SERVICE_NAME = "agentlog"
SPAN_KIND_INTERNAL = 1
STATUS_ERROR = 2
SEVERITY = {"FATAL": 21, "ERROR": 17}
# Sources whose failure ends the process (or the child process): FATAL. Others were caught at the top.
FATAL_SOURCES = frozenset({"excepthook", "mp_process"})
EXCEPTION_EVENT = "exception"
MAX_ITEMS_PER_REQUEST = 1000  # spans or log records per OTLP request (collectors cap bodies at ~4-20 MB)
MAX_STACK_FRAMES = 60


# ---------------------------------------------------------------- ids and values

def trace_id(sid: str) -> str:
    """32 hex digits (16 bytes), never all zero: the trace of one session."""
    import xxhash

    return _nonzero(xxhash.xxh3_128_hexdigest(f"agentlog-trace\0{sid}".encode()))


def span_id(*parts: object) -> str:
    """16 hex digits (8 bytes), never all zero, derived from ``parts``."""
    import xxhash

    return _nonzero(xxhash.xxh3_64_hexdigest("\0".join(map(str, ("agentlog-span", *parts))).encode()))


def _nonzero(digest: str) -> str:
    return digest if digest.strip("0") else digest[:-1] + "1"


def _nanos(seconds: float) -> int:
    return round(seconds * 1e9)


def any_value(value: Any) -> dict[str, Any]:
    """An OTLP AnyValue in JSON: int64 as a decimal string, lists as arrays, the rest as strings."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {"stringValue": value if isinstance(value, str) else json.dumps(value, default=str)}


def attributes(pairs: dict[str, Any]) -> list[dict[str, Any]]:
    """OTLP KeyValue list, leaving out absent (None) values."""
    return [{"key": k, "value": any_value(v)} for k, v in pairs.items() if v is not None]


# ---------------------------------------------------------------- sessions

class _Session:
    """One session's records and the span everything else hangs from."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.records: list[dict[str, Any]] = []
        self.start: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None

    @property
    def trace(self) -> str:
        return trace_id(self.sid)

    @property
    def span(self) -> str:
        return span_id("session", self.sid)

    def bounds(self) -> tuple[float, float]:
        starts = [r["ts"] - _duration(r) for r in self.records]
        ends = [r["ts"] for r in self.records]
        return min(starts), max(ends)


def _duration(record: dict[str, Any]) -> float:
    dur = record.get("dur") if record.get("k") in ("exec", "output") else None
    return float(dur) if isinstance(dur, int | float) and dur > 0 else 0.0


def group_sessions(records: Iterable[dict[str, Any]]) -> dict[str, _Session]:
    """Records by session id, scrubbed once more, in order of first appearance."""
    from agentlog.core.redact import scrub

    sessions: dict[str, _Session] = {}
    for record in records:
        sid = record.get("sid")
        if not isinstance(sid, str) or not isinstance(record.get("ts"), int | float):
            continue
        session = sessions.get(sid) or sessions.setdefault(sid, _Session(sid))
        record = scrub(record)
        session.records.append(record)
        if record.get("k") == "session_start" and session.start is None:
            session.start = record
        elif record.get("k") == "session_end":
            session.end = record
    return sessions


def resource(session: _Session, service_name: str) -> dict[str, Any]:
    agent = (session.start or {}).get("agent")
    return {"attributes": attributes({
        "service.name": service_name,
        "session.id": session.sid,
        "gen_ai.agent.name": agent,
        "gen_ai.conversation.id": session.sid,
    })}


def _scope() -> dict[str, Any]:
    from agentlog import __version__

    return {"name": SCOPE_NAME, "version": __version__}


# ---------------------------------------------------------------- spans

def _span(session: _Session, sid: str, parent: str | None, name: str, start: float | int, end: float | int,
          attrs: dict[str, Any], error: str | None = None, nanos: bool = False) -> dict[str, Any]:
    start_ns, end_ns = (int(start), int(end)) if nanos else (_nanos(start), _nanos(end))
    span: dict[str, Any] = {
        "traceId": session.trace,
        "spanId": sid,
        "name": name,
        "kind": SPAN_KIND_INTERNAL,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(max(start_ns, end_ns)),
        "attributes": attributes(attrs),
    }
    if parent:
        span["parentSpanId"] = parent
    if error is not None:
        span["status"] = {"code": STATUS_ERROR, "message": error}
    return span


def _session_span(session: _Session, exported: dict[str, _Session]) -> dict[str, Any]:
    start_rec, end_rec = session.start or {}, session.end or {}
    first, last = session.bounds()
    agent = start_rec.get("agent")
    outcome = end_rec.get("out")
    span = _span(
        session, session.span, None, f"invoke_agent {agent}" if agent else "agentlog.session",
        first, last,
        {"session.id": session.sid, "gen_ai.operation.name": "invoke_agent" if agent else None,
         "gen_ai.agent.name": agent, "agentlog.task": start_rec.get("task"), "agentlog.outcome": outcome,
         "process.command_args": start_rec.get("argv") or None},
        error=end_rec.get("err") or outcome if outcome not in (None, "ok", "exit") else None,
    )
    parent = start_rec.get("parent")
    if parent in exported:
        span["links"] = [{"traceId": exported[parent].trace, "spanId": exported[parent].span}]
    return span


def _tool_span(session: _Session, record: dict[str, Any]) -> dict[str, Any]:
    ts = record["ts"]
    if record["k"] == "exec":
        cmd = record.get("cmd") or []
        tool = Path(str(cmd[0])).name if cmd else "exec"
        rc = record.get("rc")
        attrs = {"process.command_args": cmd or None, "process.exit.code": rc if isinstance(rc, int) else None}
        error = f"exit status {rc}" if rc not in (0, None) else None
    else:
        tool = str(record.get("name") or "output")
        attrs = {}
        error = record.get("exc")
    attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool, **attrs,
             "process.pid": record.get("pid"), "thread.id": record.get("tid")}
    sid = span_id(record["k"], session.sid, record.get("pid"), ts, tool)
    return _span(session, sid, session.span, f"execute_tool {tool}", ts - _duration(record), ts, attrs, error)


def trail_spans(session: _Session, failure: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """Spans for a failure's call trail and the span id of the call that failed (None if none has a span):
    the deepest call its exception left.

    A call's start is the failure's wall time minus its ``ago``; calls still running end at
    the failure. Calls that began before the window (``pre``) have no start, so no span:
    their callees hang from the nearest enclosing call that has one, or from the session.
    """
    trail = failure.get("trail") or {}
    fns, calls = trail.get("fn") or [], trail.get("calls") or []
    anchor = _nanos(failure["ts"])
    spans: list[dict[str, Any]] = []
    open_: list[tuple[int, int, str]] = []  # (depth, end ns, span id) of enclosing candidates
    failed: tuple[int, str] | None = None
    raised = (failure.get("exc") or {}).get("t")
    for index, call in enumerate(calls):
        if not isinstance(call.get("ago"), int) or call.get("ev"):
            continue
        start = anchor - call["ago"]
        end = start + call["ns"] if isinstance(call.get("ns"), int) else anchor
        depth = call.get("d", 0)
        while open_ and (open_[-1][0] >= depth or open_[-1][1] < end):
            open_.pop()
        name, path, line = _function(fns, call.get("c"))
        sid = span_id("call", session.sid, failure.get("id"), index)
        error = call.get("e") if call.get("end") == "exc" else None
        spans.append(_span(
            session, sid, open_[-1][2] if open_ else session.span, str(name), start, end,
            {"code.function.name": name, "code.file.path": path, "code.line.number": line,
             "agentlog.call.end": call.get("end"), "agentlog.call.end_line": call.get("ln"),
             "thread.id": trail.get("tid")},
            error=error, nanos=True,
        ))
        open_.append((depth, end, sid))
        if error is not None and (failed is None or depth >= failed[0]) and error == raised:
            failed = (depth, sid)
    return spans, failed[1] if failed else None


def _function(fns: list[Any], index: Any) -> tuple[Any, Any, Any]:
    """(qualified name, file, first line) of a trail's function index; "?" when it is out of range."""
    entry = fns[index] if isinstance(index, int) and 0 <= index < len(fns) else None
    if not isinstance(entry, list | tuple) or len(entry) < 3:
        return "?", None, None
    return entry[0], entry[1], entry[2]


def session_spans(session: _Session, exported: dict[str, _Session]) -> list[dict[str, Any]]:
    spans = [_session_span(session, exported)]
    for record in session.records:
        if record.get("k") in ("exec", "output"):
            spans.append(_tool_span(session, record))
        elif record.get("k") == "failure":
            spans += trail_spans(session, record)[0]
    return spans


# ---------------------------------------------------------------- logs

def stacktrace(exc: dict[str, Any]) -> str:
    """A Python-style traceback from a recorded exception (its frames are innermost first)."""
    lines = ["Traceback (most recent call last):"]
    frames = list(reversed(exc.get("frames") or []))
    if len(frames) > MAX_STACK_FRAMES:
        lines.append(f"  [... {len(frames) - MAX_STACK_FRAMES} outer frames not shown ...]")
        frames = frames[-MAX_STACK_FRAMES:]
    for frame in frames:
        if "skipped" in frame:
            lines.append(f"  [... {frame['skipped']} frames skipped ...]")
            continue
        lines.append(f'  File "{frame.get("file")}", line {frame.get("ln")}, in {frame.get("f")}')
        source = dict((ln, text) for ln, text in frame.get("src") or [] if isinstance(ln, int))
        if frame.get("ln") in source:
            lines.append(f"    {source[frame['ln']].strip()}")
        if frame.get("rep"):
            lines.append(f"  [Previous frame(s) repeated {frame['rep']} more times]")
    message = exc.get("m")
    lines.append(f"{exc.get('t')}: {message}" if message else str(exc.get("t")))
    return "\n".join(lines)


def failure_log(session: _Session, failure: dict[str, Any], failed_span: str | None) -> dict[str, Any]:
    exc = failure.get("exc") or {}
    top = next((f for f in exc.get("frames") or [] if "skipped" not in f), {})
    severity = "FATAL" if failure.get("src") in FATAL_SOURCES else "ERROR"
    when = str(_nanos(failure["ts"]))
    log: dict[str, Any] = {
        "timeUnixNano": when,
        "observedTimeUnixNano": when,
        "severityNumber": SEVERITY[severity],
        "severityText": severity,
        "eventName": EXCEPTION_EVENT,
        "body": {"stringValue": f"{exc.get('t')}: {exc.get('m')}" if exc.get("m") else str(exc.get("t"))},
        "attributes": attributes({
            "exception.type": exc.get("t"),
            "exception.message": exc.get("m"),
            "exception.stacktrace": stacktrace(exc),
            "code.function.name": top.get("f"),
            "code.file.path": top.get("file"),
            "code.line.number": top.get("ln"),
            "session.id": session.sid,
            "process.pid": failure.get("pid"),
            "thread.id": failure.get("tid"),
            "thread.name": failure.get("th"),
            "agentlog.failure.id": failure.get("id"),
            "agentlog.failure.source": failure.get("src"),
            "agentlog.failure.fingerprint": failure.get("fp"),
            "agentlog.test": failure.get("test"),
        }),
        "traceId": session.trace,
    }
    if failed_span:
        log["spanId"] = failed_span
    return log


def session_logs(session: _Session) -> list[dict[str, Any]]:
    return [failure_log(session, r, trail_spans(session, r)[1]) for r in session.records if r.get("k") == "failure"]


# ---------------------------------------------------------------- requests

def _chunks(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), MAX_ITEMS_PER_REQUEST):
        yield items[start:start + MAX_ITEMS_PER_REQUEST]


def _resource_spans(session: _Session, spans: list[dict[str, Any]], service_name: str) -> dict[str, Any]:
    return {"resource": resource(session, service_name), "scopeSpans": [{"scope": _scope(), "spans": spans}]}


def _resource_logs(session: _Session, logs: list[dict[str, Any]], service_name: str) -> dict[str, Any]:
    return {"resource": resource(session, service_name), "scopeLogs": [{"scope": _scope(), "logRecords": logs}]}


def to_otlp_spans(records: Iterable[dict[str, Any]], service_name: str = SERVICE_NAME) -> dict[str, Any]:
    """An ExportTraceServiceRequest (OTLP/JSON) for every session in ``records``."""
    sessions = group_sessions(records)
    return {"resourceSpans": [_resource_spans(s, session_spans(s, sessions), service_name)
                              for s in sessions.values()]}


def to_otlp_logs(records: Iterable[dict[str, Any]], service_name: str = SERVICE_NAME) -> dict[str, Any]:
    """An ExportLogsServiceRequest (OTLP/JSON): one log record per failure, per session."""
    sessions = group_sessions(records)
    groups = [(s, session_logs(s)) for s in sessions.values()]
    return {"resourceLogs": [_resource_logs(s, logs, service_name) for s, logs in groups if logs]}


def otlp_requests(records: Iterable[dict[str, Any]], service_name: str = SERVICE_NAME
                  ) -> Iterator[tuple[str, dict[str, Any]]]:
    """("traces" | "logs", request) pairs, a session at a time, at most MAX_ITEMS_PER_REQUEST items each."""
    sessions = group_sessions(records)
    for session in sessions.values():
        for spans in _chunks(session_spans(session, sessions)):
            yield "traces", {"resourceSpans": [_resource_spans(session, spans, service_name)]}
        for logs in _chunks(session_logs(session)):
            yield "logs", {"resourceLogs": [_resource_logs(session, logs, service_name)]}


def count_items(signal: str, request: dict[str, Any]) -> int:
    """Spans ("traces") or log records ("logs") in an OTLP/JSON request."""
    if signal == "traces":
        return sum(len(s["spans"]) for rs in request["resourceSpans"] for s in rs["scopeSpans"])
    return sum(len(s["logRecords"]) for rl in request["resourceLogs"] for s in rl["scopeLogs"])


def select_records(data_dir: Path, session: str | None = None) -> list[dict[str, Any]]:
    """The data dir's records, or one session's (id or unique prefix; LookupError if none matches)."""
    from agentlog.store import iter_records
    from agentlog.work.summary import resolve_session, summarize_sessions

    records = list(iter_records(data_dir))
    if session is None:
        return records
    sid = resolve_session(summarize_sessions(records), session).id
    return [r for r in records if r.get("sid") == sid]


def write_otlp_json(path: str | Path, records: Iterable[dict[str, Any]],
                    service_name: str = SERVICE_NAME) -> tuple[int, int]:
    """Write OTLP/JSON lines to ``path``: a traces request, then a logs request. Returns (spans, log records).

    This is the OpenTelemetry file-exporter shape the Collector's ``otlpjsonfile`` receiver reads.
    """
    records = list(records)
    traces, logs = to_otlp_spans(records, service_name), to_otlp_logs(records, service_name)
    text = "".join(json.dumps(req, separators=(",", ":"), ensure_ascii=False) + "\n" for req in (traces, logs))
    Path(path).write_text(text, encoding="utf-8")
    return count_items("traces", traces), count_items("logs", logs)


def export_otlp_json(path: str | Path, session: str | None = None, data_dir: Path | None = None,
                     service_name: str = SERVICE_NAME) -> tuple[int, int]:
    """:func:`write_otlp_json` for the data dir's records (or one session's)."""
    from agentlog.core.config import get_config

    return write_otlp_json(path, select_records(data_dir or get_config().data_dir, session), service_name)
