"""``agentlog list``: recent failures, one line each, newest first."""

from __future__ import annotations

import argparse
import time

from agentlog.commands import positive_int, resolve_dir

HELP = "List recent failures, one line each, newest first."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--limit", type=positive_int, default=20, help="how many (default 20)")


def failure_line(failure: dict) -> str:
    exc = failure.get("exc", {})
    frames = [f for f in exc.get("frames", []) if f.get("u")] or exc.get("frames", [])
    where = f"{frames[0]['file']}:{frames[0]['ln']} in {frames[0]['f']}" if frames and "file" in frames[0] else "?"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(failure.get("ts", 0)))
    message = exc.get("m", "").splitlines()[0][:120] if exc.get("m") else ""
    test = f"  test {failure['test']}" if failure.get("test") else ""
    return f"{failure.get('id', '?')}  {when}  {exc.get('t', '?')}: {message}  at {where}{test}"


def run(args: argparse.Namespace) -> int:
    from agentlog.context.builder import load

    failures, _ = load(resolve_dir(args))
    if not failures:
        print("No failures recorded.")
    for failure in list(reversed(failures))[: args.limit]:
        print(failure_line(failure))
    return 0
