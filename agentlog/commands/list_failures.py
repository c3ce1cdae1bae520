"""``agentlog list``: recent failures, one line each, newest first."""

from __future__ import annotations

import argparse

from agentlog.commands import positive_int, resolve_dir

HELP = "List recent failures, one line each, newest first."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=positive_int, default=20, help="how many (default 20)")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.builder import load
    from agentlog.context.failures import failure_line

    failures, _ = load(resolve_dir(args))
    if not failures:
        print("No failures recorded.")
    for failure in list(reversed(failures))[: args.limit]:
        print(failure_line(failure))
    return 0
