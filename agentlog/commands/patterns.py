"""``agentlog patterns``: error fingerprints seen, most frequent first."""

from __future__ import annotations

import argparse
import json

from agentlog.commands import positive_int, resolve_dir

HELP = "List error patterns (fingerprints): count, first and last seen, sessions, commits."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the patterns as JSON")
    parser.add_argument("--rebuild", action="store_true", help="recount the index from the failure records first")
    parser.add_argument("-n", "--limit", type=positive_int, default=50, help="how many (default 50)")
    parser.add_argument("query", nargs="?", default="", help="fingerprint prefix or text in type, message, functions")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.failures import pattern_lines
    from agentlog.history.patterns import rebuild_index, search_patterns

    data_dir = resolve_dir(args)
    if args.rebuild and data_dir.is_dir():
        patterns = rebuild_index(data_dir)
        print(f"rebuilt the pattern index: {len(patterns)} patterns", flush=True)
    found = search_patterns(args.query, data_dir, limit=args.limit)
    if args.json:
        print(json.dumps(found, indent=1, ensure_ascii=False))
        return 0
    if not found:
        print("No error patterns recorded.")
    for p in found:
        print("\n".join(pattern_lines(p)))
    return 0
