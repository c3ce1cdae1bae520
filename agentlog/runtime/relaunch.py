"""Run the program in a fresh interpreter, so no launcher frame is ever on its stack.

Code that runs inside ``python -m agentlog`` always has the launcher's frames
below it (runpy's, ours): ``traceback.print_stack()``, ``inspect.stack()``,
``warnings.warn(stacklevel=N)``, a program's own ``sys.excepthook`` and the
recursion limit would all see them. So, as ``ddtrace-run`` and
``opentelemetry-instrument`` do, the launcher replaces itself (``os.execv``, same
pid) with ``python [the same interpreter options] script.py|-m mod|-c code args``.
AgentLog starts in the new interpreter through the installed ``.pth`` hook
(``AGENTLOG=1``), reading the launcher's options from ``AGENTLOG_LAUNCH``, which it
removes so neither the program nor its children see it. The program then runs
exactly as under plain ``python``: same frames, compile errors, recursion depth.

Where that is impossible (not POSIX, ``python -S``, no ``.pth`` hook, or this
agentlog is not the one the new interpreter would import) the caller falls back
to the in-process launcher (``runtime/launcher.py``).
"""

from __future__ import annotations

import os
import sys

from agentlog.core import selflog

TYPE_CHECKING = False
if TYPE_CHECKING:  # resume() runs in every relaunched process before its first line: no typing, json
    from typing import Any

PTH_NAME = "agentlog-activate.pth"
LAUNCH_ENV = "AGENTLOG_LAUNCH"
ENTRY_MODULES = ("agentlog", "agentlog.__main__")
LAUNCH_OPTIONS = ("dir", "trace", "quiet", "verbose")  # what the launcher's command line can set
TARGET_FLAGS = {"script": [], "module": ["-m"], "code": ["-c"]}  # python's flag before each kind of target


def interpreter_options() -> list[str] | None:
    """The interpreter's own options (``-X dev``, ``-W error``, ``-u``) if this process is
    ``python [options] -m agentlog ...`` or the ``agentlog`` script; else None."""
    orig, argv = getattr(sys, "orig_argv", None), sys.argv
    if not orig or not argv:
        return None
    n = len(orig) - len(argv)
    if n < 1 or orig[n + 1 :] != argv[1:]:
        return None
    entry, options = orig[n], orig[1:n]
    if options[-1:] == ["-m"] and entry in ENTRY_MODULES:
        return options[:-1]
    if entry in tuple(f"-m{name}" for name in ENTRY_MODULES):
        return options
    if entry == argv[0] and os.path.basename(entry).startswith("agentlog"):
        return options  # the console script
    return None


def _site_dirs() -> list[str]:
    import site

    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return dirs


def why_not() -> str | None:
    """Why the program cannot run in a fresh interpreter here (None: it can)."""
    if os.name != "posix":
        return "os.execv does not replace the process on this platform"
    if sys.flags.no_site:
        return "python -S: the .pth activation hook does not run"
    if not sys.executable:
        return "sys.executable is unknown"
    if "agentlog.runtime.autostart" in sys.modules:
        return "AGENTLOG=true already activated this process (its session would be left open)"
    site_dirs = _site_dirs()
    if not any(os.path.isfile(os.path.join(d, PTH_NAME)) for d in site_dirs):
        return f"the {PTH_NAME} hook is not installed"
    import agentlog

    ours = os.path.dirname(os.path.dirname(os.path.abspath(agentlog.__file__)))
    pythonpath = [] if sys.flags.ignore_environment else os.environ.get("PYTHONPATH", "").split(os.pathsep)
    for folder in [p for p in pythonpath if p] + site_dirs:
        if os.path.isfile(os.path.join(folder, "agentlog", "__init__.py")):
            same = os.path.realpath(folder) == os.path.realpath(ours)
            return None if same else f"a fresh interpreter would import another agentlog ({folder})"
    return "a fresh interpreter would not find this agentlog"


def reexec(target: tuple[str, str], args: list[str], options: list[str], overrides: dict[str, Any]) -> None:
    """Replace this process with ``python options target args`` under AgentLog; returns only if exec fails.

    ``overrides`` are the launcher's options (dir, trace, quiet, verbose); with
    ``trace="off"`` the program runs as plain python, AgentLog not even loaded.
    """
    kind, what = target
    if kind == "script" and what.startswith("-"):
        return  # python would read it as an option
    flag = TARGET_FLAGS[kind]
    env = dict(os.environ)
    if overrides.get("trace") == "off":
        env.pop("AGENTLOG", None)
    else:
        env["AGENTLOG"] = "1"
        env[LAUNCH_ENV] = encode_options(overrides)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        os.execve(sys.executable, [sys.orig_argv[0], *options, *flag, what, *args], env)
    except OSError as exc:
        from agentlog.core import selflog

        selflog.report("relaunch.reexec", exc)


def encode_options(overrides: dict[str, Any]) -> str:
    """``trace,quiet,verbose,dir`` (the dir last: it may hold commas)."""
    flags = ",".join("1" if overrides[k] else "0" for k in ("quiet", "verbose"))
    return f"{overrides['trace']},{flags},{overrides['dir']}"


def decode_options(raw: str) -> dict[str, Any]:
    """What :func:`encode_options` wrote; ValueError if it is not that."""
    trace, quiet, verbose, data_dir = raw.split(",", 3)
    return {"trace": trace, "quiet": quiet == "1", "verbose": verbose == "1", "dir": data_dir}


def resume() -> None:
    """In the fresh interpreter (the ``.pth`` hook): activate with the launcher's options, if any."""
    from agentlog.runtime import activate

    raw = os.environ.pop(LAUNCH_ENV, None)
    if raw is None:
        activate.install()
        return
    try:
        from agentlog.core.config import get_config

        config = get_config()._replace(**decode_options(raw))
    except Exception as exc:  # noqa: BLE001 - a mangled variable: plain AGENTLOG=1 activation
        from agentlog.core import selflog

        selflog.report("relaunch.resume", exc)
        activate.install()
        return
    activate.install(config)
    if config.trace != "off":
        from agentlog.runtime import exitwatch, hooks
        from agentlog.work.session import note_exits_watched, note_launch

        note_launch()  # this interpreter's argv is the program's own; the launcher is noted apart

        # No launcher around the program sees a SystemExit leave it. The exit watcher does,
        # without a frame of ours in the program's tracebacks (so a program that ends with
        # none seen returned: ``exit 0``); the sys.exit wrapper is the fallback where it
        # cannot run (no tool id; no C extension in crash mode), and misses ``raise SystemExit``.
        if exitwatch.watching():
            note_exits_watched()
        else:
            hooks.watch_exit()
    if config.verbose:
        import atexit

        atexit.register(report_where, str(config.data_dir))


@selflog.quiet_at_exit
def report_where(data_dir: str) -> None:
    """``--verbose``: where the records went, at exit."""
    sys.stderr.write(f"agentlog: records in {data_dir}\n")
