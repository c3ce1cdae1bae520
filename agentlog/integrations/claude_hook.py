"""Claude Code's PostToolUse / PostToolUseFailure hook for Bash: a failed command's new failure, as context.

Claude Code runs ``agentlog hook claude`` after every Bash call with the event as
JSON on stdin. When the command failed and AgentLog recorded a failure since the
previous Bash call (and within the longest time a Bash call may take), the hook
prints ``{"hookSpecificOutput": {"hookEventName": ..., "additionalContext": ...}}``
with that failure's context in at most ``HOOK_TOKENS`` tokens. Otherwise it prints
nothing. A small state file in the data dir (``hook-claude.json``) remembers the
newest failure time already seen, so a failure is handed over once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

HOOK_TOKENS = 800
MAX_COMMAND_S = 600  # Claude Code's longest Bash timeout: older failures are not this command's
STATE_FILE = "hook-claude.json"
_EXIT_KEYS = ("exit_code", "exitCode", "returnCode", "return_code")


def command_failed(event: dict[str, Any]) -> bool:
    """Whether the Bash call failed: a PostToolUseFailure that was not an interrupt, or a
    PostToolUse whose response carries a non-zero exit code."""
    if event.get("tool_name", "Bash") != "Bash":
        return False
    if event.get("hook_event_name") == "PostToolUseFailure":
        return not event.get("is_interrupt")
    response = event.get("tool_response")
    codes = [response.get(k) for k in _EXIT_KEYS] if isinstance(response, dict) else []
    return any(isinstance(c, int) and c != 0 for c in codes)


def _seen(state: Path) -> float:
    try:
        value = json.loads(state.read_text(encoding="utf-8")).get("seen", 0)
        return float(value) if isinstance(value, int | float) else 0.0
    except (OSError, ValueError, AttributeError):
        return 0.0


def _remember(state: Path, ts: float) -> None:
    tmp = state.with_name(f".{state.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"seen": ts}, fh)
    os.replace(tmp, state)


def hook_output(event: dict[str, Any], data_dir: Path, now: float) -> dict[str, Any] | None:
    """What to print for ``event``: the hook JSON with the new failure's context, or None."""
    if not data_dir.is_dir():
        return None  # nothing was ever recorded here
    from agentlog.context.builder import load
    from agentlog.context.formats import render
    from agentlog.context.tokencount import count_tokens

    state = data_dir / STATE_FILE
    seen = max(_seen(state), now - MAX_COMMAND_S)
    failures, records = load(data_dir)
    new = [f for f in failures if f.get("ts", 0) > seen]
    if new:
        _remember(state, max(f["ts"] for f in new))
    if not new or not command_failed(event):
        return None
    intro = (f"AgentLog recorded {len(new)} failure(s) while this command ran; the newest, with its local "
             "values (more: the agentlog MCP tools or `agentlog context`):\n")
    context = render(new, records, "claude", HOOK_TOKENS - count_tokens(intro), data_dir)
    return {"hookSpecificOutput": {"hookEventName": event.get("hook_event_name", "PostToolUse"),
                                   "additionalContext": intro + context}}
