"""``agentlog diff [A] [B]``: files added, removed and modified between two snapshots."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import data_dir_argument, resolve_dir

HELP = "Compare two snapshots (id, unique prefix, latest, latest~N; default latest~1 latest)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data_dir_argument(parser)
    parser.add_argument("a", nargs="?", default="latest~1", help="older snapshot (default latest~1)")
    parser.add_argument("b", nargs="?", default="latest", help="newer snapshot (default latest)")


def run(args: argparse.Namespace) -> int:
    from agentlog.workspace import compare_snapshots, load_snapshot

    try:
        a, b = load_snapshot(args.a, resolve_dir(args)), load_snapshot(args.b, resolve_dir(args))
    except LookupError as exc:
        print(f"agentlog diff: {exc}", file=sys.stderr)
        return 1
    change = compare_snapshots(a, b)
    counts = " ".join(f"{key}={len(paths)}" for key, paths in change.items())
    print(f"diff {a.id} -> {b.id}: {counts}")
    for key, mark in (("added", "A"), ("removed", "D"), ("modified", "M")):
        for path in change[key]:
            print(f"{mark} {path}")
    return 0
