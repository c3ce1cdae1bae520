"""``agentlog snapshot [PATH]``: hash the workspace and store the snapshot."""

from __future__ import annotations

import argparse
import sys

HELP = "Snapshot a directory's files (xxh3 hashes; .gitignore respected) for `agentlog diff`."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="directory to snapshot (default .)")
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="PATTERN", help="extra gitignore-style pattern"
    )


def _error(message: str) -> int:
    print(f"agentlog snapshot: error: {message}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    from agentlog.context.session import fmt_bytes, fmt_dur
    from agentlog.work.workspace import snapshot_workspace

    try:
        snap = snapshot_workspace(args.path, ignore=args.ignore)
    except FileNotFoundError:
        return _error(f"{args.path} does not exist")
    except NotADirectoryError:
        return _error(f"{args.path} is not a directory")
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return _error(f"cannot snapshot{where}: {exc.strerror or exc}")
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
