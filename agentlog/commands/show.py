"""``agentlog show SESSION``: one session in detail, with its tree of child sessions."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import resolve_dir
from agentlog.work.summary import SessionInfo

HELP = "Show one session (id or unique id prefix): details, child sessions, decisions, tools, tokens, perf."
MAX_TREE_DEPTH = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    from agentlog.context.session import blocks_for_session, lineage
    from agentlog.store import iter_records
    from agentlog.store.records import FAILURE
    from agentlog.work.summary import resolve_session, summarize_sessions

    # Two streaming passes, as `sessions` does: summaries of all sessions, then only the
    # records of this session and its ancestors (not their failures), never the whole store.
    data_dir = resolve_dir(args)
    infos = summarize_sessions(iter_records(data_dir))
    try:
        info = resolve_session(infos, args.session)
    except LookupError as exc:
        print(f"agentlog show: {exc}", file=sys.stderr)
        return 1
    own = set(lineage(info.id, infos))
    records = [r for r in iter_records(data_dir, warn=False) if r.get("sid") in own and r["k"] != FAILURE]
    blocks = blocks_for_session(info.id, records, infos=infos)
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
