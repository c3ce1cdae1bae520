"""AgentLog overhead: its tracing modes and its peers side by side, as ratios to an untraced run.

    python benchmarks/run.py            # full run, 5 repetitions (several minutes)
    python benchmarks/run.py --quick    # smaller workloads, 3 repetitions
    python benchmarks/run.py --modes none empty-c calls-c viztracer --workloads call-heavy --reps 9

Every measurement is a fresh, isolated interpreter (``--child``) that sets up one mode,
warms the workload up and times one run of it (CPU time of the child). Repetitions are
interleaved across modes, in a rotated order each time, so drift hits every mode alike;
ratios are paired per repetition (this mode's time / the other mode's time in the same
repetition) and shown as median (min). A child that would not measure what its row says
(the C engine missing, argument capture off, agentlog imported from elsewhere) stops the
run. Run it through ``./run bench``: that installs the package and the pinned peers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # harness, workloads: children run with -P, which leaves this folder out
import harness  # noqa: E402

MODE_TITLES = {
    "none": "untraced",
    "crash": "crash-only",
    "empty-c": "empty C pair",
    "calls-c-before": "calls (C), before",
    "calls-c-noargs": "calls (C), no args",
    "calls-c": "calls (C)",
    "calls-py": "calls (Python)",
    "viztracer": "VizTracer",
    "viztracer-args": "VizTracer, args",
    "cprofile": "cProfile",
    "setprofile": "empty setprofile",
}
MODES = tuple(MODE_TITLES)
TRAIL_MODES = ("calls-c-before", "calls-c-noargs", "calls-c", "calls-py")
ENGINES = {"calls-c-before": "c", "calls-c-noargs": "c", "calls-c": "c", "calls-py": "python"}
FLOOR = "empty-c"  # C callbacks that do nothing on the events the trail takes: CPython's own cost of monitoring
AGENTLOG_MODE = "calls-c"  # the mode every other one is compared with in the "calls (C) / mode" column
WORKLOADS = ("call-heavy", "mixed", "exception-heavy", "realistic", "genexpr")
# (workload, mode, compared with, at most): benchmarks/README.md "Targets".
TARGETS = (
    ("call-heavy", "calls-c", "empty-c", 1.40),
    ("call-heavy", "calls-c", "none", 2.6),
    ("mixed", "calls-c", "none", 1.08),
    ("realistic", "calls-c", "none", 1.08),
    ("genexpr", "calls-c", "none", 1.10),
    ("exception-heavy", "calls-c", "none", 1.35),
    *((workload, "crash", "none", 1.03) for workload in WORKLOADS),
)
IMPORT_TARGET_MS = 5.0
WARMUP_FRACTION = 0.05
CHILD_TIMEOUT_S = 900


# ---- child side ---------------------------------------------------------------


def _start_trail(mode: str, data_dir: str) -> Any:
    """Start AgentLog's call trail with the engine and argument capture ``mode`` names, or exit."""
    import os

    os.environ["AGENTLOG_ENGINE"] = ENGINES[mode]
    from agentlog.core.config import Config
    from agentlog.runtime import tracer

    options = {} if mode == "calls-c-before" else {"trail_args": mode != "calls-c-noargs"}
    tracer.start(Config(dir=data_dir, **options))
    try:  # as AGENTLOG=true's activation does (absent from some --before trees)
        from agentlog.runtime import exitwatch
    except ImportError:
        pass
    else:
        exitwatch.install("calls")
    status = tracer.status()
    if not status["running"] or status["engine"] != ENGINES[mode]:
        raise SystemExit(f"{MODE_TITLES[mode]}: the {ENGINES[mode]} engine did not start: {status['reason']}")
    if mode == "calls-c" and status["args"] != "on":
        raise SystemExit(f"calls (C) would not record arguments: {status['args']}; leave it out with --modes")
    return tracer


def _setup(mode: str, data_dir: str) -> Any:
    """Install the mode; returns what measuring and teardown need."""
    if mode == "crash":
        from agentlog.core.config import Config
        from agentlog.runtime.activate import install

        if not install(Config(trace="crash", dir=data_dir)):
            raise SystemExit("crash-only: agentlog.install failed")
        return None
    if mode == FLOOR:
        from agentlog import _tracer  # type: ignore[attr-defined]
        from agentlog.runtime.tracer_types import GLOBAL_EVENT_NAMES, LOCAL_EVENT_NAMES

        # Every event the trail takes (PY_YIELD and PY_RESUME included), set globally.
        monitoring, events = sys.monitoring, 0
        monitoring.use_tool_id(3, "bench-empty")
        for name in (*GLOBAL_EVENT_NAMES, *LOCAL_EVENT_NAMES):
            monitoring.register_callback(3, getattr(monitoring.events, name), _tracer.empty_callback())
            events |= getattr(monitoring.events, name)
        monitoring.set_events(3, events)
        return None
    if mode in TRAIL_MODES:
        return _start_trail(mode, data_dir)
    if mode in ("viztracer", "viztracer-args"):
        from viztracer import VizTracer

        viz = VizTracer(verbose=0, log_func_args=mode == "viztracer-args")
        viz.start()
        return viz
    if mode == "cprofile":
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
        return profile
    if mode == "setprofile":
        sys.setprofile(lambda frame, event, arg: None)
    return None


def _events(handle: Any) -> tuple[int, int]:
    """(ring entries written, user calls) so far; (0, 0) for modes without a trail."""
    if not hasattr(handle, "profile_fields"):
        return 0, 0
    calls = sum(row["n"] for row in handle.profile_fields(top=1 << 30).get("fns", []))
    return handle.status()["events"], calls


def child(mode: str, workload: str, scale: float, data_dir: str) -> dict[str, Any]:
    """Time one run of ``workload`` under ``mode`` in this (fresh) process."""
    import workloads

    fn = workloads.WORKLOADS[workload]
    handle = _setup(mode, data_dir)
    fn(scale * WARMUP_FRACTION)
    before = _events(handle)
    start = time.process_time()
    fn(scale)
    # CPU time of this process: on a shared machine, time spent waiting for a core is not ours.
    elapsed = time.process_time() - start
    after = _events(handle)
    if mode == "setprofile":
        sys.setprofile(None)
    elif mode == "cprofile":
        handle.disable()
    elif mode.startswith("viztracer"):
        handle.stop()
    package = sys.modules.get("agentlog")
    return {"s": elapsed, "events": after[0] - before[0], "calls": after[1] - before[1],
            "agentlog": package.__file__ if package else None}  # fmt: skip


# ---- parent side --------------------------------------------------------------


def _check_peers(modes: list[str]) -> None:
    """BenchError if a peer a mode needs is not installed."""
    if any(m.startswith("viztracer") for m in modes) and harness.probe("import viztracer").returncode:
        raise harness.BenchError("VizTracer is not installed: `./run bench` installs the bench extra, "
                                 "or leave viztracer and viztracer-args out with --modes")  # fmt: skip


class Runner:
    """Runs the children and checks which agentlog each one imported."""

    def __init__(self, data_dir: str, package: Path, before: Path | None) -> None:
        self.data_dir, self.package, self.before = data_dir, package, before

    def __call__(self, mode: str, workload: str, scale: float) -> dict[str, Any]:
        before = self.before if mode == "calls-c-before" else None
        pythonpath = str(before.parent) if before else None
        cmd = harness.python(str(HERE / "run.py"), "--child", mode, workload, str(scale), self.data_dir)
        proc = subprocess.run(cmd, env=harness.child_env(pythonpath=pythonpath), cwd=self.data_dir,
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)  # fmt: skip
        if proc.returncode:
            why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
            raise harness.BenchError(f"{MODE_TITLES[mode]} on {workload} failed: {why}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        harness.check_package(MODE_TITLES[mode], result["agentlog"], before or self.package)
        return result


def measure(run_child: Runner, modes: list[str], workloads: list[str], reps: int, scale: float) -> dict[str, Any]:
    """{workload: {mode: [child result per repetition]}}, modes interleaved in a rotated order."""
    results: dict[str, dict[str, list[dict[str, Any]]]] = {w: {m: [] for m in modes} for w in workloads}
    for rep in range(reps):
        order = modes[rep % len(modes) :] + modes[: rep % len(modes)]
        for workload in workloads:
            for mode in order:
                results[workload][mode].append(run_child(mode, workload, scale))
        print(f"  repetition {rep + 1}/{reps} done", file=sys.stderr)
    return results


# A bare interpreter: this script's own imports (json, subprocess, ...) would hide
# the cost of whatever agentlog imports first.
IMPORT_PROBE = "import time; t = time.perf_counter(); import agentlog; print(time.perf_counter() - t)"


def import_ms(runs: int) -> list[float]:
    """``import agentlog`` in fresh isolated interpreters with AGENTLOG unset, in ms."""
    times = []
    for _ in range(runs):
        proc = harness.probe(IMPORT_PROBE)
        if proc.returncode:
            raise harness.BenchError(f"import agentlog failed: {proc.stderr.strip()}")
        times.append(float(proc.stdout) * 1000)
    return times


def _paired(by_mode: dict[str, list[dict[str, Any]]], top: str, bottom: str) -> list[float]:
    return [a["s"] / b["s"] for a, b in zip(by_mode[top], by_mode[bottom], strict=True)]


def _ratio(by_mode: dict[str, list[dict[str, Any]]], top: str, bottom: str) -> str:
    """``top``'s time over ``bottom``'s, median (min) over repetitions; blank if either did not run."""
    return harness.median_min(_paired(by_mode, top, bottom)) if top != bottom and {top, bottom} <= set(by_mode) else ""


def _over_untraced_ns(by_mode: dict[str, list[dict[str, Any]]], mode: str, count: float) -> str:
    extra = statistics.median(r["s"] for r in by_mode[mode]) - statistics.median(r["s"] for r in by_mode["none"])
    return f"{extra / count * 1e9:.1f}" if count else ""


HEADER = ["workload", "mode", "CPU ms", "x untraced", "x empty C pair", "calls (C) / mode", "ns/call", "ns/event"]


def rows(results: dict[str, Any], modes: list[str]) -> list[list[str]]:
    """One row per workload and mode; ratios median (min), paired per repetition."""
    out = []
    for workload, by_mode in results.items():
        calls = max((statistics.median(r["calls"] for r in by_mode[m]) for m in modes if m in TRAIL_MODES), default=0)
        # Modes without a trail of their own are counted per event of calls (C)'s trail (same program).
        trail_events = statistics.median(r["events"] for r in by_mode[AGENTLOG_MODE]) if AGENTLOG_MODE in by_mode else 0
        out.append([workload, MODE_TITLES["none"], harness.median_min([r["s"] * 1000 for r in by_mode["none"]], 1, ""),
                    "", "", "", f"{calls:.0f} calls" * bool(calls), ""])  # fmt: skip
        for mode in modes[1:]:
            events = statistics.median(r["events"] for r in by_mode[mode]) or trail_events
            out.append([
                workload, MODE_TITLES[mode], harness.median_min([r["s"] * 1000 for r in by_mode[mode]], 1, ""),
                _ratio(by_mode, mode, "none"), _ratio(by_mode, mode, FLOOR), _ratio(by_mode, AGENTLOG_MODE, mode),
                _over_untraced_ns(by_mode, mode, calls), _over_untraced_ns(by_mode, mode, events),
            ])  # fmt: skip
    return out


def target_lines(results: dict[str, Any], modes: list[str]) -> list[str]:
    """Each target whose modes ran: its limit and whether the median, or only the min, meets it."""
    lines = []
    for workload, mode, reference, limit in TARGETS:
        if workload not in results or mode not in modes or reference not in modes:
            continue
        ratios = _paired(results[workload], mode, reference)
        median, low = statistics.median(ratios), min(ratios)
        verdict = "met" if median <= limit else "met at the min only" if low <= limit else "not met"
        lines.append(f"  {workload}, {MODE_TITLES[mode]} <= {limit:.2f}x {MODE_TITLES[reference]}: "
                     f"{median:.2f}x ({low:.2f}), {verdict}")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="workloads at 0.4 scale, 3 repetitions")
    parser.add_argument("--reps", type=int, help="repetitions per mode (default 5, quick 3)")
    parser.add_argument("--modes", nargs="+", choices=MODES, help="modes to run (default: all but calls-c-before)")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--before", metavar="DIR", help="add calls-c-before: agentlog imported from DIR "
                        "(a checkout with its extension built in place, say main's)")  # fmt: skip
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "WORKLOAD", "SCALE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, workload, scale, data_dir = args.child
        print(json.dumps(child(mode, workload, float(scale), data_dir)))
        return 0
    reps = args.reps or (3 if args.quick else 5)
    if reps < 1:
        parser.error("--reps must be at least 1")
    requested = set(args.modes or [m for m in MODES if m != "calls-c-before"]) | {"none"}
    if args.before:
        requested.add("calls-c-before")
    elif "calls-c-before" in requested:
        parser.error("mode calls-c-before needs --before DIR")
    modes = [m for m in MODES if m in requested]
    scale = 0.4 if args.quick else 1.0
    package, version = harness.agentlog_origin()
    before = harness.agentlog_origin(str(Path(args.before).resolve()))[0] if args.before else None
    _check_peers(modes)
    load_start = harness.load_average()
    print(f"{harness.machine()}, {reps} repetitions, scale {scale}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="agentlog-bench-") as data_dir:
        results = measure(Runner(data_dir, package, before), modes, args.workloads, reps, scale)
    imports = import_ms(max(reps, 5))
    print(f"AgentLog overhead: {harness.machine()}, agentlog {version} from {package}"
          + (f", before from {before}" if before else ""))  # fmt: skip
    print(f"{reps} interleaved repetitions per cell, workloads at scale {scale}; "
          "each cell median (min) over the repetitions")
    print(f"load average at start: {load_start}")
    print("\n".join(harness.table(HEADER, rows(results, modes), args.markdown)))
    print(f"load average at end: {harness.load_average()}")
    print(f"import agentlog (AGENTLOG unset, fresh interpreter): {harness.median_min(imports, unit=' ms')}, "
          f"target < {IMPORT_TARGET_MS:.0f} ms")  # fmt: skip
    targets = target_lines(results, modes)
    if targets:
        print("targets (benchmarks/README.md), median (min):")
        print("\n".join(targets))
    return 0


if __name__ == "__main__":
    sys.exit(harness.run(main, "run.py"))
