"""``agentlog init``: register AgentLog with coding agents in this project (MCP server, hooks, instructions)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = ("Set up coding agents in this project to use AgentLog: Claude Code, Codex, Cursor, Gemini CLI, "
        "VS Code, Agent Skills (MCP server, capture on, hooks, instructions).")

TARGETS = {
    "claude": "Claude Code: .mcp.json, .claude/settings.json (AGENTLOG=true, the hook), CLAUDE.md",
    "codex": "Codex: .codex/config.toml (server, AGENTLOG=true), .codex/hooks.json, AGENTS.md",
    "cursor": "Cursor: .cursor/mcp.json, .cursor/rules/agentlog.mdc",
    "gemini": "Gemini CLI: .gemini/settings.json, GEMINI.md",
    "vscode": "VS Code / Copilot agent mode: .vscode/mcp.json, AGENTS.md",
    "skill": "an Agent Skill: .agents/skills/agentlog/SKILL.md and .claude/skills/agentlog/SKILL.md",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name, help_text in TARGETS.items():
        parser.add_argument(f"--{name}", action="store_true", help=help_text)
    parser.add_argument("--all", action="store_true", help="every target above")
    parser.add_argument("--no-hook", action="store_true",
                        help="no hook handing a failed command's context to Claude Code or Codex")
    parser.add_argument("--local", action="store_true",
                        help="name this machine's Python (not `agentlog` on PATH), only in files kept out of git "
                             "(.claude/settings.local.json); prints the clients' commands for local servers")
    parser.add_argument("--dry-run", action="store_true", help="print the changes as a diff; write nothing")


def _diff(change, root: Path) -> str:
    import difflib

    name = str(change.path.relative_to(root))
    old = (change.old or "").splitlines(keepends=True)
    lines = difflib.unified_diff(old, change.new.splitlines(keepends=True),
                                 "/dev/null" if change.old is None else f"a/{name}", f"b/{name}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def run(args: argparse.Namespace) -> int:
    from agentlog.integrations.agentfiles import UnparseableFile
    from agentlog.integrations.agentsetup import AGENTS, local_steps, plan
    from agentlog.integrations.installcheck import install_problems

    agents = [a for a in AGENTS if args.all or getattr(args, a)]
    if not agents:
        names = ", ".join(f"--{a}" for a in AGENTS)
        print(f"agentlog init: name the agents to set up: {names} or --all", file=sys.stderr)
        return 2
    from agentlog.core.projectdir import project_root

    root = Path(project_root())  # the project's, from any subdirectory
    if root != Path.cwd():
        print(f"agentlog init: setting up the project at {root}")
    try:
        changes = plan(root, agents, sys.executable, hook=not args.no_hook, local=args.local)
    except UnparseableFile as exc:
        print(f"agentlog init: {exc}; nothing was changed", file=sys.stderr)
        return 1
    for change in changes:
        if args.dry_run:
            sys.stdout.write(_diff(change, root))
            continue
        change.path.parent.mkdir(parents=True, exist_ok=True)
        change.path.write_text(change.new, encoding="utf-8")
        print(f"{'created' if change.old is None else 'updated'} {change.path.relative_to(root)}")
    if not changes:
        print("agentlog init: already set up; nothing to change")
    if args.local:
        for step in local_steps(agents, sys.executable):
            print(f"agentlog init: for a local server run: {step}")
    for problem in install_problems(root):
        print(f"agentlog init: {problem}", file=sys.stderr)
    return 0
