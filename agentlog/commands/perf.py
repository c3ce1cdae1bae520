"""``agentlog perf``: perf markers, oldest first."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import positive_int, resolve_dir

HELP = "List perf markers: time, session, label, duration, rss, cpu, threads, open files."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--session", help="session id or unique prefix")
    parser.add_argument("--limit", type=positive_int, default=50, help="show the newest N markers (default 50)")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.session import fmt_time, perf_line
    from agentlog.store import iter_records
    from agentlog.work.perfmarks import PERF
    from agentlog.work.session import SESSION_START
    from agentlog.work.summary import resolve_session, summarize_sessions

    data_dir = resolve_dir(args)
    markers = list(iter_records(data_dir, kinds=[PERF]))
    if args.session is not None:
        try:
            infos = summarize_sessions(iter_records(data_dir, kinds=[SESSION_START, PERF]))
            sid = resolve_session(infos, args.session).id
        except LookupError as exc:
            print(f"agentlog perf: {exc}", file=sys.stderr)
            return 1
        markers = [r for r in markers if r.get("sid") == sid]
    if not markers:
        print("no perf markers recorded")
        return 0
    for rec in markers[-args.limit :]:
        print(f"{fmt_time(rec.get('ts'))} session={rec.get('sid')} {perf_line(rec)}")
    return 0
