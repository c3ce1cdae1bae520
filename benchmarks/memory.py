"""Resident memory with many threads: plain Python, crash mode and calls mode.

    python benchmarks/memory.py                 # 1, 50 and 200 threads, 57,000 calls per busy thread
    python benchmarks/memory.py --quick         # 10,000 calls per busy thread

Each cell is a fresh interpreter that starts N threads, idle (they wait) or busy
(each makes ``--calls`` calls of a small user function), then measures RSS
**during** (every thread alive, its work done) and **after** (threads joined and
the main thread recording again), relative to the RSS before the threads
started. AgentLog is switched on in the child with ``agentlog.install`` (crash
or calls mode, default options: ring_size 65536, ring_budget 64 MiB); a calls-mode
child that did not get the C engine stops the run. One run per cell: RSS growth
does not move with the machine's load the way times do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # harness; children run with -P, which leaves this folder out
import harness  # noqa: E402

MODES = ("plain", "crash", "calls")
THREADS = (1, 50, 200)
MIB = 1024 * 1024


def rss_bytes() -> int:
    """This process's resident set size."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss


def work(n: int) -> int:
    total = 0
    for i in range(n):
        total += step(i)
    return total


def step(i: int) -> int:
    return i & 7


def child(mode: str, threads: int, busy: bool, calls: int, data_dir: str) -> dict[str, float]:
    """RSS growth (MiB) during and after ``threads`` threads, in this fresh process."""
    if mode != "plain":
        from agentlog.core.config import Config
        from agentlog.runtime import tracer
        from agentlog.runtime.activate import install

        if not install(Config(trace=mode, dir=data_dir)):
            raise SystemExit(f"{mode}: agentlog.install failed")
        if mode == "calls" and tracer.status()["engine"] != "c":
            raise SystemExit(f"calls: the C engine did not start: {tracer.status()['reason']}")
    work(100)  # the main thread records first, as a program's would
    base = rss_bytes()
    done = threading.Barrier(threads + 1)
    release = threading.Event()

    def run() -> None:
        if busy:
            work(calls)
        done.wait()
        release.wait()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    done.wait()
    during = rss_bytes()
    release.set()
    for t in pool:
        t.join()
    time.sleep(0.05)  # thread exit hooks run just after join() returns
    work(100)  # the next recording thread frees exited threads' rings
    after = rss_bytes()
    package = sys.modules.get("agentlog")
    return {"during": (during - base) / MIB, "after": (after - base) / MIB, "base": base / MIB,
            "agentlog": package.__file__ if package else None}  # fmt: skip


def _run_child(mode: str, threads: int, busy: bool, calls: int, data_dir: str, package: Path) -> dict[str, float]:
    cmd = harness.python(str(HERE / "memory.py"), "--child", mode, str(threads), str(int(busy)), str(calls), data_dir)
    proc = subprocess.run(cmd, env=harness.child_env(), cwd=data_dir, capture_output=True, text=True, timeout=1800)
    if proc.returncode:
        why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise harness.BenchError(f"{mode}, {threads} {'busy' if busy else 'idle'} threads: {why}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    harness.check_package(mode, result["agentlog"], package)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=57_000, help="calls per busy thread (default 57,000)")
    parser.add_argument("--quick", action="store_true", help="10,000 calls per busy thread")
    parser.add_argument("--threads", type=int, nargs="+", default=list(THREADS))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, threads, busy, calls, data_dir = args.child
        print(json.dumps(child(mode, int(threads), busy == "1", int(calls), data_dir)))
        return 0
    calls = 10_000 if args.quick else args.calls
    package, version = harness.agentlog_origin()
    load_start = harness.load_average()
    rows = []
    with tempfile.TemporaryDirectory(prefix="agentlog-memory-") as data_dir:
        for threads in args.threads:
            for busy in (False, True):
                row = [str(threads), "busy" if busy else "idle"]
                for mode in MODES:
                    result = _run_child(mode, threads, busy, calls, data_dir, package)
                    row += [f"{result['during']:.1f}", f"{result['after']:.1f}"]
                rows.append(row)
    print(f"AgentLog memory: {harness.machine()}, agentlog {version} from {package}")
    print(f"RSS growth in MiB over the process before its threads started, one run per cell; "
          f"busy threads make {calls:,} calls each")  # fmt: skip
    print(f"load average at start: {load_start}")
    header = ["threads", "work", *(f"{mode} {when}" for mode in MODES for when in ("during", "after"))]
    print("\n".join(harness.table(header, rows, args.markdown)))
    print(f"load average at end: {harness.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(harness.run(main, "memory.py"))
