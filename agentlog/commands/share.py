"""``agentlog share SESSION``: sync a session to Cloudflare D1 and print a share id for ``agentlog pull``."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import resolve_dir

HELP = "Sync a session to Cloudflare D1 and print its share id (a teammate runs: agentlog pull SHARE_ID)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", help="session id or a unique prefix of one")


def run(args: argparse.Namespace) -> int:
    from agentlog.commands.sync import client
    from agentlog.integrations.d1 import share_session
    from agentlog.integrations.d1_client import D1Error

    try:
        share, result = share_session(args.session, resolve_dir(args), client())
    except (D1Error, LookupError) as exc:
        print(f"agentlog share: {exc}", file=sys.stderr)
        return 1
    print(f"agentlog share: session {result.sid}: sent {result.sent} records, {result.present} already there",
          file=sys.stderr)
    print(share)
    return 0
