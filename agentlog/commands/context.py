"""``agentlog context``: the newest failure and its surroundings, within a token budget."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import positive_int, resolve_dir

HELP = "Print context for the newest failure (then older ones) within a token budget."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-tokens", type=positive_int, default=4000, metavar="N",
                        help="token budget (default 4000)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.builder import get_debug_context

    sys.stdout.write(get_debug_context(args.max_tokens, args.format, resolve_dir(args)))
    if args.format == "json":
        sys.stdout.write("\n")
    return 0
