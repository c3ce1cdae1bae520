"""``agentlog pull SHARE_ID``: import a session a teammate shared through Cloudflare D1 into the local store."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import resolve_dir

HELP = "Import a session shared with `agentlog share` from Cloudflare D1 into the local data dir (no duplicates)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("share_id", help="the id `agentlog share` printed")


def run(args: argparse.Namespace) -> int:
    from agentlog.commands.sync import client
    from agentlog.core.config import get_config, set_config
    from agentlog.integrations.d1 import pull_share
    from agentlog.integrations.d1_client import D1Error

    data_dir = resolve_dir(args)
    set_config(get_config()._replace(dir=str(data_dir)))
    try:
        sid, added, present, bad = pull_share(args.share_id, client())
    except D1Error as exc:
        print(f"agentlog pull: {exc}", file=sys.stderr)
        return 1
    print(f"session {sid}: imported {added} records, {present} already here"
          + (f", {bad} unreadable skipped" if bad else ""))
    return 0
