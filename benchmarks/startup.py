"""Start-up cost of an activated process: ``AGENTLOG=true python -c ...`` against plain ``python``.

    python benchmarks/startup.py              # 21 interleaved runs per cell
    python benchmarks/startup.py --runs 15 --phases
    python benchmarks/startup.py --quick --compare /path/to/other/venv/bin/python

Every run is a fresh interpreter; runs of plain, crash and calls mode are
interleaved so load drift hits them alike, inside and outside a git repository.
Two times per run: **first line**, from spawning the child to its first line of
program (the child prints ``time.monotonic_ns()``; the clock is system-wide),
and **total**, spawn to exit, which adds what an activated process records at
exit (its session start and end records, git state included). Cells show min
median (min) in ms; ``+ plain`` columns are this mode's median (min) minus plain's
median (min). After its first line each child says whether AgentLog was on and which
engine ran; the run stops if that is not what the mode asked for. The ``.pth`` hook's
cost with AGENTLOG unset is timed in process. ``--phases`` adds the activation path's
slowest imports (``-X importtime``). ``--compare PYTHON`` adds that interpreter's crash
and calls modes (``crash@other``, ``calls@other``) to the same interleaved runs: before
and after a change, with another checkout installed there. Needs the installed package
(its ``.pth`` hook): run it through ``./run bench startup``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness
import harness

MODES = {"plain": {}, "crash": {"AGENTLOG": "true", "AGENTLOG_TRACE": "crash"},
         "calls": {"AGENTLOG": "true", "AGENTLOG_TRACE": "calls"}}  # fmt: skip
PROGRAM = "import time; print(time.monotonic_ns())"
# Printed after the timed first line: (excepthook's module, engine) says what the mode really ran.
CHECK = ("import sys; t = sys.modules.get('agentlog.runtime.tracer'); "
         "print(sys.excepthook.__module__, t.status()['engine'] if t else None)")  # fmt: skip
EXPECTED = {"plain": ("sys", "None"), "crash": ("agentlog.runtime.hooks", "None"),
            "calls": ("agentlog.runtime.hooks", "c")}  # fmt: skip
TARGETS_MS = {"crash": 5.0, "calls": 8.0}
PTH_TARGET_MS = 0.1


def _pth_line() -> str | None:
    path = Path(sysconfig.get_paths()["purelib"]) / "agentlog-activate.pth"
    return path.read_text(encoding="utf-8") if path.exists() else None


def _env(data_dir: str, extra: dict[str, str]) -> dict[str, str]:
    return harness.child_env({"AGENTLOG_DIR": data_dir, **extra})


def _one(mode: str, cwd: str, env: dict[str, str], python: str = sys.executable) -> tuple[float, float]:
    """(ms to the program's first line, ms to exit) of one fresh ``python`` running ``mode``."""
    start = time.monotonic_ns()
    proc = subprocess.run([python, *harness.ISOLATED, "-c", f"{PROGRAM}; {CHECK}"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=harness.PROBE_TIMEOUT_S)  # fmt: skip
    end = time.monotonic_ns()
    lines = proc.stdout.split("\n")
    if proc.returncode or len(lines) < 2:
        raise harness.BenchError(f"{mode} child failed: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
    expected = EXPECTED[mode.partition("@")[0]]
    if tuple(lines[1].split()) != expected:
        raise harness.BenchError(f"{mode} child ran excepthook/engine {lines[1]!r}, expected {expected}")
    return (int(lines[0]) - start) / 1e6, (end - start) / 1e6


def _git_repo(root: Path) -> Path | None:
    if shutil.which("git") is None:
        return None
    repo = root / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip
    (repo / "app.py").write_text("print('hi')\n")
    for args in (["init", "-q"], ["add", "app.py"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo


def cells(other: str | None = None) -> dict[str, tuple[str, dict[str, str]]]:
    """{column: (interpreter, environment)}: this one's modes, and ``other``'s activated ones."""
    found = {mode: (sys.executable, extra) for mode, extra in MODES.items()}
    if other:
        found |= {f"{mode}@other": (other, MODES[mode]) for mode in ("crash", "calls")}
    return found


def measure(
    places: dict[str, Path], runs: int, other: str | None = None
) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """{place: {mode: [(first line ms, total ms) per run]}}, modes interleaved within each run."""
    columns = cells(other)
    results: dict[str, dict[str, list[tuple[float, float]]]] = {p: {m: [] for m in columns} for p in places}
    for n in range(runs + 1):
        for place, cwd in places.items():
            for mode, (python, extra) in columns.items():
                data_dir = tempfile.mkdtemp(prefix="agentlog-startup-")  # a fresh store: no rotation work
                timing = _one(mode, str(cwd), _env(data_dir, extra), python)
                shutil.rmtree(data_dir, ignore_errors=True)
                if n:  # the first round warms the page cache and .pyc files
                    results[place][mode].append(timing)
    return results


HEADER = ["place", "mode", "first line ms", "+ plain", "total ms", "+ plain"]


def _over(values: list[float], plain: list[float]) -> str:
    """median (min) of ``values`` minus those of ``plain``, in ms."""
    median, low = statistics.median(values) - statistics.median(plain), min(values) - min(plain)
    return f"{median:+.1f} ({low:+.1f})"


def rows(results: dict[str, dict[str, list[tuple[float, float]]]]) -> list[list[str]]:
    """One row per place and mode: median (min) ms, and over plain python."""
    out = []
    for place, by_mode in results.items():
        plain_first, plain_total = ([t[i] for t in by_mode["plain"]] for i in (0, 1))
        for mode, timings in by_mode.items():
            first, total = [t[0] for t in timings], [t[1] for t in timings]
            plain = mode == "plain"
            out.append([place, mode, harness.median_min(first, 1, ""), "" if plain else _over(first, plain_first),
                        harness.median_min(total, 1, ""), "" if plain else _over(total, plain_total)])  # fmt: skip
    return out


def pth_cost_ms(line: str, loops: int = 20000) -> float:
    """The ``.pth`` hook with AGENTLOG unset, as ``site`` runs it (``exec`` of its line)."""
    env_value = os.environ.pop("AGENTLOG", None)
    try:
        code = compile(line, "agentlog-activate.pth", "exec")
        start = time.perf_counter()
        for _ in range(loops):
            exec(code, {})
        return (time.perf_counter() - start) / loops * 1000
    finally:
        if env_value is not None:
            os.environ["AGENTLOG"] = env_value


def phases(cwd: Path, top: int = 8) -> list[str]:
    """The slowest imports of the activation path, per mode (``-X importtime``, cumulative us)."""
    lines = []
    for mode in ("crash", "calls"):
        data_dir = tempfile.mkdtemp(prefix="agentlog-startup-")
        env = _env(data_dir, MODES[mode])
        proc = subprocess.run(harness.python("-X", "importtime", "-c", "pass"), cwd=cwd, env=env,
                              capture_output=True, text=True)  # fmt: skip
        shutil.rmtree(data_dir, ignore_errors=True)
        rows = []
        for row in proc.stderr.splitlines():
            parts = row.removeprefix("import time:").split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                rows.append((int(parts[1]), parts[2].rstrip()))
        agentlog_rows = [r for r in rows if r[1].strip().startswith("agentlog")]
        total = max((us for us, name in rows if name.strip() == "agentlog.runtime.autostart"), default=0)
        lines.append(f"{mode}: agentlog.runtime.autostart {total / 1000:.1f} ms cumulative; slowest:")
        lines += [f"  {us / 1000:6.2f} ms {name.strip()}" for us, name in sorted(agentlog_rows, reverse=True)[:top]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21, help="runs per cell (at least 15; default 21)")
    parser.add_argument("--quick", action="store_true", help="15 runs")
    parser.add_argument("--phases", action="store_true", help="also list the slowest activation imports")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    parser.add_argument("--compare", metavar="PYTHON", help="another interpreter with agentlog installed, "
                        "interleaved in the same runs (before/after a change)")  # fmt: skip
    args = parser.parse_args(argv)
    runs = 15 if args.quick else max(15, args.runs)
    package, version = harness.agentlog_origin()
    line = _pth_line()
    if line is None:
        raise harness.BenchError("the agentlog-activate.pth hook is not installed for this Python; "
                                 "run `./run bench startup`")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="agentlog-startup-") as root:
        places = {"no repo": Path(root)}
        repo = _git_repo(Path(root))
        if repo is not None:
            places["git repo"] = repo
        load_start = harness.load_average()
        results = measure(places, runs, args.compare)
        print(f"AgentLog start-up: {harness.machine()}, agentlog {version} from {package}")
        if args.compare:
            print(f"@other: {args.compare}")
        print(f"{runs} interleaved runs per cell of python -P -c {PROGRAM!r}; each cell median (min)")
        print(f"load average at start: {load_start}")
        print("\n".join(harness.table(HEADER, rows(results), args.markdown)))
        print(f"load average at end: {harness.load_average()}")
        print(f".pth hook with AGENTLOG unset: {pth_cost_ms(line) * 1000:.2f} us per interpreter "
              f"(target < {PTH_TARGET_MS} ms)")  # fmt: skip
        targets = ", ".join(f"{m} +{t:.0f} ms" for m, t in TARGETS_MS.items())
        print(f"targets (first line, over plain): {targets}")
        if args.phases:
            print("\n".join(phases(Path(root))))
    return 0


if __name__ == "__main__":
    sys.exit(harness.run(main, "startup.py"))
