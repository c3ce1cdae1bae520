"""``agentlog repro``: write a pytest test that reproduces a recorded failure in one call."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentlog.commands import resolve_dir

HELP = "Write a failing pytest test from a recorded failure (one call of the innermost replayable function)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("failure_id", help="failure id (or unique prefix), as `agentlog list` shows")
    parser.add_argument("-o", "--output", help="test file to write (default test_repro_<id>.py)")
    parser.add_argument("--no-verify", action="store_true",
                        help="do not run the test before keeping it (it may then not fail)")


def run(args: argparse.Namespace) -> int:
    from agentlog.context.builder import load
    from agentlog.history.repro import ReproError, failure_id, write_repro

    failures, _ = load(resolve_dir(args))
    matches = [f for f in failures if str(f.get("id", "")).startswith(args.failure_id)]
    if len(matches) != 1:
        problem = "no failure" if not matches else f"{len(matches)} failures"
        print(f"agentlog repro: error: {problem} with id {args.failure_id!r}", file=sys.stderr)
        return 1
    failure = matches[0]
    try:
        out = Path(args.output or f"test_repro_{failure_id(failure)}.py")
        if out.exists():
            print(f"agentlog repro: error: {out} exists; choose another with -o", file=sys.stderr)
            return 1
        path, function = write_repro(failure, out, verify=not args.no_verify)
    except ReproError as exc:
        from agentlog.core.textsafe import escape_controls

        # one line, whatever the record's names held
        print(f"agentlog repro: cannot write a test: {escape_controls(str(exc), keep='')}", file=sys.stderr)
        return 1
    print(f"wrote {path}: calls {function}, fails with {failure['exc']['t']} until the bug is fixed")
    return 0
