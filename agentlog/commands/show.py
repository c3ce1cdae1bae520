"""``agentlog show SESSION``: one session in detail, with its tree of child sessions."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import data_dir_argument, resolve_dir

HELP = "Show one session (id or unique id prefix): details, child sessions, decisions, tools, tokens, perf."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data_dir_argument(parser)
    parser.add_argument("session", help="session id or a unique prefix of one")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.session import session_detail_lines
    from agentlog.store import iter_records
    from agentlog.work.summary import resolve_session, summarize_sessions

    records = list(iter_records(resolve_dir(args)))
    infos = summarize_sessions(records)
    try:
        info = resolve_session(infos, args.session)
    except LookupError as exc:
        print(f"agentlog show: {exc}", file=sys.stderr)
        return 1
    print("\n".join(session_detail_lines(info, infos, records)))
    return 0
