"""Start-up cost of an activated process: ``AGENTLOG=true python -c ...`` against plain ``python``.

    python benchmarks/startup.py              # 21 interleaved runs per cell
    python benchmarks/startup.py --runs 15 --phases

Every run is a fresh interpreter; runs of plain, crash and calls mode are
interleaved so load drift hits them alike, inside and outside a git repository.
Two times per run: **first line**, from spawning the child to its first line of
program (the child prints ``time.monotonic_ns()``; the clock is system-wide),
and **total**, spawn to exit, which adds what an activated process records at
exit (its session start and end records, git state included). Cells show min
and median in ms; ``+`` columns are median minus plain's median. The ``.pth``
hook's cost with AGENTLOG unset is timed in process. ``--phases`` adds the
activation path's slowest imports (``-X importtime``). Needs the installed
package (its ``.pth`` hook): run it through ``./run bench startup``.
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

MODES = {"plain": {}, "crash": {"AGENTLOG": "true", "AGENTLOG_TRACE": "crash"},
         "calls": {"AGENTLOG": "true", "AGENTLOG_TRACE": "calls"}}  # fmt: skip
PROGRAM = "import time; print(time.monotonic_ns())"
TARGETS_MS = {"crash": 5.0, "calls": 8.0}
PTH_TARGET_MS = 0.1


def _pth_line() -> str | None:
    path = Path(sysconfig.get_paths()["purelib"]) / "agentlog-activate.pth"
    return path.read_text(encoding="utf-8") if path.exists() else None


def _env(data_dir: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLOG", "PYTHON"))}
    return {**env, "AGENTLOG_DIR": data_dir, **extra}


def _one(cwd: str, env: dict[str, str]) -> tuple[float, float]:
    """(ms to the program's first line, ms to exit) of one fresh interpreter."""
    start = time.monotonic_ns()
    proc = subprocess.run([sys.executable, "-c", PROGRAM], cwd=cwd, env=env, capture_output=True, text=True)
    end = time.monotonic_ns()
    if proc.returncode:
        raise RuntimeError(f"child failed:\n{proc.stderr}")
    return (int(proc.stdout) - start) / 1e6, (end - start) / 1e6


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


def measure(places: dict[str, Path], runs: int) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """{place: {mode: [(first line ms, total ms) per run]}}, modes interleaved within each run."""
    results: dict[str, dict[str, list[tuple[float, float]]]] = {p: {m: [] for m in MODES} for p in places}
    for n in range(runs + 1):
        for place, cwd in places.items():
            for mode, extra in MODES.items():
                data_dir = tempfile.mkdtemp(prefix="agentlog-startup-")  # a fresh store: no rotation work
                timing = _one(str(cwd), _env(data_dir, extra))
                shutil.rmtree(data_dir, ignore_errors=True)
                if n:  # the first round warms the page cache and .pyc files
                    results[place][mode].append(timing)
    return results


def _cell(values: list[float]) -> str:
    return f"{min(values):6.1f} {statistics.median(values):6.1f}"


def report(results: dict[str, dict[str, list[tuple[float, float]]]]) -> list[str]:
    lines = ["place        mode    first line (min med)  +med    total (min med)  +med",
             "-----------  ------  --------------------  ------  ---------------  ------"]  # fmt: skip
    for place, by_mode in results.items():
        plain_first = statistics.median(t[0] for t in by_mode["plain"])
        plain_total = statistics.median(t[1] for t in by_mode["plain"])
        for mode, timings in by_mode.items():
            first, total = [t[0] for t in timings], [t[1] for t in timings]
            extra_first = statistics.median(first) - plain_first
            extra_total = statistics.median(total) - plain_total
            plus = "" if mode == "plain" else f"{extra_first:+6.1f}"
            plus_total = "" if mode == "plain" else f"{extra_total:+6.1f}"
            lines.append(f"{place:11}  {mode:6}  {_cell(first):>20}  {plus:>6}  {_cell(total):>15}  {plus_total:>6}")
    targets = ", ".join(f"{m} +{t:.0f} ms" for m, t in TARGETS_MS.items())
    lines.append(f"targets (first line, over plain): {targets}")
    return lines


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
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], cwd=cwd, env=env,
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
    args = parser.parse_args(argv)
    runs = 15 if args.quick else max(15, args.runs)
    line = _pth_line()
    if line is None:
        print("startup: the agentlog-activate.pth hook is not installed for this Python; "
              "run `./run bench startup`", file=sys.stderr)  # fmt: skip
        return 2
    with tempfile.TemporaryDirectory(prefix="agentlog-startup-") as root:
        places = {"no repo": Path(root)}
        repo = _git_repo(Path(root))
        if repo is not None:
            places["git repo"] = repo
        print(f"Python {sys.version.split()[0]} ({sys.platform}), {runs} runs per cell, interleaved; "
              f"program: python -c {PROGRAM!r}")  # fmt: skip
        print("\n".join(report(measure(places, runs))))
        print(f".pth hook with AGENTLOG unset: {pth_cost_ms(line) * 1000:.2f} us per interpreter "
              f"(target < {PTH_TARGET_MS} ms)")  # fmt: skip
        if args.phases:
            print("\n".join(phases(Path(root))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
