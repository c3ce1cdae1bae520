"""``agentlog show SESSION``: one session in detail, with its tree of child sessions."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import resolve_dir

HELP = "Show one session (id or unique id prefix): details, child sessions, decisions, tools, tokens, perf."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", help="session id or a unique prefix of one")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.session import lineage, session_detail_lines
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
    print("\n".join(session_detail_lines(info, infos, records)))
    return 0
