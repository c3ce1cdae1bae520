"""What ``agentlog init`` writes for each agent, as planned file changes.

Every committed file names only portable commands: ``agentlog`` on PATH, the
clients' own variables (``${workspaceFolder}``); the hook and the server only
read the project's ``.agentlog/`` (found from any subdirectory, ``core/projectdir.py``),
so they need not run in the project's environment. ``--local`` names this machine's
interpreter instead, in files the clients keep out of git. File shapes, and the
documentation each follows, are in docs/AGENTS.md ("agentlog init").
"""

from __future__ import annotations

import dataclasses
import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentlog.integrations.agentfiles import (
    UnparseableFile,
    merge_claude_hooks,
    merge_gitignore,
    merge_json_key,
    merge_markdown_block,
    merge_mcp_json,
    merge_toml_table,
)

AGENTS = ("claude", "codex", "cursor", "gemini", "vscode", "skill")
CLAUDE_HOOK_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")  # Pre: when the command started
CODEX_HOOK_EVENTS = ("PreToolUse", "PostToolUse")  # Codex has no PostToolUseFailure
HOOK_TIMEOUT_S = 10
HOOK_MARKER = "agentlog hook "  # an installed hook's command contains this (any agent)
ACTIVATE = {"AGENTLOG": "true"}  # every Python process the agent starts records its failures
Merge = Callable[[str | None], str]

INSTRUCTIONS = """\
## AgentLog: recorded runtime context for Python failures

- Python commands record their failures when `AGENTLOG=true` is in their environment ({env}).
  Elsewhere run `python -m agentlog script.py ARGS` or `python -m agentlog -m pytest -x`.
- After a Python command or test fails, read what AgentLog recorded before re-running it or adding
  prints: the `agentlog` MCP server's `get_debug_context` tool (or `agentlog context --format {fmt}
  --max-tokens 2000` in a shell). It already has the exception, every frame's local variables and
  the calls that led there, with their arguments and return values.
- `search_errors` (or `agentlog list`) shows whether the same failure happened before.
"""

ENV_NOTES = {
    "claude": "`.claude/settings.json` sets it for every command Claude Code runs here",
    "codex": "`.codex/config.toml` sets it for every command Codex runs here",
}
OTHER_ENV = "set it in the shell or prefix the command: `AGENTLOG=true pytest`"

CURSOR_RULE = """\
---
description: Use AgentLog's recorded runtime context (locals, call trail) when a Python command or test fails
alwaysApply: true
---
{body}"""

SKILL = """\
---
name: agentlog
description: Debug a failed Python command or test with AgentLog's recorded runtime state (exception, \
local variables of every frame, the calls before it with arguments and return values) instead of \
re-running it with prints. Use after pytest or a Python program fails in a project that uses AgentLog.
---
{body}"""


@dataclasses.dataclass
class FileChange:
    """One file's text before (None: absent) and after."""

    path: Path
    old: str | None
    new: str


@dataclasses.dataclass(frozen=True)
class Commands:
    """How the clients start AgentLog: portable (``agentlog`` on PATH) or this machine's (--local)."""

    program: str
    prefix: tuple[str, ...]

    def server(self) -> tuple[str, list[str]]:
        return self.program, [*self.prefix, "mcp"]

    def hook(self, agent: str) -> str:
        return " ".join(shlex.quote(p) for p in (self.program, *self.prefix, "hook", agent))


PORTABLE = Commands("agentlog", ())


def local_commands(python: str) -> Commands:
    """This machine's interpreter by absolute, normalised path (``proj/../venv`` becomes ``venv``)."""
    return Commands(os.path.normpath(os.path.abspath(python)), ("-m", "agentlog"))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _block(agent: str, fmt: str) -> Merge:
    body = INSTRUCTIONS.format(fmt=fmt, env=ENV_NOTES.get(agent, OTHER_ENV))
    return lambda text: merge_markdown_block(text, body)


def _claude(cmd: Commands, hook: bool, local: bool) -> list[tuple[str, Merge]]:
    settings = ".claude/settings.local.json" if local else ".claude/settings.json"

    def merge_settings(text: str | None) -> str:
        for key, value in ACTIVATE.items():
            text = merge_json_key(text, settings, ("env", key), value)
        if not hook:
            return text
        entry = {"type": "command", "command": cmd.hook("claude"), "timeout": HOOK_TIMEOUT_S}
        return merge_claude_hooks(text, settings, CLAUDE_HOOK_EVENTS, "Bash", entry, HOOK_MARKER)

    command, args = cmd.server()
    files = [(settings, merge_settings), ("CLAUDE.md", _block("claude", "claude"))]
    if not local:  # a local-scope server lives in ~/.claude.json: `claude mcp add --scope local` (local_steps)
        files.insert(0, (".mcp.json", lambda t: merge_mcp_json(
            t, ".mcp.json", {"type": "stdio", "command": command, "args": args})))
    return files


def _codex(cmd: Commands, hook: bool, local: bool) -> list[tuple[str, Merge]]:
    command, args = cmd.server()
    config = ".codex/config.toml"

    def merge_config(text: str | None) -> str:
        if not local:
            text = merge_toml_table(text, config, ("mcp_servers", "agentlog"), {"command": command, "args": args})
        return merge_toml_table(text, config, ("shell_environment_policy", "set"),
                                {**_toml_table(text, config, ("shell_environment_policy", "set")), **ACTIVATE})

    files: list[tuple[str, Merge]] = [(config, merge_config), ("AGENTS.md", _block("codex", "codex"))]
    if hook and not local:
        entry = {"type": "command", "command": cmd.hook("codex"), "timeout": HOOK_TIMEOUT_S}
        files.append((".codex/hooks.json", lambda t: merge_claude_hooks(
            t, ".codex/hooks.json", CODEX_HOOK_EVENTS, "Bash", entry, HOOK_MARKER)))
    return files


def _toml_table(text: str | None, name: str, path: tuple[str, str]) -> dict[str, Any]:
    import tomllib

    try:
        outer = tomllib.loads(text or "").get(path[0], {})
    except tomllib.TOMLDecodeError as exc:
        raise UnparseableFile(f"{name} is not valid TOML ({exc})") from None
    inner = outer.get(path[1], {}) if isinstance(outer, dict) else {}
    return inner if isinstance(inner, dict) else {}


def _files(agent: str, cmd: Commands, hook: bool, local: bool) -> list[tuple[str, Merge]]:
    command, args = cmd.server()
    if agent == "claude":
        return _claude(cmd, hook, local)
    if agent == "codex":
        return _codex(cmd, hook, local)
    if local:
        return []  # these clients keep local servers in the user's own settings (local_steps)
    # Clients that may start a server outside the project get the data dir through their own variable.
    in_workspace = {"AGENTLOG_DIR": "${workspaceFolder}/.agentlog"}
    if agent == "cursor":
        rule = CURSOR_RULE.format(body=INSTRUCTIONS.format(fmt="cursor", env=OTHER_ENV))
        return [(".cursor/mcp.json", lambda t: merge_mcp_json(
                    t, ".cursor/mcp.json", {"command": command, "args": args, "env": in_workspace})),
                (".cursor/rules/agentlog.mdc", lambda t: rule)]
    if agent == "gemini":
        return [(".gemini/settings.json", lambda t: merge_mcp_json(
                    t, ".gemini/settings.json", {"command": command, "args": args})),
                ("GEMINI.md", _block("gemini", "markdown"))]
    if agent == "vscode":
        return [(".vscode/mcp.json", lambda t: merge_json_key(
                    t, ".vscode/mcp.json", ("servers", "agentlog"),
                    {"type": "stdio", "command": command, "args": args, "env": in_workspace})),
                ("AGENTS.md", _block("vscode", "markdown"))]
    skill = SKILL.format(body=INSTRUCTIONS.format(fmt="markdown", env=OTHER_ENV))
    return [(".agents/skills/agentlog/SKILL.md", lambda t: skill),
            (".claude/skills/agentlog/SKILL.md", lambda t: skill)]


def check_no_symlinks(project: Path, name: str) -> None:
    """UnparseableFile if ``name`` or a folder on its way from ``project`` is a symlink (a repository
    can ship ``CLAUDE.md -> ~/.bashrc``; init writes only real files inside the project)."""
    path = project
    for part in Path(name).parts:
        path = path / part
        if path.is_symlink():
            raise UnparseableFile(f"{path.relative_to(project)} is a symlink; init writes only regular files "
                                  "inside the project (replace it with a file or remove it)")
    if path.exists() and not path.is_file():
        raise UnparseableFile(f"{name} exists and is not a regular file")


def plan(project: Path, agents: list[str], python: str, hook: bool = True, local: bool = False) -> list[FileChange]:
    """The changes ``agentlog init`` makes for ``agents`` in ``project``, unchanged files left out.

    UnparseableFile if any file it must change cannot be parsed or is a symlink (then nothing is changed).
    """
    cmd = local_commands(python) if local else PORTABLE
    merges: dict[str, list[Merge]] = {}
    for agent in agents:
        for name, merge in _files(agent, cmd, hook, local):
            merges.setdefault(name, []).append(merge)  # AGENTS.md for Codex and VS Code: one block
    if local and "claude" in agents:  # names this machine's paths: never committed
        merges.setdefault(".gitignore", []).append(
            lambda t: merge_gitignore(merge_gitignore(t), ".claude/settings.local.json"))
    merges.setdefault(".gitignore", []).append(merge_gitignore)
    changes = []
    for name, steps in merges.items():
        check_no_symlinks(project, name)
        path = project / name
        old = _read(path)
        new = steps[0](old)
        if new != old:
            changes.append(FileChange(path, old, new))
    return changes


def local_steps(agents: list[str], python: str) -> list[str]:
    """With --local: the clients' own commands that register this machine's server in their local scope."""
    import json

    command, args = local_commands(python).server()
    argv = " ".join(shlex.quote(a) for a in (command, *args))
    server = {"command": command, "args": args}
    steps = {
        "claude": f"claude mcp add --scope local agentlog -- {argv}",
        "codex": f"codex mcp add agentlog -- {argv}",
        "gemini": f"gemini mcp add --scope user agentlog {argv}",
        "cursor": f"add to ~/.cursor/mcp.json: {json.dumps({'mcpServers': {'agentlog': server}})}",
        "vscode": "code --add-mcp " + shlex.quote(json.dumps({"name": "agentlog", **server})),
    }
    return [steps[a] for a in agents if a in steps]
