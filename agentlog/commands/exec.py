"""``agentlog exec -- CMD ARGS``: run a command, pass its output through, record it."""

from __future__ import annotations

import argparse
import os
import sys

HELP = "Run a command with live output; record command, exit code, duration and bounded output."
# the command's own output passes through unchanged, as without AgentLog
RAW_OUTPUT = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command and its arguments")


def run(args: argparse.Namespace) -> int:
    from agentlog.work.session import SESSION_ENV, end_session, ensure_session_started
    from agentlog.work.tools import run_command

    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        print("agentlog exec: no command given (usage: agentlog exec -- CMD ARGS)", file=sys.stderr)
        return 2
    own_session = not os.environ.get(SESSION_ENV)
    ensure_session_started(["agentlog", "exec", *argv])
    rc = run_command(argv)
    if own_session:  # nobody else will end the session this command started
        end_session("ok" if rc == 0 else f"exit {rc}")
    return rc
