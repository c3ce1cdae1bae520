"""What ``agentlog init`` writes for each agent, as planned file changes.

File shapes (docs/AGENTS.md cites the agents' documentation):

- Claude Code: ``.mcp.json`` ``{"mcpServers": {"agentlog": {"type": "stdio", "command", "args"}}}``;
  a block in ``CLAUDE.md``; with the hook, ``.claude/settings.json``
  ``{"hooks": {"PreToolUse"|"PostToolUse"|"PostToolUseFailure": [{"matcher": "Bash", "hooks": [...]}]}}``.
- Cursor: ``.cursor/mcp.json`` (same ``mcpServers`` shape, no ``type``) and the rule
  ``.cursor/rules/agentlog.mdc`` (frontmatter ``description``, ``globs``, ``alwaysApply``).
- Codex CLI: ``.codex/config.toml`` ``[mcp_servers.agentlog]`` (``command``, ``args``,
  ``env``; read for trusted projects) and a block in ``AGENTS.md``.
- All: ``.agentlog/`` in ``.gitignore``.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable
from pathlib import Path

from agentlog.integrations.agentfiles import (
    merge_claude_hooks,
    merge_gitignore,
    merge_markdown_block,
    merge_mcp_json,
    merge_toml_table,
)

AGENTS = ("claude", "cursor", "codex")
HOOK_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")  # Pre: when the command started
HOOK_TIMEOUT_S = 10
HOOK_MARKER = "agentlog hook claude"

INSTRUCTIONS = """\
## AgentLog: recorded runtime context for Python failures

- Run Python through AgentLog so failures are recorded: `python -m agentlog script.py ARGS`,
  `python -m agentlog -m pytest -x`, or `AGENTLOG=true` in the environment of any Python command.
- After a Python command or test fails, read what AgentLog recorded before re-running it or adding
  prints: the `agentlog` MCP server's `get_debug_context` tool (or `agentlog context --format {fmt}
  --max-tokens 2000` in a shell). It already has the exception, every frame's local variables and
  the calls that led there, with their arguments and return values.
- `search_errors` (or `agentlog list`) shows whether the same failure happened before.
"""

CURSOR_RULE = """\
---
description: Use AgentLog's recorded runtime context (locals, call trail) when a Python command or test fails
globs: "**/*.py"
alwaysApply: false
---
{body}"""


@dataclasses.dataclass
class FileChange:
    """One file's text before (None: absent) and after."""

    path: Path
    old: str | None
    new: str


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def server_argv(python: str) -> tuple[str, list[str]]:
    """The command and arguments that start AgentLog's MCP server."""
    return python, ["-m", "agentlog", "mcp"]


def hook_command(python: str) -> str:
    return f"{shlex.quote(python)} -m {HOOK_MARKER}"


def _files(agent: str, project: Path, python: str, hook: bool) -> list[tuple[str, Callable[[str | None], str]]]:
    command, args = server_argv(python)
    if agent == "claude":
        files: list[tuple[str, Callable[[str | None], str]]] = [
            (".mcp.json", lambda t: merge_mcp_json(t, ".mcp.json",
                                                   {"type": "stdio", "command": command, "args": args})),
            ("CLAUDE.md", lambda t: merge_markdown_block(t, INSTRUCTIONS.format(fmt="claude"))),
        ]
        if hook:
            entry = {"type": "command", "command": hook_command(python), "timeout": HOOK_TIMEOUT_S}
            files.append((".claude/settings.json", lambda t: merge_claude_hooks(
                t, ".claude/settings.json", HOOK_EVENTS, "Bash", entry, HOOK_MARKER)))
        return files
    if agent == "cursor":
        # Cursor may start servers outside the project: name the data dir.
        server = {"command": command, "args": args, "env": {"AGENTLOG_DIR": str(project / ".agentlog")}}
        return [
            (".cursor/mcp.json", lambda t: merge_mcp_json(t, ".cursor/mcp.json", server)),
            (".cursor/rules/agentlog.mdc", lambda t: CURSOR_RULE.format(body=INSTRUCTIONS.format(fmt="cursor"))),
        ]
    return [
        (".codex/config.toml", lambda t: merge_toml_table(t, ".codex/config.toml", ("mcp_servers", "agentlog"),
                                                          {"command": command, "args": args})),
        ("AGENTS.md", lambda t: merge_markdown_block(t, INSTRUCTIONS.format(fmt="codex"))),
    ]


def plan(project: Path, agents: list[str], python: str, hook: bool = True) -> list[FileChange]:
    """The changes ``agentlog init`` makes for ``agents`` in ``project``, unchanged files left out.

    UnparseableFile if any file it must change cannot be parsed (then nothing is changed).
    """
    files = [f for agent in agents for f in _files(agent, project, python, hook)]
    files.append((".gitignore", merge_gitignore))
    changes = []
    for name, merge in files:
        path = project / name
        old = _read(path)
        new = merge(old)
        if new != old:
            changes.append(FileChange(path, old, new))
    return changes
