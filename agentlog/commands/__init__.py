"""Subcommands of ``agentlog``: each module has HELP, add_arguments(parser) and run(args)."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--dir``: read from this data dir instead of ./.agentlog or $AGENTLOG_DIR."""
    parser.add_argument("--dir", default=None, help="data dir (default ./.agentlog or $AGENTLOG_DIR)")


def resolve_dir(args: argparse.Namespace):
    """The data dir named by ``--dir`` or the configuration."""
    from pathlib import Path

    from agentlog.config import get_config

    return Path(args.dir).absolute() if args.dir else get_config().data_dir
