"""``agentlog init``: register AgentLog with Claude Code, Cursor and Codex CLI in this project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Set up Claude Code, Cursor and/or Codex CLI in this project to use AgentLog (MCP server, instructions)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--claude", action="store_true", help="Claude Code: .mcp.json, CLAUDE.md, the hook")
    parser.add_argument("--cursor", action="store_true", help="Cursor: .cursor/mcp.json, .cursor/rules/agentlog.mdc")
    parser.add_argument("--codex", action="store_true", help="Codex CLI: .codex/config.toml, AGENTS.md")
    parser.add_argument("--all", action="store_true", help="all three")
    parser.add_argument("--no-hook", action="store_true",
                        help="with --claude: no hook handing a failed command's context to Claude")
    parser.add_argument("--dry-run", action="store_true", help="print the changes as a diff; write nothing")


def _diff(change) -> str:
    import difflib

    name = str(change.path.relative_to(Path.cwd()))
    old = (change.old or "").splitlines(keepends=True)
    lines = difflib.unified_diff(old, change.new.splitlines(keepends=True),
                                 "/dev/null" if change.old is None else f"a/{name}", f"b/{name}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def run(args: argparse.Namespace) -> int:
    from agentlog.integrations.agentfiles import UnparseableFile
    from agentlog.integrations.agentsetup import AGENTS, plan

    agents = [a for a in AGENTS if args.all or getattr(args, a)]
    if not agents:
        print("agentlog init: name the agents to set up: --claude, --cursor, --codex or --all", file=sys.stderr)
        return 2
    try:
        changes = plan(Path.cwd(), agents, sys.executable, hook=not args.no_hook)
    except UnparseableFile as exc:
        print(f"agentlog init: {exc}; nothing was changed", file=sys.stderr)
        return 1
    for change in changes:
        if args.dry_run:
            sys.stdout.write(_diff(change))
            continue
        change.path.parent.mkdir(parents=True, exist_ok=True)
        change.path.write_text(change.new, encoding="utf-8")
        print(f"{'created' if change.old is None else 'updated'} {change.path.relative_to(Path.cwd())}")
    if not changes:
        print("agentlog init: already set up; nothing to change")
    return 0
