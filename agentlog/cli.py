"""The ``agentlog`` command: a launcher (``agentlog [options] script.py``) plus subcommands.

``agentlog run ...`` is an explicit spelling of the launcher. Each subcommand
lives in ``agentlog/commands/<name>.py`` (listed in ``commands/registry.py``) and exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``.
They are imported only when invoked, so ``agentlog script.py`` stays cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from agentlog.commands.registry import COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``agentlog`` and ``python -m agentlog``."""
    from_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    leading, rest = _leading_dir(argv)
    if rest and rest[0] in COMMANDS:
        if from_process:
            _not_recorded()
        # ``agentlog --dir D sessions`` means ``agentlog sessions --dir D``.
        return run_subcommand(rest[0], [*leading, *rest[1:]])
    # Anything else is the launcher: agentlog [run] [options] script.py|-m module [args]
    from agentlog.commands.run import launch

    # Only the process's own command line can be re-run in a fresh interpreter.
    return launch(argv[1:] if argv[:1] == ["run"] else argv, entry=from_process)


def _not_recorded() -> None:
    """A subcommand process (a hook, the MCP server, a reader) started with ``AGENTLOG=true`` in its
    environment (an agent sets it for every command) is AgentLog's own: it records no session."""
    activate = sys.modules.get("agentlog.runtime.activate")
    if activate is not None:
        activate.uninstall()


def _leading_dir(argv: list[str]) -> tuple[list[str], list[str]]:
    """(``--dir D`` options before the first other word, the rest)."""
    i = 0
    while i < len(argv):
        if argv[i] == "--dir" and i + 1 < len(argv):
            i += 2
        elif argv[i].startswith("--dir="):
            i += 1
        else:
            break
    return argv[:i], argv[i:]


def run_subcommand(name: str, argv: list[str]) -> int:
    import argparse
    import importlib

    from agentlog.commands import data_dir_argument

    module = importlib.import_module(COMMANDS[name])
    # Every subcommand takes --dir, before or after its name ("resolve": a module that
    # declares --dir itself replaces this one rather than failing).
    parser = argparse.ArgumentParser(prog=f"agentlog {name}", description=module.HELP, conflict_handler="resolve")
    data_dir_argument(parser)
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    _use_dir(args.dir)
    _tolerate_narrow_stdout()
    if not getattr(module, "RAW_OUTPUT", False):
        sys.stdout, sys.stderr = _Escaping(sys.stdout), _Escaping(sys.stderr)
    try:
        return int(module.run(args) or 0)
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:  # an unusable data dir or file: one line, never a traceback
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"agentlog {name}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        # A record that is valid JSON with the right envelope but nonsense inside (hand-edited,
        # another version): one line here, the traceback in errors.log.
        from agentlog.core import selflog

        selflog.report(f"agentlog {name}", exc)
        print(f"agentlog {name}: error: a record in the data dir is malformed ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        return 1


def _use_dir(path: str | None) -> None:
    """``--dir`` for everything this command does, commands it runs (``exec``) included."""
    if path:
        import os
        from pathlib import Path

        from agentlog.core.config import set_config

        os.environ["AGENTLOG_DIR"] = str(Path(path).absolute())
        set_config(None)


def _quiet_broken_pipe() -> int:
    """The reader went away (``agentlog sessions | head``): exit as a shell tool killed by SIGPIPE, silently.

    stdout is pointed at /dev/null so the interpreter's final flush does not fail too.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 128 + 13  # SIGPIPE


class _Escaping:
    """A text stream whose writes show control and bidi characters as escapes (``core/textsafe.py``):
    the one path every command's output, record text included, takes to the terminal."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from agentlog.core.textsafe import escape_controls

        return self._stream.write(escape_controls(text))  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _tolerate_narrow_stdout() -> None:
    """Non-ASCII in records must not crash output to an ASCII (or other narrow) terminal."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
