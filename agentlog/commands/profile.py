"""``agentlog profile``: the per-function profile written at the end of a traced run."""

from __future__ import annotations

import argparse
import time
from typing import Any

from agentlog.commands import positive_int, resolve_dir

HELP = "Show the newest run's profile (calls, total and self time per user function)."
PROFILE = "profile"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=positive_int, default=20, help="functions to show (default 20)")
    parser.add_argument("--compare", action="store_true", help="add the previous run's self time and the ratio")


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f}"


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return row.get("file", ""), row.get("f", "")


def profile_lines(newest: dict[str, Any], previous: dict[str, Any] | None, limit: int) -> list[str]:
    """A fixed-width table of the newest profile, optionally against an older one."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(newest.get("ts", 0)))
    lines = [f"profile of pid {newest.get('pid')} at {when} ({newest.get('engine')} engine)"]
    header = f"{'calls':>9} {'total ms':>10} {'self ms':>10}"
    before = {_key(row): row for row in previous.get("fns", [])} if previous else {}
    if previous is not None:
        header += f" {'prev self':>10} {'ratio':>6}"
    lines.append(f"{header}  function")
    for row in newest.get("fns", [])[:limit]:
        text = f"{row['n']:>9} {_ms(row['tot']):>10} {_ms(row['self']):>10}"
        if previous is not None:
            old = before.get(_key(row))
            if old is None:
                text += f" {'-':>10} {'new':>6}"
            else:
                ratio = row["self"] / old["self"] if old["self"] else float("inf")
                text += f" {_ms(old['self']):>10} {ratio:>5.2f}x"
        lines.append(f"{text}  {row['f']} ({row.get('file', '?')}:{row.get('ln', '?')})")
    more = newest.get("more", 0) + max(0, len(newest.get("fns", [])) - limit)
    if more:
        lines.append(f"... {more} more functions")
    return lines


def run(args: argparse.Namespace) -> int:
    from agentlog.store import iter_records

    profiles = list(iter_records(resolve_dir(args), kinds=[PROFILE]))
    if not profiles:
        print("No profile recorded (run with AGENTLOG_TRACE=calls).")
        return 0
    previous = profiles[-2] if args.compare and len(profiles) > 1 else None
    if args.compare and previous is None:
        print("Only one profile recorded: nothing to compare with.")
    print("\n".join(profile_lines(profiles[-1], previous, args.limit)))
    return 0
