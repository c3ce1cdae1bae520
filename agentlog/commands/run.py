"""``agentlog [options] script.py [args]`` / ``agentlog [options] -m module [args]``."""

from __future__ import annotations

import atexit
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentlog.core.config import Config

USAGE = """\
usage: agentlog [options] script.py [args ...]
       agentlog [options] -m module [args ...]
       agentlog [options] -c code [args ...]
       agentlog COMMAND [args ...]

Runs the program exactly as `python` would (same output, exit code and
tracebacks) and records unhandled failures into the data dir.

options:
  --dir DIR          data dir (default: the project's .agentlog, or $AGENTLOG_DIR)
  --trace MODE       off | crash | calls (default: calls, or $AGENTLOG_TRACE)
  --quiet            no notices at all, not even on failure
  --verbose          notices on stderr (where records went)
  --version          print the version (with --verbose: engine details)
  -h, --help         this help

commands:
{commands}
"""


class UsageError(Exception):
    """Bad command line: reported as one line and exit status 2."""


def _commands_help() -> str:
    import importlib

    from agentlog.commands.registry import COMMANDS

    lines = []
    for name, module_name in COMMANDS.items():
        try:
            summary = importlib.import_module(module_name).HELP
        except (ImportError, AttributeError):
            summary = ""
        lines.append(f"  {name:<12} {summary}")
    return "\n".join(lines)


Target = tuple[str, str]  # ("script", path) | ("module", name) | ("code", source)


def parse(argv: list[str]) -> tuple[dict[str, str | bool], Target | None, list[str]]:
    """Split ``argv`` into launcher options, what to run, and the program's args."""
    options: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg in ("-m", "-c"):
            if i + 1 >= len(argv):
                raise UsageError(f"{arg} needs {'a module name' if arg == '-m' else 'code to run'}")
            return options, ("module" if arg == "-m" else "code", argv[i + 1]), argv[i + 2 :]
        if arg in ("--quiet", "--verbose", "--version", "-h", "--help"):
            options[arg.lstrip("-")] = True
        elif arg.split("=", 1)[0] in ("--dir", "--trace"):
            name, _, value = arg.partition("=")
            if not value:
                i += 1
                if i >= len(argv):
                    raise UsageError(f"{name} needs a value")
                value = argv[i]
            options[name.lstrip("-")] = value
        elif arg.startswith("-"):
            raise UsageError(f"unknown option {arg!r} (see agentlog --help)")
        else:
            break
        i += 1
    if i >= len(argv):
        return options, None, []
    return options, ("script", argv[i]), argv[i + 1 :]


def launch(argv: list[str], entry: bool = False) -> int:
    """Parse launcher options, activate AgentLog, run the target; returns the exit code.

    With ``entry`` (``argv`` is this process's command line), the target replaces this
    process in a fresh interpreter when it can (runtime/relaunch.py), so no launcher
    frame is on its stack; otherwise it runs here.
    """
    from agentlog.core.config import ConfigError, check_option, load_config, report_problems, set_config

    problems: list[str] = []  # bad AGENTLOG_* values: warned about, the program still runs
    try:
        options, target, program_args = parse(argv)
        config = load_config(problems=problems)
        if "dir" in options:
            config = config._replace(dir=str(options["dir"]))
        if "trace" in options:
            config = config._replace(trace=check_option("trace", options["trace"]))
        config = config._replace(
            dir=str(config.data_dir),
            quiet=bool(options.get("quiet", config.quiet)),
            verbose=bool(options.get("verbose", config.verbose)),
        )
    except (UsageError, ConfigError) as exc:
        print(f"agentlog: error: {exc}", file=sys.stderr)
        return 2
    set_config(config)
    if options.get("version"):
        from agentlog.commands.doctor import version_text

        print(version_text(verbose=bool(options.get("verbose"))))
        return 0
    if options.get("help") or options.get("h") or target is None:
        print(USAGE.format(commands=_commands_help()),
              file=sys.stdout if options else sys.stderr)
        return 0 if options else 2

    if entry:
        _relaunch(target, program_args, config)  # returns only if it cannot
    report_problems(problems)  # (a relaunched interpreter reports them itself)
    from agentlog.runtime import activate, launcher
    from agentlog.runtime.relaunch import report_where

    activate.install(config)
    if config.verbose:
        atexit.register(report_where, str(config.data_dir))
    kind, what = target
    from agentlog.runtime.relaunch import TARGET_FLAGS
    from agentlog.work.session import note_launch

    note_launch([*TARGET_FLAGS[kind], what, *program_args])  # as typed: the session's argv
    run = {"script": launcher.run_script, "module": launcher.run_module, "code": launcher.run_code}[kind]
    return run(what, program_args)


def _relaunch(target: Target, program_args: list[str], config: Config) -> None:
    """Replace this process with the program in a fresh interpreter, if possible."""
    from agentlog.runtime import relaunch

    options = relaunch.interpreter_options()
    if options is None or relaunch.why_not() is not None:
        return
    overrides = {name: getattr(config, name) for name in relaunch.LAUNCH_OPTIONS}
    relaunch.reexec(target, program_args, options, overrides)
