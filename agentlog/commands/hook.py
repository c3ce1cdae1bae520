"""``agentlog hook claude|codex``: the Bash hook ``agentlog init --claude`` / ``--codex`` installs."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

HELP = ("Claude Code / Codex hook (reads the hook event on stdin): after a failed Bash command, "
        "its new failure's context.")
MAX_INPUT_BYTES = 1024 * 1024
TIME_LIMIT_S = 5  # the agent never waits longer; the installed hook's own timeout is 10 s


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("agent", choices=("claude", "codex"), help="the agent whose hook event is on stdin")


def _give_up(signum: int, frame: object) -> None:
    os._exit(0)  # out of time: no context this once, never a stuck agent


def run(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGALRM, _give_up)
    signal.alarm(TIME_LIMIT_S)
    raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    try:
        event = json.loads(raw) if len(raw) <= MAX_INPUT_BYTES else None
    except ValueError:
        event = None
    if not isinstance(event, dict):
        print("agentlog hook: stdin is not a hook event (a JSON object of at most 1 MiB)", file=sys.stderr)
        return 1
    from agentlog.core.config import get_config
    from agentlog.integrations.claude_hook import hook_output

    cwd = event.get("cwd")
    if isinstance(cwd, str) and os.path.isdir(cwd):
        os.chdir(cwd)  # the project's data dir and [tool.agentlog], as the agent's commands see them
    output = hook_output(event, get_config().data_dir, time.time(), args.agent)
    if output is not None:
        sys.stdout.write(json.dumps(output) + "\n")
    return 0
