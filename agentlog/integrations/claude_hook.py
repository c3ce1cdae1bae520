"""Claude Code's and Codex's Bash hooks: a failed command's new failures, as context.

The agent runs ``agentlog hook claude|codex`` before (PreToolUse) and after
(PostToolUse, and Claude Code's PostToolUseFailure) every Bash call with the event
as JSON on stdin. Before, the hook notes when the call started, by its
``tool_use_id`` (in a project without a data dir yet, it creates the data dir to keep
it). After, when the command failed and AgentLog recorded failures
while it ran (since its start, and not handed over already), the hook prints
``{"hookSpecificOutput": {"hookEventName": ..., "additionalContext": ...}}`` with
the newest one's context in at most ``HOOK_TOKENS`` tokens; otherwise nothing.
Codex's PostToolUse carries no exit code: there a command that recorded new
failures while it ran counts as failed. The start is the PreToolUse time or,
when that was not noted (no project and no data dir, an older hook), the
event's ``duration_ms`` before now. Without either, the window is since the
previous hook call, at most ``MAX_COMMAND_S``, and the text says the failures
were recorded since the previous command rather than by this one. A small state
file in the data dir (``hook-claude.json``) keeps the newest failure time already
seen, so a failure is handed over once, and the start times of the newest
``MAX_STARTS`` calls.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

HOOK_TOKENS = 800
MAX_COMMAND_S = 600  # Claude Code's longest Bash timeout: older failures are not this command's
STATE_FILE = "hook-claude.json"
MAX_STARTS = 32  # Bash calls whose start time the state keeps (parallel calls, a lost Post event)
_EXIT_KEYS = ("exit_code", "exitCode", "returnCode", "return_code")
DURATION_SLACK_S = 1.0  # the agent's clock reading of the start and ours differ by this much at most
FORMATS = {"claude": "claude", "codex": "codex"}


def command_failed(event: dict[str, Any], agent: str = "claude") -> bool | None:
    """Whether the Bash call failed: a PostToolUseFailure that was not an interrupt, or a
    PostToolUse whose response carries a non-zero exit code; None when the event cannot say
    (Codex reports no exit code)."""
    if event.get("tool_name", "Bash") != "Bash":
        return False
    if event.get("hook_event_name") == "PostToolUseFailure":
        return not event.get("is_interrupt")
    response = event.get("tool_response")
    codes = [c for c in ([response.get(k) for k in _EXIT_KEYS] if isinstance(response, dict) else [])
             if isinstance(c, int) and not isinstance(c, bool)]
    if codes:
        return any(c != 0 for c in codes)
    return None if agent == "codex" else False


def call_key(event: dict[str, Any]) -> str | None:
    """What pairs a call's Pre and Post events: its ``tool_use_id``, else (an agent that sends
    none) its session, turn and command."""
    if isinstance(event.get("tool_use_id"), str):
        return event["tool_use_id"]
    tool_input = event.get("tool_input")
    command = tool_input.get("command") if isinstance(tool_input, dict) else None
    parts = [event.get("session_id"), event.get("turn_id"), command]
    if not all(isinstance(p, str) for p in parts[::2]):
        return None
    import hashlib

    return "k" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _duration_start(event: dict[str, Any], now: float) -> float | None:
    """When the command started, from the event's ``duration_ms`` (Claude Code's Post events)."""
    duration = event.get("duration_ms")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and 0 <= duration <= MAX_COMMAND_S * 1000:
        return now - duration / 1000 - DURATION_SLACK_S
    return None


def _load(state: Path) -> dict[str, Any]:
    """``seen`` (newest failure time handed over) and ``starts`` (tool_use_id -> start time)."""
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    data = data if isinstance(data, dict) else {}
    seen = data.get("seen", 0)
    starts = data.get("starts")
    return {"seen": float(seen) if isinstance(seen, int | float) else 0.0,
            "starts": {k: float(v) for k, v in (starts.items() if isinstance(starts, dict) else ())
                       if isinstance(k, str) and isinstance(v, int | float)}}


def _save(state: Path, data: dict[str, Any]) -> None:
    starts = sorted(data["starts"].items(), key=lambda kv: kv[1])[-MAX_STARTS:]
    tmp = state.with_name(f".{state.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"seen": data["seen"], "starts": dict(starts)}, fh)
    os.replace(tmp, state)


def _make_project_dir(data_dir: Path) -> bool:
    """Create a project's data dir (its parent holds a project marker) so a PreToolUse can note
    the start; elsewhere, or when it cannot be made, create nothing."""
    from agentlog.core.projectdir import PROJECT_MARKERS
    from agentlog.store.paths import DataDirError, ensure_data_dir

    if not any((data_dir.parent / marker).exists() for marker in PROJECT_MARKERS):
        return False
    try:
        ensure_data_dir(data_dir)
    except DataDirError:
        return False
    return True


def hook_output(event: dict[str, Any], data_dir: Path, now: float, agent: str = "claude") -> dict[str, Any] | None:
    """What to print for ``event`` from ``agent``: the hook JSON with the new failures' context, or None.

    A PreToolUse event notes the call's start and prints nothing; in a project with no data dir
    yet it creates the data dir to keep that start (Codex's Post events carry no other).
    """
    if not data_dir.is_dir() and not (event.get("hook_event_name") == "PreToolUse" and _make_project_dir(data_dir)):
        return None  # nothing was ever recorded here
    state = data_dir / STATE_FILE
    data = _load(state)
    call = call_key(event)
    if event.get("hook_event_name") == "PreToolUse":
        if call and event.get("tool_name", "Bash") == "Bash":
            data["starts"][call] = now
            _save(state, data)
        return None
    from agentlog.context.builder import load
    from agentlog.context.formats import render
    from agentlog.context.tokencount import count_tokens

    started = data["starts"].pop(call, None) if call else None
    if started is None:
        started = _duration_start(event, now)
    since = max(data["seen"], started if started is not None else now - MAX_COMMAND_S)
    failures, records = load(data_dir)
    new = [f for f in failures if f.get("ts", 0) > since]
    if new:
        data["seen"] = max(f["ts"] for f in new)
    if new or started is not None:
        _save(state, data)
    failed = command_failed(event, agent)
    if not new or failed is False or (failed is None and started is None):
        return None
    when = ("while this command ran" if started is not None else
            "since the previous command (when this one started is unknown, so some may come from other commands)")
    intro = (f"AgentLog recorded {len(new)} failure(s) {when}; the newest, with its local "
             "values (more: the agentlog MCP tools or `agentlog context`):\n")
    context = render(new, records, FORMATS.get(agent, "claude"), HOOK_TOKENS - count_tokens(intro), data_dir)
    return {"hookSpecificOutput": {"hookEventName": event.get("hook_event_name", "PostToolUse"),
                                   "additionalContext": intro + context}}
