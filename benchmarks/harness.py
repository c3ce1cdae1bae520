"""What the benchmark scripts share: isolated children, which agentlog they run, the load, tables.

Children start with ``-P`` (neither the script's folder nor the working directory goes
first on ``sys.path``), in a working directory outside the checkout, with no ``PYTHON*``
or ``AGENTLOG*`` variables inherited: run from the repository root, a child would
otherwise import ``./agentlog`` (the source tree, no compiled extension) instead of the
installed package. Each script checks which package and engine its children really ran
and stops with one line on stderr when that is not what its table would claim.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ISOLATED = ("-P",)
PROBE_TIMEOUT_S = 60

_ORIGIN_PROBE = """
import json, agentlog
try:
    from agentlog import _tracer
    missing = ""
except ImportError as exc:
    missing = str(exc)
print(json.dumps({"file": agentlog.__file__, "version": agentlog.__version__, "c_missing": missing}))
"""


class BenchError(Exception):
    """The benchmark cannot measure what its table would say: one line on stderr, exit 1."""


def child_env(extra: dict[str, str] | None = None, pythonpath: str | None = None) -> dict[str, str]:
    """This environment without ``AGENTLOG*`` and ``PYTHON*`` variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLOG", "PYTHON"))}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return {**env, **(extra or {})}


def python(*args: str) -> list[str]:
    """The command line of an isolated child of this interpreter."""
    return [sys.executable, *ISOLATED, *args]


def probe(code: str, pythonpath: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -P -c code`` in a clean environment, outside the checkout."""
    return subprocess.run(python("-c", code), env=child_env(pythonpath=pythonpath), cwd=tempfile.gettempdir(),
                          capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)  # fmt: skip


def agentlog_origin(pythonpath: str | None = None) -> tuple[Path, str]:
    """(package folder, version) of the agentlog an isolated child imports, with its C engine.

    Raises BenchError when the child cannot import agentlog or its C extension.
    """
    proc = probe(_ORIGIN_PROBE, pythonpath)
    where = f"PYTHONPATH={pythonpath}" if pythonpath else sys.executable
    if proc.returncode:
        why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"{where} cannot import agentlog ({why}); `./run bench` installs it into .venv")
    info = json.loads(proc.stdout)
    package = Path(info["file"]).resolve().parent
    if pythonpath and package.parent != Path(pythonpath).resolve():
        raise BenchError(f"{pythonpath} holds no agentlog package (a child imported {package})")
    if info["c_missing"]:
        fix = f"build it with `python setup.py build_ext --inplace` in {pythonpath}" if pythonpath else "reinstall it"
        raise BenchError(f"agentlog from {package} has no C engine ({info['c_missing']}); {fix}")
    return package, info["version"]


def check_package(mode: str, reported: str | None, expected: Path) -> None:
    """BenchError unless the child of ``mode`` imported agentlog from ``expected``."""
    if reported is not None and Path(reported).resolve().parent != expected:
        raise BenchError(f"{mode}: the child imported agentlog from {Path(reported).parent}, not {expected}")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count, as one phrase."""
    try:
        loads = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        loads = "unavailable"
    return f"{loads} (1/5/15 min, {os.cpu_count()} CPUs)"


def machine() -> str:
    """Python version and platform."""
    return f"Python {sys.version.split()[0]} ({sys.platform})"


def median_min(values: Sequence[float], digits: int = 2, unit: str = "x") -> str:
    """``median<unit> (min)`` of ``values``: ``2.31x (2.17)``."""
    return f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False) -> list[str]:
    """Rows as an aligned text table, or as a Markdown table."""
    if markdown:
        return [f"| {' | '.join(r)} |" for r in (header, ["---"] * len(header), *rows)]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def run(main: Callable[[list[str] | None], int], name: str) -> int:
    """``main()``, turning a BenchError into one line on stderr and exit status 1."""
    try:
        return main(None)
    except BenchError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
