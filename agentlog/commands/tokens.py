"""``agentlog tokens``: LLM token totals per model."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import resolve_dir

HELP = "LLM token totals per model (all sessions, or one with --session)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--session", help="session id or unique prefix")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.session import token_table_lines
    from agentlog.store import iter_records
    from agentlog.work.summary import resolve_session, summarize_sessions
    from agentlog.work.tokens import token_summary

    data_dir = resolve_dir(args)
    sid = None
    if args.session is not None:  # streamed, as `sessions` does: never the whole store in memory
        try:
            sid = resolve_session(summarize_sessions(iter_records(data_dir)), args.session).id
        except LookupError as exc:
            print(f"agentlog tokens: {exc}", file=sys.stderr)
            return 1
    summary = token_summary(sid, data_dir)
    if not summary["models"]:
        print("no LLM calls recorded")
        return 0
    print("\n".join(token_table_lines(summary)))
    return 0
