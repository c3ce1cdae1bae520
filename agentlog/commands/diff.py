"""``agentlog diff [A] [B]``: files added, removed and modified between two snapshots."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import resolve_dir

HELP = "Compare two snapshots (id, unique prefix, latest, latest~N; default latest~1 latest)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", nargs="?", default="latest~1", help="older snapshot (default latest~1)")
    parser.add_argument("b", nargs="?", default="latest", help="newer snapshot (default latest)")


def run(args: argparse.Namespace) -> int:
    from agentlog.work.workspace import compare_snapshots, load_snapshot, snapshot_ids

    data_dir = resolve_dir(args)
    stored = len(snapshot_ids(data_dir))
    if stored < 2:
        print(
            f"agentlog diff: error: need two snapshots to compare ({stored} stored); run `agentlog snapshot` first",
            file=sys.stderr,
        )
        return 1
    try:
        a, b = load_snapshot(args.a, data_dir), load_snapshot(args.b, data_dir)
    except (LookupError, OSError, ValueError, KeyError) as exc:
        print(f"agentlog diff: error: {exc}", file=sys.stderr)
        return 1
    if a.root != b.root:
        print(f"agentlog diff: warning: the snapshots are of different roots: {a.root} and {b.root}", file=sys.stderr)
    change = compare_snapshots(a, b)
    counts = " ".join(f"{key}={len(paths)}" for key, paths in change.items())
    print(f"diff {a.id} -> {b.id}: {counts}")
    for key, mark in (("added", "A"), ("removed", "D"), ("modified", "M")):
        for path in change[key]:
            print(f"{mark} {path}")
    return 0
