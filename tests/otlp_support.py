"""An OTLP/HTTP receiver on 127.0.0.1 that decodes every request with opentelemetry-proto.

JSON bodies get the receiver rule the OTLP spec implies: ids are hex, so they are
converted to base64 before protobuf's JSON parser sees them (it would misread hex as
base64 without complaint); a malformed id fails the request.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from http_support import RecordingServer

HEX_IDS = {"traceId": 32, "spanId": 16, "parentSpanId": 16}


def hex_to_base64(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in HEX_IDS and isinstance(item, str):
                if not re.fullmatch(f"[0-9a-fA-F]{{{HEX_IDS[key]}}}", item):
                    raise ValueError(f"{key} is not {HEX_IDS[key]} hex digits: {item!r}")
                out[key] = base64.b64encode(bytes.fromhex(item)).decode()
            else:
                out[key] = hex_to_base64(item)
        return out
    return [hex_to_base64(v) for v in value] if isinstance(value, list) else value


def message_class(signal: str) -> type:
    if signal == "traces":
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
        return ExportTraceServiceRequest
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    return ExportLogsServiceRequest


def decode(signal: str, body: bytes, content_type: str) -> Any:
    """The request as an opentelemetry-proto message."""
    from google.protobuf import json_format

    message = message_class(signal)()
    if content_type == "application/x-protobuf":
        message.ParseFromString(body)
    else:
        json_format.ParseDict(hex_to_base64(json.loads(body)), message, ignore_unknown_fields=True)
    return message


class OTLPReceiver(RecordingServer):
    """Accepts /v1/traces and /v1/logs; ``decoded`` holds (signal, message) per accepted request."""

    def __init__(self) -> None:
        super().__init__()
        self.decoded: list[tuple[str, Any]] = []
        self.partial: dict[str, Any] | None = None  # a partialSuccess to answer with, once

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        signal = path.removeprefix("/v1/")
        content_type = headers.get("content-type", "")
        try:
            message = decode(signal, body, content_type)
        except Exception as exc:  # noqa: BLE001 - the test sees the 400
            return 400, {"Content-Type": "application/json"}, json.dumps({"code": 3, "message": str(exc)}).encode()
        self.decoded.append((signal, message))
        reply: dict[str, Any] = {}
        if self.partial is not None:
            reply, self.partial = {"partialSuccess": self.partial}, None
        if content_type == "application/x-protobuf":
            from google.protobuf import json_format
            from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
            from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

            cls = ExportTraceServiceResponse if signal == "traces" else ExportLogsServiceResponse
            return 200, {"Content-Type": content_type}, json_format.ParseDict(reply, cls()).SerializeToString()
        return 200, {"Content-Type": "application/json"}, json.dumps(reply).encode()

    def messages(self, signal: str) -> list[Any]:
        return [m for s, m in self.decoded if s == signal]
