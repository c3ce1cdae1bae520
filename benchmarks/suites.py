"""Real test suites under AgentLog: each pinned project's own pytest suite, plain and in calls mode.

    python benchmarks/suites.py            # 3 interleaved repetitions per project
    python benchmarks/suites.py --quick    # 1 repetition
    python benchmarks/suites.py --only toolz semver --reps 5

The projects are the pinned sdists of ``realprojects/projects.toml`` (fetched and cached by
``realprojects.py``, hash-checked), unpacked unchanged (no injected bug). Each repetition runs
``python -m pytest -q -p no:cacheprovider`` and ``python -m agentlog -m pytest ...`` (calls
mode, the C engine) in the project's folder, in a rotated order; the time is the child's CPU
time (user + system: waiting for a core is not counted). The results must be identical: the
same pytest summary counts (passed, failed, skipped, ...) and exit status, or the run stops.
One untimed plain run first compiles the project's ``.pyc`` files.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness, realprojects
import harness
import realprojects

TARGET = 1.10  # docs/DESIGN.md: real test suites (pytest, calls mode) <= 1.10x plain
TIMEOUT_S = 900
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|warnings?|deselected)")
MODES = ("plain", "agentlog")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(CPU seconds, wall seconds, process) of one child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall, proc


def _outcome(proc: subprocess.CompletedProcess[str]) -> tuple[int, tuple[tuple[str, int], ...]]:
    """Exit status and the summary line's counts (the timing left out)."""
    lines = [line for line in proc.stdout.splitlines() if SUMMARY.search(line)]
    counts = tuple(sorted((kind, int(n)) for n, kind in SUMMARY.findall(lines[-1]))) if lines else ()
    return proc.returncode, counts


def measure(project: realprojects.Project, reps: int, work: Path) -> dict[str, object]:
    """Times per mode and the outcome both modes agreed on; BenchError if they differ."""
    root = realprojects.unpack(realprojects.fetch(project), work / project.name)
    data_dir = work / f"{project.name}-data"
    pytest = ["-m", "pytest", "-q", "-p", "no:cacheprovider", *project.pytest_args]
    env = harness.child_env()
    env["AGENTLOG_DIR"] = str(data_dir)
    times: dict[str, list[float]] = {m: [] for m in MODES}
    walls: dict[str, list[float]] = {m: [] for m in MODES}
    outcomes = set()
    _run(pytest, root, env)  # warm-up, not timed: compiles the project's and the tests' .pyc files
    for rep in range(reps):
        for mode in MODES[rep % 2 :] + MODES[: rep % 2]:
            args = pytest if mode == "plain" else ["-m", "agentlog", *pytest]
            cpu, wall, proc = _run(args, root, env)
            outcome = _outcome(proc)
            if not outcome[1]:
                raise harness.BenchError(f"{project.name} ({mode}): no pytest summary: "
                                         f"{(proc.stdout + proc.stderr).strip().splitlines()[-1:]}")  # fmt: skip
            outcomes.add(outcome)
            times[mode].append(cpu)
            walls[mode].append(wall)
        if len(outcomes) > 1:
            raise harness.BenchError(f"{project.name}: results differ under AgentLog: {sorted(outcomes)}")
    return {"times": times, "walls": walls, "outcome": outcomes.pop()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one repetition")
    parser.add_argument("--reps", type=int, help="repetitions (default 3, quick 1)")
    parser.add_argument("--only", nargs="+", metavar="PROJECT", help="these projects only")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.quick else 3)
    projects = realprojects.load_projects()
    names = args.only or list(projects)
    unknown = sorted(set(names) - set(projects))
    if unknown:
        parser.error(f"unknown projects {unknown}; pinned: {', '.join(projects)}")
    load_start = harness.load_average()
    rows, verdicts = [], []
    with tempfile.TemporaryDirectory(prefix="agentlog-suites-") as tmp:
        for name in names:
            result = measure(projects[name], reps, Path(tmp))
            times, walls = result["times"], result["walls"]
            ratios = [a / p for a, p in zip(times["agentlog"], times["plain"], strict=True)]
            wall_ratios = [a / p for a, p in zip(walls["agentlog"], walls["plain"], strict=True)]
            status, counts = result["outcome"]
            rows.append([
                f"{name} {projects[name].version}", ", ".join(f"{n} {k}" for k, n in counts) + f" (exit {status})",
                harness.median_min([t * 1000 for t in times["plain"]], 0, ""),
                harness.median_min([t * 1000 for t in times["agentlog"]], 0, ""),
                harness.median_min(ratios), harness.median_min(wall_ratios),
            ])  # fmt: skip
            median = sorted(ratios)[len(ratios) // 2]
            verdicts.append(f"  {name}: {median:.2f}x ({min(ratios):.2f}), "
                            + ("met" if median <= TARGET else "met at the min only" if min(ratios) <= TARGET
                               else "not met"))  # fmt: skip
    print(f"Real test suites: {harness.machine()}, {reps} interleaved repetitions; cells median (min)")
    print(f"load average at start: {load_start}")
    header = ["project", "results (identical in both modes)", "plain CPU ms", "agentlog CPU ms", "x plain (CPU)",
              "x plain (wall)"]  # fmt: skip
    print("\n".join(harness.table(header, rows, args.markdown)))
    print(f"load average at end: {harness.load_average()}")
    print(f"target: calls mode <= {TARGET:.2f}x plain, median (min):")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(harness.run(main, "suites.py"))
