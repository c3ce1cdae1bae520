"""``agentlog sync [SESSION|--all]``: push sessions' redacted records to Cloudflare D1."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from agentlog.commands import resolve_dir

if TYPE_CHECKING:
    from agentlog.integrations.d1_client import D1Client

HELP = ("Push a session's redacted records (default: the newest session; --all: every one) to Cloudflare D1 "
        "(CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN, AGENTLOG_D1_DATABASE_ID). Safe to re-run.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", nargs="?", help="session id or unique prefix (default: the newest session)")
    parser.add_argument("--all", action="store_true", help="every session in the data dir")


def report_retry(reason: str, wait: float) -> None:
    print(f"agentlog: D1: {reason}; retrying in {wait:.1f} s", file=sys.stderr)


def client() -> D1Client:
    """A D1 client from the settings, reporting retries on stderr; D1Error if settings are missing."""
    from agentlog.integrations.d1_client import D1Client, load_settings

    return D1Client(load_settings(), on_retry=report_retry)


def sessions_to_sync(args: argparse.Namespace) -> list[str]:
    from agentlog.store import iter_records
    from agentlog.work.summary import summarize_sessions

    infos = summarize_sessions(iter_records(resolve_dir(args)))
    if args.all:
        return list(infos)
    if args.session:
        return [args.session]
    if not infos:
        raise LookupError("no sessions recorded")
    return [max(infos.values(), key=lambda info: info.last).id]


def run(args: argparse.Namespace) -> int:
    from agentlog.integrations.d1 import sync_session_to_d1
    from agentlog.integrations.d1_client import D1Error

    if args.all and args.session:
        print("agentlog sync: give a SESSION or --all, not both", file=sys.stderr)
        return 2
    try:
        d1 = client()
        for session in sessions_to_sync(args):
            result = sync_session_to_d1(session, resolve_dir(args), d1)
            print(f"{result.sid}: sent {result.sent} records, {result.present} already there"
                  + (f", {result.skipped} too large for D1 skipped" if result.skipped else "")
                  + f" ({result.requests} requests)")
    except (D1Error, LookupError) as exc:
        print(f"agentlog sync: {exc}", file=sys.stderr)
        return 1
    return 0
