"""OTLP/JSON requests as protobuf bytes, through ``opentelemetry-proto`` (the ``otel`` extra).

protobuf's JSON parser reads ``bytes`` fields as base64, and hex ids happen to be
valid base64: parsed as they are, a 32-digit trace id silently becomes 24 bytes of
garbage. So the ids are converted hex -> base64 first (OTLP's JSON encoding is the
one place ids are hex).
"""

from __future__ import annotations

import base64
from typing import Any

ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})
ID_HEX_DIGITS = {"traceId": 32, "spanId": 16, "parentSpanId": 16}


def available() -> bool:
    """Whether opentelemetry-proto (and protobuf) can be imported."""
    try:
        import opentelemetry.proto.collector.logs.v1.logs_service_pb2  # noqa: F401
    except ImportError:
        return False
    return True


def hex_ids_to_base64(value: Any) -> Any:
    """A copy of an OTLP/JSON tree with every id (dict keys in ID_KEYS) re-encoded as base64."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ID_KEYS and isinstance(item, str):
                if item and (len(item) != ID_HEX_DIGITS[key] or not _is_hex(item)):
                    raise ValueError(f"{key} {item!r} is not {ID_HEX_DIGITS[key]} hex digits")
                out[key] = base64.b64encode(bytes.fromhex(item)).decode("ascii")
            else:
                out[key] = hex_ids_to_base64(item)
        return out
    if isinstance(value, list):
        return [hex_ids_to_base64(item) for item in value]
    return value


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def encode(signal: str, request: dict[str, Any]) -> bytes:
    """Serialized ExportTraceServiceRequest (``signal`` "traces") or ExportLogsServiceRequest ("logs")."""
    from google.protobuf import json_format

    if signal == "traces":
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest as Message
    else:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest as Message
    message = json_format.ParseDict(hex_ids_to_base64(request), Message(), ignore_unknown_fields=True)
    return message.SerializeToString()


def decode_response(signal: str, body: bytes) -> dict[str, Any]:
    """An Export*ServiceResponse (or google.rpc.Status for an error) body, as a JSON-style dict."""
    from google.protobuf import json_format

    if signal == "traces":
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse as Message
    else:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse as Message
    message = Message()
    message.ParseFromString(body)
    return json_format.MessageToDict(message)
