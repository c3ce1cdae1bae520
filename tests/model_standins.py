"""Scripted stand-ins for the model APIs on 127.0.0.1, for running the real Claude Code and Codex.

The client (its base URL pointed here) sends its agent loop's requests with its tools; the stand-in
answers from a script: the n-th request of the loop (n = the tool results the conversation holds so
far) asks for the n-th scripted tool call, and once the script is done it ends the turn with text.
Requests without tools (titles, quota checks) get a short text. Answers stream as server-sent events
when the request asks for a stream. Every request body is kept, so a test can assert what reached
the model.

- ``MessagesStandIn``: Anthropic's Messages API (``POST /v1/messages``), for Claude Code.
- ``ResponsesStandIn``: OpenAI's Responses API (``POST /v1/responses``), for Codex; a scripted
  ``command`` runs with whichever shell tool the client offers.
"""

from __future__ import annotations

import json
from typing import Any

from http_support import RecordingServer

ToolCall = tuple[str, dict[str, Any]]  # (tool name, input)
Event = dict[str, Any]


class ScriptedModel(RecordingServer):
    """The request log and the answer's transport; subclasses speak one API."""

    path = ""

    def __init__(self, script: list[ToolCall], final_text: str = "Done.") -> None:
        super().__init__()
        self.script = script
        self.final_text = final_text
        self.requests: list[dict[str, Any]] = []

    def agent_requests(self) -> list[dict[str, Any]]:
        """The requests of the agent loop (those offering tools), in order."""
        with self.lock:
            return [r for r in self.requests if r.get("tools")]

    def respond(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {}, b""
        path = path.split("?", 1)[0]
        if path.endswith("/count_tokens"):
            return 200, {"Content-Type": "application/json"}, json.dumps({"input_tokens": len(raw) // 4}).encode()
        if not path.endswith(self.path):
            return 404, {}, b""
        with self.lock:
            self.requests.append(body)
            index = len(self.requests)
        step = self.step(body) if body.get("tools") else None
        events = self.events(body, step, index)
        if body.get("stream"):
            text = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
            return 200, {"Content-Type": "text/event-stream"}, text.encode()
        return 200, {"Content-Type": "application/json"}, json.dumps(self.whole(events)).encode()

    def step(self, body: dict[str, Any]) -> ToolCall | None:
        """The scripted tool call this request gets, or None to end the turn."""
        done = self.tool_results(body)
        return self.script[done] if done < len(self.script) else None

    def tool_results(self, body: dict[str, Any]) -> int:
        raise NotImplementedError

    def events(self, body: dict[str, Any], step: ToolCall | None, index: int) -> list[Event]:
        raise NotImplementedError

    def whole(self, events: list[Event]) -> dict[str, Any]:
        raise NotImplementedError


class MessagesStandIn(ScriptedModel):
    """Anthropic's Messages API: tool calls are ``tool_use`` blocks, results ``tool_result`` blocks."""

    path = "/v1/messages"

    def tool_results(self, body: dict[str, Any]) -> int:
        return sum(1 for message in body.get("messages", []) if isinstance(message.get("content"), list)
                   for block in message["content"] if block.get("type") == "tool_result")

    def events(self, body: dict[str, Any], step: ToolCall | None, index: int) -> list[Event]:
        if step is None:
            text = self.final_text if body.get("tools") else "Scripted"
            start, delta, stop = {"type": "text", "text": ""}, {"type": "text_delta", "text": text}, "end_turn"
        else:
            start = {"type": "tool_use", "id": f"toolu_standin_{index}", "name": step[0], "input": {}}
            delta, stop = {"type": "input_json_delta", "partial_json": json.dumps(step[1])}, "tool_use"
        message = {"id": f"msg_standin_{index}", "type": "message", "role": "assistant",
                   "model": body.get("model", "claude"), "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": 100, "output_tokens": 1}}
        return [{"type": "message_start", "message": message},
                {"type": "content_block_start", "index": 0, "content_block": start},
                {"type": "content_block_delta", "index": 0, "delta": delta},
                {"type": "content_block_stop", "index": 0},
                {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                 "usage": {"output_tokens": 20}},
                {"type": "message_stop"}]

    def whole(self, events: list[Event]) -> dict[str, Any]:
        block = dict(events[1]["content_block"])
        delta = events[2]["delta"]
        if block["type"] == "tool_use":
            block["input"] = json.loads(delta["partial_json"])
        else:
            block["text"] = delta["text"]
        return {**events[0]["message"], "content": [block], "stop_reason": events[4]["delta"]["stop_reason"]}


class ResponsesStandIn(ScriptedModel):
    """OpenAI's Responses API: tool calls are ``function_call`` items, results ``function_call_output``.

    A scripted ``("command", {"command": "..."})`` becomes a call of the shell tool the request
    offers, with that tool's argument shape.
    """

    path = "/v1/responses"
    SHELLS = {"exec_command": lambda c: {"cmd": c}, "shell_command": lambda c: {"command": c},
              "shell": lambda c: {"command": ["bash", "-lc", c]}}

    def tool_results(self, body: dict[str, Any]) -> int:
        return sum(1 for item in body.get("input", []) if item.get("type") == "function_call_output")

    def events(self, body: dict[str, Any], step: ToolCall | None, index: int) -> list[Event]:
        response = {"id": f"resp_standin_{index}", "object": "response", "model": body.get("model", "gpt")}
        if step is None:
            item = {"type": "message", "role": "assistant", "id": f"msg_standin_{index}",
                    "content": [{"type": "output_text", "text": self.final_text if body.get("tools") else "Scripted"}]}
        else:
            name, arguments = step
            if name == "command":
                offered = {tool.get("name") for tool in body["tools"]}
                name = next(shell for shell in self.SHELLS if shell in offered)
                arguments = self.SHELLS[name](step[1]["command"])
            item = {"type": "function_call", "id": f"fc_standin_{index}", "call_id": f"call_standin_{index}",
                    "name": name, "arguments": json.dumps(arguments)}
        usage = {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 20,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 120}
        return [{"type": "response.created", "response": response},
                {"type": "response.output_item.done", "output_index": 0, "item": item},
                {"type": "response.completed", "response": {**response, "status": "completed", "output": [item],
                                                            "usage": usage}}]

    def whole(self, events: list[Event]) -> dict[str, Any]:
        return events[-1]["response"]
