"""``agentlog show SESSION``: one session in detail, with its tree of child sessions."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import data_dir_argument, resolve_dir
from agentlog.work.summary import SessionInfo

HELP = "Show one session (id or unique id prefix): details, child sessions, decisions, tools, tokens, perf."
MAX_TREE_DEPTH = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data_dir_argument(parser)
    parser.add_argument("session", help="session id or a unique prefix of one")


def tree_lines(info: SessionInfo, infos: dict[str, SessionInfo], depth: int = 0) -> list[str]:
    """``info`` and its descendants, one indented line each."""
    from agentlog.context.session import session_line

    lines = ["  " * depth + session_line(info)]
    if depth < MAX_TREE_DEPTH:
        for child in info.children:
            lines += tree_lines(infos[child], infos, depth + 1)
    return lines


def run(args: argparse.Namespace) -> int:
    from agentlog.context.session import blocks_for_session
    from agentlog.store import iter_records
    from agentlog.work.summary import resolve_session, summarize_sessions

    records = list(iter_records(resolve_dir(args)))
    infos = summarize_sessions(records)
    try:
        info = resolve_session(infos, args.session)
    except LookupError as exc:
        print(f"agentlog show: {exc}", file=sys.stderr)
        return 1
    blocks = blocks_for_session(info.id, records)
    start = info.start_record or {}
    print("\n".join(blocks["session"]))
    print(f"records={info.records} cwd={start.get('cwd', '-')} argv={start.get('argv', '-')}")
    print("tree:")
    print("\n".join(tree_lines(info, infos, 1)))
    for name in ("git", "decisions", "tools", "tokens", "perf"):
        if blocks[name]:
            print(f"{name}:")
            print("\n".join(f"  {line}" for line in blocks[name]))
    return 0
