"""``agentlog outcomes``: success rates, failures per session and time to fix, per agent or task."""

from __future__ import annotations

import argparse
import json

from agentlog.commands import resolve_dir

HELP = "Outcome statistics per agent or task: sessions, success rate, failures per session, time to fix."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", choices=("agent", "task"), default="agent", help="group by (default agent)")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")


def run(args: argparse.Namespace) -> int:
    from agentlog.history.outcomes import get_outcome_stats

    stats = get_outcome_stats(by=args.by, data_dir=resolve_dir(args))
    if args.json:
        print(json.dumps(stats, indent=1, ensure_ascii=False))
        return 0
    if not stats:
        print("No sessions recorded.")
    for name, s in stats.items():
        rate = "-" if s["success_rate"] is None else f"{s['success_rate']:.0%}"
        fix = "-" if s["time_to_fix_s"] is None else f"{s['time_to_fix_s']}s"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(s["outcomes"].items()))
        print(f"{name}: {s['sessions']} sessions ({counts}); success {rate}; "
              f"{s['failures_per_session']} failures/session; time to fix {fix}")
    return 0
