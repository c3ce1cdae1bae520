"""``agentlog list``: recent failures, one line each, newest first."""

from __future__ import annotations

import argparse

from agentlog.commands import positive_int, resolve_dir

HELP = ("List recent failures, one line each, newest first (a test's failing cases and the worker "
        "or child failures behind a failure are one line).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=positive_int, default=20, help="how many (default 20)")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.builder import load
    from agentlog.context.failures import list_lines

    failures, _ = load(resolve_dir(args))
    if not failures:
        print("No failures recorded.")
    for line in list_lines(failures, args.limit)[0]:
        print(line)
    return 0
