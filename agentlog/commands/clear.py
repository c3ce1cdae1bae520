"""``agentlog clear``: delete recorded data, and nothing else."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from agentlog.commands import resolve_dir

HELP = "Delete everything AgentLog recorded in the data dir (refuses if it holds anything else)."

# Exactly the names AgentLog writes (store/writer.py, selflog.py, workspace.py, history/patterns.py,
# integrations/claude_hook.py).
OWN_FILES = re.compile(r"records\.jsonl|records\.\d{20}-\d+\.jsonl|errors\.log(\.1)?"
                       r"|patterns\.(log|lock|json)|patterns\.json\.\d+\.tmp|\.?hook-claude\.json(\.\d+)?")
OWN_SNAPSHOT_FILES = re.compile(r"[0-9a-f]{14}-[0-9a-f]{4}\.json|last-[0-9a-f]{16}|\..*\.tmp")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # only --dir, which cli.py gives every subcommand


def strangers(data_dir: Path) -> list[str]:
    """Entries of the data dir that AgentLog did not write (by name and kind)."""
    found = []
    for entry in data_dir.iterdir():
        if entry.name == "snapshots" and entry.is_dir() and not entry.is_symlink():
            found += [f"snapshots/{p.name}" for p in entry.iterdir()
                      if not (p.is_file() and OWN_SNAPSHOT_FILES.fullmatch(p.name))]
        elif not (entry.is_file() and not entry.is_symlink() and OWN_FILES.fullmatch(entry.name)):
            found.append(entry.name)
    return sorted(found)


def run(args: argparse.Namespace) -> int:
    import shutil

    data_dir = resolve_dir(args)
    if not data_dir.exists():
        print(f"Nothing to clear: {data_dir} does not exist.")
        return 0
    if data_dir.is_symlink():
        print(f"agentlog clear: error: {data_dir} is a symbolic link; not deleting through it", file=sys.stderr)
        return 1
    foreign = strangers(data_dir)
    if foreign:
        print(f"agentlog clear: error: {data_dir} holds files AgentLog did not write "
              f"({', '.join(foreign[:3])}{', …' if len(foreign) > 3 else ''}); not deleting it", file=sys.stderr)
        return 1
    shutil.rmtree(data_dir)
    print(f"Cleared {data_dir}.")
    return 0
