"""``agentlog exec -- CMD ARGS``: run a command, pass its output through, record it."""

from __future__ import annotations

import argparse
import sys

HELP = "Run a command with live output; record command, exit code, duration and bounded output."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command and its arguments")


def run(args: argparse.Namespace) -> int:
    from agentlog.session import ensure_session_started
    from agentlog.tools import run_command

    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        print("agentlog exec: no command given (usage: agentlog exec -- CMD ARGS)", file=sys.stderr)
        return 2
    ensure_session_started(["agentlog", "exec", *argv])
    return run_command(argv)
