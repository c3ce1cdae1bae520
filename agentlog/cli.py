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
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        return run_subcommand(argv[0], argv[1:])
    # Anything else is the launcher: agentlog [run] [options] script.py|-m module [args]
    from agentlog.commands.run import launch

    return launch(argv[1:] if argv[:1] == ["run"] else argv)


def run_subcommand(name: str, argv: list[str]) -> int:
    import argparse
    import importlib

    module = importlib.import_module(COMMANDS[name])
    parser = argparse.ArgumentParser(prog=f"agentlog {name}", description=module.HELP)
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    _tolerate_narrow_stdout()
    try:
        return int(module.run(args) or 0)
    except OSError as exc:  # an unusable data dir or file: one line, never a traceback
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"agentlog {name}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        # A record that is valid JSON with the right envelope but nonsense inside (hand-edited,
        # another version): one line here, the traceback in errors.log.
        from agentlog.core import selflog

        selflog.report(f"agentlog {name}", exc)
        print(f"agentlog {name}: error: a record in the data dir is malformed ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        return 1


def _tolerate_narrow_stdout() -> None:
    """Non-ASCII in records must not crash output to an ASCII (or other narrow) terminal."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
