"""``agentlog baseline``: show or set the session regressions are measured against."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import resolve_dir

HELP = "Show the baseline session, or set it: agentlog baseline set SESSION."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("show", "set"), default="show", help="show (default) or set")
    parser.add_argument("session", nargs="?", help="with set: session id or unique prefix")


def run(args: argparse.Namespace) -> int:
    from agentlog.history.regression import current_baseline, set_baseline
    from agentlog.store import iter_records

    data_dir = resolve_dir(args)
    if args.action == "set":
        if not args.session:
            print("agentlog baseline: error: set needs a SESSION", file=sys.stderr)
            return 2
        try:
            print(f"baseline: {set_baseline(args.session, data_dir)}")
        except LookupError as exc:
            print(f"agentlog baseline: error: {exc}", file=sys.stderr)
            return 1
        return 0
    sid = current_baseline(list(iter_records(data_dir, kinds=["baseline"], warn=False)))
    print(f"baseline: {sid}" if sid else "No baseline set (agentlog baseline set SESSION).")
    return 0
