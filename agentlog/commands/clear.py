"""``agentlog clear``: delete recorded data."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import data_dir_argument, resolve_dir

HELP = "Delete everything AgentLog recorded in the data dir."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data_dir_argument(parser)


KNOWN_NAMES = ("errors.log", "errors.log.1", "snapshots")


def _ours(name: str) -> bool:
    return name in KNOWN_NAMES or (name.startswith("records") and name.endswith(".jsonl"))


def run(args: argparse.Namespace) -> int:
    import shutil

    data_dir = resolve_dir(args)
    if not data_dir.exists():
        print(f"Nothing to clear: {data_dir} does not exist.")
        return 0
    strangers = [p.name for p in data_dir.iterdir() if not _ours(p.name)]
    if strangers:
        print(f"agentlog: error: {data_dir} holds files AgentLog did not write "
              f"({', '.join(sorted(strangers)[:3])}); not deleting it", file=sys.stderr)
        return 1
    shutil.rmtree(data_dir)
    print(f"Cleared {data_dir}.")
    return 0
