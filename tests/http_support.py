"""A recording HTTP server on 127.0.0.1 for the integration tests: every request kept, faults injected in order.

A fault is a dict consumed by one request (None passes it through): ``{"status": 429,
"retry_after": "1"}`` answers with that status (``"headers"`` adds reply headers, e.g. a
``Location``), ``{"drop": True}`` handles the request and then closes the connection
without answering (the work is done, the client never hears), ``{"raw": b"..."}`` writes
those bytes as the whole answer, and ``"trickle_s": 1.0`` (with any answer) sends it one
byte per that many seconds; ``"linger_s"`` keeps the connection open that long after.
Subclasses say how to answer (``respond``).
"""

from __future__ import annotations

import gzip
import http.server
import threading
import time
from typing import Any, NamedTuple


class Seen(NamedTuple):
    path: str
    headers: dict[str, str]
    body: bytes  # decompressed when the request was gzip-encoded
    at: float  # time.monotonic() when it arrived
    answered: int  # status sent, or 0 for a dropped connection


class RecordingServer:
    """Start with ``with``; ``url`` is ``http://127.0.0.1:<port>``; ``seen`` lists every request."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.faults: list[dict[str, Any] | None] = []
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                server.handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> RecordingServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = gzip.decompress(raw) if headers.get("content-encoding") == "gzip" else raw
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        status, reply_headers, reply = 0, {}, b""
        if fault is not None and "status" in fault:
            status, reply = fault["status"], fault.get("body", b"")
            if fault.get("retry_after"):
                reply_headers["Retry-After"] = fault["retry_after"]
            reply_headers["Content-Type"] = fault.get("content_type", "application/json")
            reply_headers.update(fault.get("headers", {}))
        else:
            status, reply_headers, reply = self.respond(request.path, headers, body)
        with self.lock:
            self.seen.append(Seen(request.path, headers, body, time.monotonic(),
                                  0 if fault and fault.get("drop") else status))
        if fault is not None and fault.get("drop"):
            request.close_connection = True
            request.connection.shutdown(2)  # the work is done; the client never gets an answer
            return
        if fault is not None and "raw" in fault:
            answer = fault["raw"]
        else:
            head = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in reply_headers.items()),
                    f"Content-Length: {len(reply)}"]
            answer = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply
        request.close_connection = True
        trickle = fault.get("trickle_s") if fault else None
        try:
            if trickle:
                for i in range(len(answer)):
                    request.wfile.write(answer[i:i + 1])
                    request.wfile.flush()
                    time.sleep(trickle)
            else:
                request.wfile.write(answer)
            request.wfile.flush()
            time.sleep(fault.get("linger_s", 0) if fault else 0)
        except OSError:  # the client gave up
            pass
