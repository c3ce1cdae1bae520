"""``agentlog tokens``: LLM token totals per model."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import data_dir_argument, resolve_dir

HELP = "LLM token totals per model (all sessions, or one with --session)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data_dir_argument(parser)
    parser.add_argument("--session", help="session id or unique prefix")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.session import token_table_lines
    from agentlog.store import iter_records
    from agentlog.work.summary import resolve_session, summarize_sessions
    from agentlog.work.tokens import summarize_tokens

    records = list(iter_records(resolve_dir(args)))
    if args.session:
        try:
            sid = resolve_session(summarize_sessions(records), args.session).id
        except LookupError as exc:
            print(f"agentlog tokens: {exc}", file=sys.stderr)
            return 1
        records = [r for r in records if r.get("sid") == sid]
    summary = summarize_tokens(records)
    if not summary["models"]:
        print("no LLM calls recorded")
        return 0
    print("\n".join(token_table_lines(summary)))
    return 0
