"""``agentlog sessions``: one line per session."""

from __future__ import annotations

import argparse

from agentlog.commands import positive_int, resolve_dir

HELP = "List sessions: id, agent, task, start, duration, failures, outcome, parent (oldest first)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=positive_int, default=50, help="show the newest N sessions (default 50)")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.session import session_line
    from agentlog.store import iter_records
    from agentlog.work.summary import summarize_sessions

    infos = list(summarize_sessions(iter_records(resolve_dir(args))).values())
    if not infos:
        print("no sessions recorded")
        return 0
    infos.sort(key=lambda info: info.start)
    for info in infos[-args.limit :]:
        print(session_line(info))
    return 0
