"""Subcommands of ``agentlog``: each module has HELP, add_arguments(parser) and run(args)."""

from __future__ import annotations

import argparse
import errno
from collections.abc import Callable
from pathlib import Path


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def number_above(minimum: float) -> Callable[[str], float]:
    """argparse type: a number greater than ``minimum``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > minimum:
            raise argparse.ArgumentTypeError(f"must be > {minimum:g}, got {text}")
        return value

    return parse


def data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--dir``: read from this data dir instead of ./.agentlog or $AGENTLOG_DIR."""
    parser.add_argument("--dir", default=None, help="data dir (default: the project's .agentlog, or $AGENTLOG_DIR)")


def resolve_dir(args: argparse.Namespace) -> Path:
    """The data dir named by ``--dir`` or the configuration; NotADirectoryError if it is a file."""
    from agentlog.core.config import get_config

    data_dir = Path(args.dir).absolute() if getattr(args, "dir", None) else get_config().data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "the data dir is not a directory", str(data_dir))
    return data_dir
