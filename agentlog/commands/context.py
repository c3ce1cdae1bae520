"""``agentlog context``: the newest failure and its surroundings, within a token budget."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import positive_int, resolve_dir

HELP = "Print context for the newest failure (then older ones) within a token budget."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-tokens", type=positive_int, default=4000, metavar="N",
                        help="token budget (default 4000)")
    from agentlog.context.formats import FORMATS

    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="plain text, JSON records, markdown, or the layout Claude, Cursor or Codex reads best")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.formats import get_formatted_context

    sys.stdout.write(get_formatted_context(args.format, args.max_tokens, resolve_dir(args)))
    if args.format == "json":
        sys.stdout.write("\n")
    return 0
