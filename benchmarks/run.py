"""AgentLog overhead benchmarks: tracing modes side by side, as ratios to an untraced run.

    python benchmarks/run.py            # full run (a few minutes)
    python benchmarks/run.py --quick    # smaller workloads, fewer repetitions

Every measurement is a fresh interpreter (``--child``) that sets up one mode,
warms the workload up, and times one run of it. Repetitions are interleaved
across modes so drift hits all modes alike; ratios are paired per repetition
(mode time / untraced time of the same repetition) and reported as median with
min-max spread. Standard library only; VizTracer is used if installed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODES = (
    "none", "crash", "empty-c", "calls-c-before", "calls-c-noargs", "calls-c", "calls-py", "viztracer", "setprofile"
)
BEFORE_ENV = "AGENTLOG_BENCH_BEFORE"  # set by --before: where calls-c-before imports agentlog from
MODE_TITLES = {
    "none": "untraced",
    "calls-c-before": "calls (C), before",
    "crash": "crash-only",
    "empty-c": "empty C pair",
    "calls-c-noargs": "calls (C), no args",
    "calls-c": "calls (C)",
    "calls-py": "calls (Python)",
    "viztracer": "VizTracer",
    "setprofile": "empty setprofile",
}
# Compared with the empty C callback pair (PY_START + PY_RETURN doing nothing): CPython's own
# cost of monitoring a call, measured in the same run.
FLOOR_MODE = "empty-c"
TRAIL_MODES = ("calls-c-before", "calls-c-noargs", "calls-c")
ARGS_FLOOR_TARGET = {"call-heavy": 1.40}  # calls (C) with arguments / empty C pair
ARGS_UNTRACED_TARGET = {"mixed": 1.10, "realistic": 1.10}
WORKLOADS = ("call-heavy", "mixed", "exception-heavy", "realistic")
TARGETS = {"call-heavy": 3.0, "mixed": 1.25, "exception-heavy": 1.6}
CRASH_TARGET = 1.02
NS_PER_EVENT_TARGET = 30.0
IMPORT_TARGET_MS = 5.0
WARMUP_FRACTION = 0.05


# ---- child side ---------------------------------------------------------------


def _setup(mode: str, data_dir: str) -> Any:
    """Install the mode; returns what teardown needs."""
    if mode == "crash":
        from agentlog.core.config import Config

        try:
            from agentlog.runtime.activate import install
        except ImportError:  # crash hooks not available: a chained excepthook stands in
            previous = sys.excepthook
            sys.excepthook = lambda *exc: previous(*exc)
            return None
        install(Config(trace="crash", dir=data_dir))
        return None
    if mode == "empty-c":
        from agentlog import _tracer  # type: ignore[attr-defined]

        monitoring = sys.monitoring
        monitoring.use_tool_id(3, "bench-empty")
        events = monitoring.events.PY_START | monitoring.events.PY_RETURN
        for event in (monitoring.events.PY_START, monitoring.events.PY_RETURN):
            monitoring.register_callback(3, event, _tracer.empty_callback())
        monitoring.set_events(3, events)
        return None
    if mode in ("calls-c", "calls-c-noargs", "calls-c-before", "calls-py"):
        os.environ["AGENTLOG_ENGINE"] = "python" if mode == "calls-py" else "c"
        from agentlog.core.config import Config
        from agentlog.runtime import tracer

        options = {} if mode == "calls-c-before" else {"trail_args": mode != "calls-c-noargs"}
        tracer.start(Config(dir=data_dir, **options))
        if not tracer.status()["running"]:
            raise SystemExit(f"tracer did not start: {tracer.status()}")
        return tracer
    if mode == "viztracer":
        from viztracer import VizTracer

        viz = VizTracer(verbose=0)
        viz.start()
        return viz
    if mode == "setprofile":
        sys.setprofile(lambda frame, event, arg: None)
    return None


def _events(handle: Any) -> tuple[int, int]:
    """(ring entries written, user calls) so far; (0, 0) for modes without a trail."""
    if not hasattr(handle, "status"):
        return 0, 0
    calls = sum(row["n"] for row in handle.profile_fields(top=1 << 30).get("fns", []))
    return handle.status()["events"], calls


def child(mode: str, workload: str, scale: float, data_dir: str) -> dict[str, Any]:
    """Time one run of ``workload`` under ``mode`` in this (fresh) process."""
    sys.path.insert(0, str(HERE))
    import workloads

    fn = workloads.WORKLOADS[workload]
    handle = _setup(mode, data_dir)
    fn(scale * WARMUP_FRACTION)
    before = _events(handle)
    wall, start = time.perf_counter(), time.process_time()
    fn(scale)
    # CPU time of this process: on a shared machine, time spent waiting for a core is not ours.
    elapsed, wall = time.process_time() - start, time.perf_counter() - wall
    after = _events(handle)
    events, calls = after[0] - before[0], after[1] - before[1]
    if mode == "setprofile":
        sys.setprofile(None)
    elif mode == "viztracer":
        handle.stop()
    return {"s": elapsed, "wall": wall, "events": events, "calls": calls}


# ---- parent side --------------------------------------------------------------


def _available_modes(requested: list[str]) -> tuple[list[str], dict[str, str]]:
    skipped = {}
    modes = []
    for mode in requested:
        probe = {"viztracer": "viztracer"}.get(mode, "agentlog._tracer" if "-c" in mode else None)
        if probe:
            check = subprocess.run(
                [sys.executable, "-c", f"import {probe}"], env=_env(mode), capture_output=True, text=True, cwd=HERE
            )
            if check.returncode:
                skipped[mode] = check.stderr.strip().splitlines()[-1] if check.stderr else "import failed"
                continue
        modes.append(mode)
    return modes, skipped


def _package_root() -> str:
    """Where children import agentlog from: the installed package if there is one, else this checkout."""
    try:
        import agentlog
    except ImportError:
        return str(REPO)
    return str(Path(agentlog.__file__).resolve().parent.parent)


def _env(mode: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG")}
    root = os.environ.get(BEFORE_ENV, "") if mode == "calls-c-before" else _package_root()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    return env


def _run_child(mode: str, workload: str, scale: float, data_dir: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, workload, str(scale), data_dir]
    proc = subprocess.run(cmd, env=_env(mode), capture_output=True, text=True, timeout=900)
    if proc.returncode:
        raise RuntimeError(f"{mode}/{workload} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# A bare interpreter: this script's own imports (json, subprocess, ...) would hide
# the cost of whatever agentlog imports first.
IMPORT_PROBE = "import time; t = time.perf_counter(); import agentlog; print(time.perf_counter() - t)"


def _import_seconds() -> float:
    """``import agentlog`` in a fresh interpreter with AGENTLOG unset."""
    proc = subprocess.run([sys.executable, "-c", IMPORT_PROBE], env=_env(), capture_output=True, text=True, timeout=60)
    if proc.returncode:
        raise RuntimeError(f"import agentlog failed:\n{proc.stderr}")
    return float(proc.stdout)


def _ratio_text(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def measure(modes: list[str], workloads: list[str], reps: int, scale: float) -> dict[str, Any]:
    """{workload: {mode: [{"s":..., "events":...} per repetition]}}, interleaved."""
    results: dict[str, dict[str, list[dict[str, Any]]]] = {w: {m: [] for m in modes} for w in workloads}
    with tempfile.TemporaryDirectory(prefix="agentlog-bench-") as data_dir:
        for rep in range(reps):
            for workload in workloads:
                for mode in modes:
                    results[workload][mode].append(_run_child(mode, workload, scale, data_dir))
            print(f"  repetition {rep + 1}/{reps} done", file=sys.stderr)
    return results


def report(results: dict[str, Any], modes: list[str], import_ms: list[float]) -> list[str]:
    """The result table as text lines."""
    lines = []
    header = ["workload", "untraced"] + [MODE_TITLES[m] for m in modes if m != "none"]
    rows = [header]
    per_event: dict[str, list[str]] = {}
    for workload, by_mode in results.items():
        base = [r["s"] for r in by_mode["none"]]
        row = [workload, f"{statistics.median(base) * 1000:.1f} ms"]
        for mode in modes:
            if mode == "none":
                continue
            times = [r["s"] for r in by_mode[mode]]
            row.append(_ratio_text([t / b for t, b in zip(times, base, strict=True)]))
            events = statistics.median(r["events"] for r in by_mode[mode])
            if events:
                extra = statistics.median(times) - statistics.median(base)
                per_event.setdefault(mode, []).append(f"{workload} {extra / events * 1e9:.1f} ns")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    for mode, texts in per_event.items():
        lines.append(f"ns per recorded event, {MODE_TITLES[mode]}: " + ", ".join(texts))
    lines += _trail_lines(results, modes)
    if import_ms:
        lines.append(
            f"import agentlog (AGENTLOG unset): {statistics.median(import_ms):.2f} ms median "
            f"({min(import_ms):.2f}-{max(import_ms):.2f}), target < {IMPORT_TARGET_MS} ms"
        )
    targets = ", ".join(f"{w} <= {t}x" for w, t in TARGETS.items())
    lines.append(
        f"targets (3.13): calls {targets}; <= {NS_PER_EVENT_TARGET:.0f} ns/event; crash-only <= {CRASH_TARGET}x"
    )
    return lines


def _trail_lines(results: dict[str, Any], modes: list[str]) -> list[str]:
    """Today's trail and the trail with arguments, side by side: ns per call and ratios to the floor."""
    lines = []
    trail_modes = [m for m in TRAIL_MODES if m in modes]
    for workload, by_mode in results.items():
        base = [r["s"] for r in by_mode["none"]]
        calls = max((statistics.median(r["calls"] for r in by_mode[m]) for m in trail_modes), default=0)
        if not trail_modes or not calls:
            continue
        parts = []
        for mode in [*trail_modes, *([FLOOR_MODE] if FLOOR_MODE in modes else [])]:
            times = [r["s"] for r in by_mode[mode]]
            ns = (statistics.median(times) - statistics.median(base)) / calls * 1e9
            untraced = _ratio_text([t / b for t, b in zip(times, base, strict=True)])
            text = f"{MODE_TITLES[mode]} {ns:.1f} ns/call, {untraced}"
            if FLOOR_MODE in modes and mode != FLOOR_MODE:
                floor = [r["s"] for r in by_mode[FLOOR_MODE]]
                text += f", {_ratio_text([t / f for t, f in zip(times, floor, strict=True)])} of the empty C pair"
            parts.append(text)
        lines.append(f"{workload} ({calls:.0f} calls): " + "; ".join(parts))
    if lines:
        floor = ", ".join(f"{w} <= {t}x the empty C pair" for w, t in ARGS_FLOOR_TARGET.items())
        untraced = ", ".join(f"{w} <= {t}x untraced" for w, t in ARGS_UNTRACED_TARGET.items())
        lines.insert(0, "call trail, today (no args) vs with arguments; ratio median (min-max), paired per repetition:")
        lines.append(f"targets with arguments: {floor}; {untraced}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller workloads, 3 repetitions")
    parser.add_argument("--reps", type=int, help="repetitions per mode (default 5, quick 3)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument(
        "--before", metavar="DIR", help="run mode calls-c-before with agentlog imported from DIR (another build)"
    )
    parser.add_argument("--child", nargs=4, metavar=("MODE", "WORKLOAD", "SCALE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, workload, scale, data_dir = args.child
        print(json.dumps(child(mode, workload, float(scale), data_dir)))
        return 0
    reps = args.reps or (3 if args.quick else 5)
    requested = [m for m in MODES if m in args.modes and (m != "calls-c-before" or args.before)]
    if args.before:
        os.environ[BEFORE_ENV] = str(Path(args.before).resolve())
        requested = [m for m in MODES if m in requested or m == "calls-c-before"]
    scale = 0.4 if args.quick else 1.0
    modes, skipped = _available_modes(["none", *[m for m in requested if m != "none"]])
    print(f"Python {sys.version.split()[0]}, {reps} repetitions, scale {scale}", file=sys.stderr)
    results = measure(modes, args.workloads, reps, scale)
    import_ms = [_import_seconds() * 1000 for _ in range(max(reps, 5))]
    print(
        f"AgentLog overhead, Python {sys.version.split()[0]} ({sys.platform}), {reps} runs each, "
        "ratio to untraced: median (min-max)"
    )
    print("\n".join(report(results, modes, import_ms)))
    for mode, why in skipped.items():
        print(f"skipped {MODE_TITLES[mode]}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
