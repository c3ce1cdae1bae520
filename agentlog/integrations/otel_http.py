"""Sending OTLP over HTTP (the OTLP/HTTP exporter): JSON or protobuf, gzip, retries as the spec says.

``endpoint`` is the base URL (as ``OTEL_EXPORTER_OTLP_ENDPOINT``): requests go to
``<endpoint>/v1/traces`` and ``<endpoint>/v1/logs``. Retried: 429, 502, 503, 504 and
dropped connections, honouring ``Retry-After`` (opentelemetry-proto spec v1.11,
"OTLP/HTTP Throttling"). A partial success is reported, never retried. Any other
4xx/5xx stops the export with the server's message (OTLPExportError).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from agentlog.integrations.httpclient import RetryPolicy, display_url, post, secret_values, server_text

RETRYABLE = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT_S = 10.0  # OTEL_EXPORTER_OTLP_TIMEOUT's default
PROTOCOLS = ("auto", "json", "protobuf")
MAX_MESSAGE_CHARS = 4096  # of a server's message, before server_text bounds it for the error line


class OTLPExportError(RuntimeError):
    """The receiver refused a request, or never answered; one line."""


class ExportResult(NamedTuple):
    requests: int
    spans: int
    logs: int
    rejected: int  # spans + log records a partial success rejected
    warnings: list[str]  # partial-success messages, one per request that had one


def resolve_protocol(protocol: str) -> str:
    """``auto`` is protobuf when opentelemetry-proto is installed, else JSON."""
    from agentlog.integrations import otel_proto

    if protocol == "auto":
        return "protobuf" if otel_proto.available() else "json"
    if protocol == "protobuf" and not otel_proto.available():
        raise OTLPExportError("protobuf needs opentelemetry-proto: pip install 'agentlog[otel]' (or use json)")
    return protocol


def _status_message(body: bytes, content_type: str) -> str:
    """The ``message`` of a google.rpc.Status body (JSON or protobuf field 2), else the body's text."""
    if "json" in content_type:
        try:
            data = json.loads(body)
            if isinstance(data, dict) and data.get("message"):
                return str(data["message"])[:MAX_MESSAGE_CHARS]
        except (ValueError, RecursionError):
            pass
    elif "protobuf" in content_type:
        message = _protobuf_string_field(body, 2)
        if message:
            return message[:MAX_MESSAGE_CHARS]
    return body[:MAX_MESSAGE_CHARS].decode("utf-8", "replace").strip() or "(no message)"


def _protobuf_string_field(body: bytes, number: int) -> str | None:
    """Field ``number`` of a protobuf message when it is length-delimited; None if absent or unreadable."""
    pos = 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = body[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    try:
        while pos < len(body):
            key = varint()
            wire = key & 7
            if wire == 0:
                varint()
            elif wire == 2:
                size = varint()
                chunk, pos = body[pos:pos + size], pos + size
                if key >> 3 == number:
                    return chunk.decode("utf-8", "replace")
            elif wire in (1, 5):
                pos += 8 if wire == 1 else 4
            else:
                return None
    except IndexError:
        return None
    return None


def _partial_success(signal: str, body: bytes, protocol: str) -> tuple[int, str]:
    """(rejected items, message) from an Export*ServiceResponse; (0, "") on full success."""
    if not body:
        return 0, ""
    try:
        if protocol == "protobuf":
            from agentlog.integrations import otel_proto

            data = otel_proto.decode_response(signal, body)
        else:
            data = json.loads(body)
    except Exception:  # noqa: BLE001 - an unreadable success body is still a success
        return 0, ""
    partial = data.get("partialSuccess") if isinstance(data, dict) else None
    if not isinstance(partial, dict):
        return 0, ""
    rejected = partial.get("rejectedSpans" if signal == "traces" else "rejectedLogRecords") or 0
    try:
        count = int(rejected)
    except (TypeError, ValueError):
        count = 0
    return count, str(partial.get("errorMessage") or "")[:MAX_MESSAGE_CHARS]


def export_otlp_http(
    endpoint: str,
    requests: Iterable[tuple[str, dict[str, Any]]],
    headers: dict[str, str] | None = None,
    protocol: str = "auto",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    attempts: int = 5,
    on_retry: Callable[[str, float], None] | None = None,
) -> ExportResult:
    """POST each ("traces" | "logs", OTLP/JSON request) to the endpoint; stops at the first refusal."""
    from agentlog.integrations import otel_proto
    from agentlog.integrations.httpclient import EndpointError, TransportError
    from agentlog.integrations.otel import count_items

    protocol = resolve_protocol(protocol)
    content_type = "application/x-protobuf" if protocol == "protobuf" else "application/json"
    policy = RetryPolicy(retry_on=RETRYABLE, attempts=attempts, timeout_s=timeout_s)
    base = endpoint.rstrip("/")
    sent = spans = logs = rejected = 0
    warnings: list[str] = []
    for signal, request in requests:
        if protocol == "protobuf":
            payload = otel_proto.encode(signal, request)
        else:
            payload = json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        all_headers = {**(headers or {}), "Content-Type": content_type, "Content-Encoding": "gzip",
                       "User-Agent": "agentlog-otlp"}
        url = f"{base}/v1/{signal}"
        try:
            response = post(url, gzip.compress(payload), all_headers, policy, on_retry=on_retry)
        except (TransportError, EndpointError) as exc:
            raise OTLPExportError(f"{display_url(url)}: {exc}") from None
        if not 200 <= response.status < 300:
            message = _status_message(response.body, response.headers.get("content-type", ""))
            raise OTLPExportError(f"{display_url(url)}: HTTP {response.status}: "
                                  f"{server_text(message, secret_values(all_headers))}")
        sent += 1
        count = count_items(signal, request)
        spans, logs = (spans + count, logs) if signal == "traces" else (spans, logs + count)
        lost, message = _partial_success(signal, response.body, protocol)
        rejected += lost
        if lost or message:
            message = server_text(message, secret_values(all_headers)) if message else ""
            warnings.append(f"{signal}: {lost} rejected" + (f": {message}" if message else ""))
    return ExportResult(sent, spans, logs, rejected, warnings)
