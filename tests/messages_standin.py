"""A scripted stand-in for Anthropic's Messages API on 127.0.0.1, for running the real Claude Code.

Claude Code (``ANTHROPIC_BASE_URL`` pointed here) sends its agent loop's requests with its tools;
the stand-in answers them from a script: the n-th request of the loop (n = the tool results the
conversation holds so far) asks for the n-th scripted tool call, and once the script is done it ends
the turn with text. Requests without tools (titles, quota checks) get a short text. Answers stream
as server-sent events when the request says ``"stream": true``. Every request body is kept, so a
test can assert what reached the model.
"""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

ToolCall = tuple[str, dict[str, Any]]  # (tool name, input)


class MessagesStandIn:
    def __init__(self, script: list[ToolCall], final_text: str = "Done.") -> None:
        self.script = script
        self.final_text = final_text
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                standin.handle(self)

            def do_GET(self) -> None:
                self.send_error(404)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> MessagesStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def agent_requests(self) -> list[dict[str, Any]]:
        """The requests of the agent loop (those offering tools), in order."""
        with self._lock:
            return [r for r in self.requests if r.get("tools")]

    def handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        try:
            body = json.loads(request.rfile.read(length) or b"{}")
        except ValueError:
            request.send_error(400)
            return
        path = request.path.split("?", 1)[0]
        if path.endswith("/count_tokens"):
            self._send_json(request, {"input_tokens": len(json.dumps(body)) // 4})
            return
        if not path.endswith("/v1/messages"):
            request.send_error(404)
            return
        with self._lock:
            self.requests.append(body)
            index = len(self.requests)
        blocks, stop = self._answer(body, index)
        message = {"id": f"msg_standin_{index}", "type": "message", "role": "assistant",
                   "model": body.get("model", "claude"), "content": blocks, "stop_reason": stop,
                   "stop_sequence": None, "usage": {"input_tokens": 100, "output_tokens": 20}}
        if body.get("stream"):
            self._send_stream(request, message)
        else:
            self._send_json(request, message)

    def _answer(self, body: dict[str, Any], index: int) -> tuple[list[dict[str, Any]], str]:
        if not body.get("tools"):
            return [{"type": "text", "text": "Scripted"}], "end_turn"
        done = sum(1 for message in body.get("messages", []) if isinstance(message.get("content"), list)
                   for block in message["content"] if block.get("type") == "tool_result")
        if done < len(self.script):
            name, tool_input = self.script[done]
            return [{"type": "tool_use", "id": f"toolu_standin_{index}", "name": name, "input": tool_input}], "tool_use"
        return [{"type": "text", "text": self.final_text}], "end_turn"

    @staticmethod
    def _send_json(request: http.server.BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    @staticmethod
    def _send_stream(request: http.server.BaseHTTPRequestHandler, message: dict[str, Any]) -> None:
        events: list[dict[str, Any]] = [{"type": "message_start", "message": {**message, "content": [],
                                                                             "stop_reason": None}}]
        for i, block in enumerate(message["content"]):
            if block["type"] == "tool_use":
                start, delta = {**block, "input": {}}, {"type": "input_json_delta",
                                                       "partial_json": json.dumps(block["input"])}
            else:
                start, delta = {"type": "text", "text": ""}, {"type": "text_delta", "text": block["text"]}
            events += [{"type": "content_block_start", "index": i, "content_block": start},
                       {"type": "content_block_delta", "index": i, "delta": delta},
                       {"type": "content_block_stop", "index": i}]
        events += [{"type": "message_delta", "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                    "usage": {"output_tokens": 20}},
                   {"type": "message_stop"}]
        data = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
