"""Run a Python command under AgentLog and report its exit code, output tail and new failures.

Used by the MCP server's ``run_and_capture`` tool. What it checks is the form of the
command (this interpreter with a script, ``-m module``, ``-c CODE`` or ``pytest``),
not what the code does: ``-c "import os; os.system(...)"`` runs a shell command, so
``--allow-run`` grants arbitrary code execution with the server's permissions. There
is no sandbox. Bounded in time and output: the command runs in its own process
group, killed after ``timeout_s``, when it exits (what it left running), and when
the server exits (atexit; on Linux the command also dies with the server however
the server ends). Its output is read through a pipe, keeping only the first
``OUTPUT_HEAD_BYTES`` and the last ``OUTPUT_TAIL_BYTES``, redacted, and saying
how many bytes between were not shown: nothing is written to disk.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from agentlog.context.builder import load
from agentlog.context.formats import render
from agentlog.context.tokencount import count_tokens
from agentlog.core.redact import redact_text
from agentlog.work.tools import HeadTail

MAX_TIMEOUT_S = 600
OUTPUT_HEAD_BYTES = 4 * 1024  # the first lines (what the run was doing) ...
OUTPUT_TAIL_BYTES = 16 * 1024  # ... and the last; never more than these in memory, nothing on disk
EXIT_GRACE_S = 1.0  # output read after the run exits, while something it started holds the pipe
PR_SET_PDEATHSIG = 1
_atexit_registered = False
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


class _Output(HeadTail):
    """What a run printed, bounded: the first ``OUTPUT_HEAD_BYTES``, the last ``OUTPUT_TAIL_BYTES``
    (plus a margin, so a secret crossing the cut is redacted whole) and how many bytes went between."""

    def __init__(self) -> None:
        super().__init__(OUTPUT_HEAD_BYTES, OUTPUT_TAIL_BYTES)

    def text(self, max_tokens: int) -> tuple[str, int]:
        """Head and tail, redacted then cut to whole lines within ``max_tokens`` (a quarter for
        the head); and how many bytes of the output are not shown."""
        if self.total == len(self.head) + len(self.tail):  # nothing dropped yet: one text
            lines = redact_text((self.head + self.tail).decode("utf-8", errors="replace")).splitlines()
            if count_tokens("\n".join(lines)) <= max_tokens:
                return "\n".join(lines), 0
            head_lines = _fit(lines[: len(lines) // 2], max_tokens // 4, from_end=False)
            tail_lines = _fit(lines[len(head_lines) :], max_tokens - max_tokens // 4, from_end=True)
        else:
            head = redact_text(self.head.decode("utf-8", errors="replace"))[:OUTPUT_HEAD_BYTES]
            tail = redact_text(self.tail.decode("utf-8", errors="replace"))[-OUTPUT_TAIL_BYTES:]
            head_lines = _fit(head.splitlines()[:-1], max_tokens // 4, from_end=False)  # whole lines only
            tail_lines = _fit(tail.splitlines()[1:], max_tokens - max_tokens // 4, from_end=True)
        shown = sum(len(line.encode()) + 1 for line in head_lines + tail_lines)
        dropped = max(1, self.total - shown)
        return "\n".join([*head_lines, f"[... {dropped} bytes of output not shown ...]", *tail_lines]), dropped


def _fit(lines: list[str], max_tokens: int, from_end: bool) -> list[str]:
    """As many whole lines as fit ``max_tokens``: the last ones (``from_end``) or the first."""
    while lines and count_tokens("\n".join(lines)) > max_tokens:
        cut = max(1, len(lines) // 8)
        lines = lines[cut:] if from_end else lines[:-cut]
    return lines


_running: set[int] = set()  # process groups of runs in progress, killed if the server exits first


def _kill_running() -> None:
    for pgid in list(_running):
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)


def _die_with_parent() -> Callable[[], None] | None:
    """For the child (Linux): SIGKILL when the server dies, however it dies (not just at its atexit).
    Looked up here: the child, between fork and exec, only calls it."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGKILL) and None


def _collect(proc: subprocess.Popen[bytes], deadline: float) -> tuple[_Output, bool]:
    """Read the run's output until it ends (and its pipe closes, or ``EXIT_GRACE_S`` after its
    exit: a daemon it left may hold the pipe); kill its group at ``deadline``. (output, timed out)."""
    import selectors

    out, timed_out, exited_at = _Output(), False, None
    fd = proc.stdout.fileno()  # type: ignore[union-attr]
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > EXIT_GRACE_S:
                break
            if now >= deadline:
                timed_out = exited_at is None
                break
            if selector.select(min(0.2, deadline - now)):
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                out.add(chunk)
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)  # what is left of the group: the program's children too
    proc.wait()
    return out, timed_out


def run_and_capture(command: str, project_dir: Path, data_dir: Path, timeout_s: float = 120,
                    max_tokens: int = 2000) -> str:
    """Run ``command`` under AgentLog in ``project_dir``; its exit code, output head and tail and
    the context of the failures it recorded, within ``max_tokens``."""
    if not 1 <= timeout_s <= MAX_TIMEOUT_S:
        raise RunError(f"timeout_s must be between 1 and {MAX_TIMEOUT_S}, got {timeout_s}")
    argv = python_argv(command)
    before = {f.get("id") for f in load(data_dir)[0]}
    env = {**os.environ, "AGENTLOG_DIR": str(data_dir)}
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_kill_running)
        _atexit_registered = True
    proc = subprocess.Popen([sys.executable, "-m", "agentlog", *argv], cwd=project_dir, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True,
                            preexec_fn=_die_with_parent())
    _running.add(proc.pid)
    try:
        with proc.stdout:  # type: ignore[union-attr]
            output, timed_out = _collect(proc, time.monotonic() + timeout_s)
    finally:
        _running.discard(proc.pid)
    rc = None if timed_out else proc.returncode
    tail, dropped = output.text(max_tokens // OUTPUT_SHARE)
    failures, records = load(data_dir)
    new = [f for f in failures if f.get("id") not in before]
    status = f"exit code {rc}" if rc is not None else f"killed after the {timeout_s:g} s timeout"
    size = f"{output.total} bytes, {dropped} not shown" if dropped else f"{output.total} bytes"
    head = [f"$ python -m agentlog {shlex.join(argv)}", f"{status}; {len(new)} new failure(s) recorded",
            f"output (stdout and stderr, {size}):", tail or "(no output)"]
    text = "\n".join(head) + "\n"
    if new:
        budget = max_tokens - count_tokens(text) - 10
        text += "\ncontext of the failure(s) it recorded:\n" + (render(new, records, "text", budget, data_dir)
                                                              if budget > 20 else "(no budget left)\n")
    return text
