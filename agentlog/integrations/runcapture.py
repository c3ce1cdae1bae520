"""Run a Python command under AgentLog and report its exit code, output tail and new failures.

Used by the MCP server's ``run_and_capture`` tool. What it checks is the form of the
command (this interpreter with a script, ``-m module``, ``-c CODE`` or ``pytest``),
not what the code does: ``-c "import os; os.system(...)"`` runs a shell command, so
``--allow-run`` grants arbitrary code execution with the server's permissions. There
is no sandbox. Bounded in time and output: the command is killed
(its whole process group) after ``timeout_s``; its output goes to a temporary
file of which only the last ``OUTPUT_TAIL_BYTES`` are read back, redacted.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from agentlog.context.builder import load
from agentlog.context.formats import render
from agentlog.context.tokencount import count_tokens
from agentlog.core.redact import REDACT_SLACK_CHARS, redact_text

MAX_TIMEOUT_S = 600
OUTPUT_TAIL_BYTES = 16 * 1024
OUTPUT_SHARE = 4  # the output tail gets at most 1/4 of the token budget
_PYTHON_RE = re.compile(r"^python(\d+(\.\d+)?)?$")


class RunError(ValueError):
    """The command cannot be run: not a Python command, bad bounds."""


def python_argv(command: str) -> list[str]:
    """``command`` as arguments for ``python -m agentlog``: ``script.py args``, ``-m module args``,
    ``-c code`` or ``pytest args``, optionally spelt with a leading ``python``."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise RunError(f"cannot parse the command: {exc}") from None
    if argv and _PYTHON_RE.match(Path(argv[0]).name):
        argv = argv[1:]
    if argv[:2] == ["-m", "agentlog"]:
        argv = argv[2:]
    if argv[:1] == ["pytest"]:
        argv = ["-m", "pytest", *argv[1:]]
    if not argv or not ((argv[0] in ("-m", "-c") and len(argv) > 1) or argv[0].endswith(".py")):
        raise RunError("run_and_capture runs this Python with 'script.py ARGS', '-m module ARGS', "
                       f"'-c CODE' or 'pytest ARGS' (got {command!r})")
    return argv


def _tail(path: Path, max_tokens: int) -> tuple[str, bool]:
    """The end of the output file, redacted, within ``max_tokens``; and whether it was cut."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        # Redact first, then cut: read a margin before the tail so a secret crossing its start is whole.
        fh.seek(max(0, size - OUTPUT_TAIL_BYTES - REDACT_SLACK_CHARS))
        text = redact_text(fh.read().decode("utf-8", errors="replace"))
    if size > OUTPUT_TAIL_BYTES:
        text = text[-OUTPUT_TAIL_BYTES:]
    lines = text.splitlines()
    cut = size > OUTPUT_TAIL_BYTES
    while lines and count_tokens("\n".join(lines)) > max_tokens:
        lines = lines[max(1, len(lines) // 8):]
        cut = True
    return "\n".join(lines), cut


def run_and_capture(command: str, project_dir: Path, data_dir: Path, timeout_s: float = 120,
                    max_tokens: int = 2000) -> str:
    """Run ``command`` under AgentLog in ``project_dir``; its exit code, output tail and the
    context of the failures it recorded, within ``max_tokens``."""
    if not 1 <= timeout_s <= MAX_TIMEOUT_S:
        raise RunError(f"timeout_s must be between 1 and {MAX_TIMEOUT_S}, got {timeout_s}")
    argv = python_argv(command)
    before = {f.get("id") for f in load(data_dir)[0]}
    env = {**os.environ, "AGENTLOG_DIR": str(data_dir)}
    with tempfile.TemporaryDirectory(prefix="agentlog-run-") as tmp:
        out_path = Path(tmp) / "output"
        with out_path.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "agentlog", *argv], cwd=project_dir, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                rc: int | None = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                rc = None
        tail, cut = _tail(out_path, max_tokens // OUTPUT_SHARE)
    failures, records = load(data_dir)
    new = [f for f in failures if f.get("id") not in before]
    status = f"exit code {rc}" if rc is not None else f"killed after the {timeout_s:g} s timeout"
    head = [f"$ python -m agentlog {shlex.join(argv)}", f"{status}; {len(new)} new failure(s) recorded",
            f"output ({'last lines, ' if cut else ''}stdout and stderr):", tail or "(no output)"]
    text = "\n".join(head) + "\n"
    if new:
        budget = max_tokens - count_tokens(text) - 10
        text += "\ncontext of the failure(s) it recorded:\n" + (render(new, records, "text", budget, data_dir)
                                                              if budget > 20 else "(no budget left)\n")
    return text
