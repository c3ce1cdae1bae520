"""AgentLog's own failures: written to ``<data dir>/errors.log``, never raised.

Everything AgentLog runs inside a user's process calls :func:`report` from an
``except`` block, so a bug here costs the user a line in errors.log, not their
program.
"""

from __future__ import annotations

import os
import sys
import time

from agentlog.core import private

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MAX_ERRORS_LOG_BYTES = 1024 * 1024
_warned: set[str] = set()
# Where and how loudly to report, pushed by core/config.py whenever the process
# configuration is set (this module is below config and never imports it). Before
# that, the data dir comes from the environment alone. Paths are strings: pathlib
# costs an activated process milliseconds (tests/test_import_cost.py).
_data_dir: str | None = None
_quiet = False
_verbose = False


def configure(data_dir: str | os.PathLike[str], quiet: bool, verbose: bool) -> None:
    """Point errors.log at ``data_dir``; called by core/config.py."""
    global _data_dir, _quiet, _verbose
    _data_dir, _quiet, _verbose = os.fspath(data_dir), quiet, verbose


def _log_dir() -> str:
    return _data_dir or os.path.abspath(os.environ.get("AGENTLOG_DIR") or ".agentlog")


def _ignore(_message: str) -> None:
    """errors.log cannot report on itself."""


def report(where: str, exc: BaseException | None = None) -> None:
    """Append one internal error to errors.log; silently give up if that fails too."""
    try:
        import traceback

        path = os.path.join(_log_dir(), "errors.log")
        detail = "".join(traceback.format_exception(exc)) if exc is not None else ""
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} pid={os.getpid()} {where}\n{detail}"
        if os.path.exists(path) and os.lstat(path).st_size > MAX_ERRORS_LOG_BYTES:
            os.replace(path, path + ".1")
        # Never through a symlink, only a regular file of ours, tightened to 0600 (quietly: we are the log).
        fd = private.open_file(path, private.APPEND, _ignore)
        try:
            os.write(fd, line.encode("utf-8", "replace")[:16384])
        finally:
            os.close(fd)
    except Exception:  # noqa: BLE001 - the error log itself must never raise
        pass


def quiet_at_exit(function: Callable[..., None]) -> Callable[..., None]:
    """For an atexit callback of AgentLog's: whatever it raises (an import that fails at shutdown,
    no file descriptor left) goes to errors.log, never as a traceback into the program's stderr."""

    def at_exit(*args: object) -> None:
        try:
            function(*args)
        except Exception as exc:  # noqa: BLE001 - the program's exit is not ours to disturb
            report(f"at exit: {function.__qualname__}", exc)

    at_exit.__qualname__ = at_exit.__name__ = function.__name__
    at_exit.__doc__ = function.__doc__
    return at_exit


def warn_once(slug: str, message: str, loud: bool = False) -> None:
    """Note a degraded condition once per slug and process (docs/WARNINGS.md lists slugs).

    Always written to errors.log. Printed as one stderr line only if ``loud``
    (the user must act: nothing is being recorded) or ``--verbose``; never
    with ``--quiet``. Agents compare program output, so the default is silence.
    """
    if slug in _warned:
        return
    _warned.add(slug)
    try:
        report(f"warning [{slug}]: {message}")
        if _quiet or not (loud or _verbose):
            return
        sys.stderr.write(f"agentlog: warning [{slug}]: {message}\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001
        pass
