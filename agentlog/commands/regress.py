"""``agentlog regress``: a session against the baseline; exits 1 on a regression (CI gate)."""

from __future__ import annotations

import argparse
import sys

from agentlog.commands import number_above, resolve_dir

HELP = "Compare a session (default: the newest run) with the baseline; markdown report, exit 1 on regression."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agentlog.history.regression import DEFAULT_THRESHOLD

    parser.add_argument("session", nargs="?", help="session id or unique prefix (default: the newest run)")
    parser.add_argument("--baseline", help="compare with this session instead of the tagged baseline")
    parser.add_argument("--threshold", type=number_above(1), default=DEFAULT_THRESHOLD,
                        help=f"slowdown ratio that counts as a regression (default {DEFAULT_THRESHOLD})")


def run(args: argparse.Namespace) -> int:
    from agentlog.history.regression import compare_to_baseline, generate_regression_report

    try:
        comparison = compare_to_baseline(args.session, args.baseline, resolve_dir(args), args.threshold)
    except LookupError as exc:
        print(f"agentlog regress: error: {exc}", file=sys.stderr)
        return 2
    print(generate_regression_report(comparison), end="")
    return 1 if comparison["regression"] else 0
