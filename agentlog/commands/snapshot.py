"""``agentlog snapshot [PATH]``: hash the workspace and store the snapshot."""

from __future__ import annotations

import argparse

HELP = "Snapshot a directory's files (xxh3 hashes; .gitignore respected) for `agentlog diff`."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="directory to snapshot (default .)")
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="PATTERN", help="extra gitignore-style pattern"
    )


def run(args: argparse.Namespace) -> int:
    from agentlog.session_context import fmt_bytes, fmt_dur
    from agentlog.workspace import snapshot_workspace

    snap = snapshot_workspace(args.path, ignore=args.ignore)
    s = snap.stats
    line = (
        f"snapshot {snap.id} root={snap.root} files={s['n']} bytes={fmt_bytes(s['bytes'])} "
        f"hashed={s['hashed']} dur={fmt_dur(s['dur'])}"
    )
    if "prev" in s:
        line += f" vs {s['prev']}: added={s['added']} removed={s['removed']} modified={s['modified']}"
    if "trunc" in s:
        line += f" truncated_at={s['trunc']}"
    print(line)
    return 0
