"""Turning AgentLog on and off inside a process.

Every activated process runs :func:`install` before its first line, so it does
only what must happen then: read the options, export them to children, chain the
crash hooks, start the tracer in calls mode, and note (not write) the session
start. Whatever is only needed once a record is written (the store, JSON,
redaction patterns, git state, the session start record) waits for the first
write or for exit (``core/firstwrite.py``). ``tests/test_import_cost.py`` guards
what this path imports.
"""

from __future__ import annotations

import os
import sys

from agentlog.core import ownimports, selflog
from agentlog.core.config import Config, get_config, set_config

ACTIVATION_ENV = "AGENTLOG"
EXPORTED_ENV = (ACTIVATION_ENV, "AGENTLOG_DIR", "AGENTLOG_TRACE")
_active: Config | None = None
_env_before: dict[str, str | None] = {}  # what export_to_children overwrote, for uninstall()


def export_to_children(config: Config) -> None:
    """Children (subprocess, multiprocessing fork and spawn) activate through the environment."""
    from agentlog.core.sessionid import current_session_id

    for name in EXPORTED_ENV:
        _env_before.setdefault(name, os.environ.get(name))
    os.environ[ACTIVATION_ENV] = "1"
    os.environ["AGENTLOG_DIR"] = config.data_path
    os.environ["AGENTLOG_TRACE"] = config.trace
    current_session_id()  # creates AGENTLOG_SESSION if this process started the session


def install(config: Config | None = None) -> bool:
    """Activate AgentLog in this process: crash hooks, tracer, session. Idempotent, never raises.

    Each part starts on its own: a tracer that cannot start still leaves crash capture on.
    """
    global _active
    if _active is not None:
        if config is not None and config != _active:
            # Already on through AGENTLOG=true; the launcher's options (--dir, ...) win.
            set_config(config)
            export_to_children(config)
            _active = config
        return True
    try:
        # Pin the data dir now: the program may chdir before it fails.
        config = config or get_config()
        config = config._replace(dir=config.data_path)
        set_config(config)
        _active = config
        if config.trace == "off":
            return True
        ownimports.install()  # before anything imports lazily: our imports are never the program's files
        config = _without_extension(config)
        set_config(config)
        _active = config
        export_to_children(config)
    except Exception as exc:  # noqa: BLE001 - activation must never break the program
        selflog.report("activate.install", exc)
        return False
    steps = [_install_hooks, _watch_exits, _start_session]
    if config.trace == "calls":
        steps.insert(1, _start_tracer)  # before _watch_exits: the trail takes the first free tool id
    for step in steps:
        try:
            step(config)
        except Exception as exc:  # noqa: BLE001
            selflog.report(f"activate.{step.__name__}", exc)
    os.register_at_fork(after_in_child=_after_fork)
    return True


NO_EXTENSION_SLUG = "no-extension"
NO_EXTENSION_NOTICE = (
    "agentlog: recording crashes only, no call trail: agentlog's compiled tracer is not installed "
    "(no C compiler when it was installed). To get the trail, install a C compiler and reinstall "
    "(pip install --force-reinstall --no-cache-dir agentlog) or install a wheel; AGENTLOG_TRACE=calls "
    "runs the pure-Python trail, many times slower."
)


def trail_requested(config: Config) -> bool:
    """The call trail was asked for, not just the default: AGENTLOG_TRACE, a config file's
    ``trace``, or AGENTLOG_ENGINE=python."""
    if os.environ.get("AGENTLOG_TRACE") or os.environ.get("AGENTLOG_ENGINE", "").strip().lower() == "python":
        return True
    from agentlog.core.config import option_source

    return option_source("trace") is not None


def _without_extension(config: Config) -> Config:
    """Calls mode by default but no compiled tracer (a pure-Python trail would be ~100x on
    call-heavy code): crash mode, and one line on stderr. Children inherit crash mode through
    AGENTLOG_TRACE, so a session says it once; `agentlog doctor` says it too."""
    if config.trace != "calls":
        return config
    try:
        from agentlog import _tracer  # noqa: F401  # type: ignore[attr-defined]
    except ImportError:
        pass
    else:
        return config
    if trail_requested(config):
        return config
    selflog.report(f"warning [{NO_EXTENSION_SLUG}]: {NO_EXTENSION_NOTICE}")
    if not config.quiet:
        sys.stderr.write(NO_EXTENSION_NOTICE + "\n")  # the one line AgentLog prints unasked, once per session
        sys.stderr.flush()
    return config._replace(trace="crash")


def _install_hooks(config: Config) -> None:
    from agentlog.runtime import hooks

    hooks.install()


def _watch_exits(config: Config) -> None:
    from agentlog.runtime import exitwatch

    exitwatch.install(config.trace)


def _start_tracer(config: Config) -> None:
    from agentlog.runtime import tracer

    try:
        tracer.start(config)
    except tracer.EngineUnavailable as exc:  # AGENTLOG_ENGINE=c without the extension
        selflog.warn_once("engine-unavailable", str(exc), loud=True)


def _start_session(config: Config) -> None:
    """The session start record (with git state) is written with the first record, or at exit."""
    from agentlog.work.session import ensure_session_started, typed_argv

    ensure_session_started(typed_argv(), defer=True)


def _after_fork() -> None:
    from agentlog.store import writer

    writer.forget_fork_state()


def uninstall() -> None:
    """Remove every hook and stop the tracer; the process runs as if AgentLog was never on."""
    global _active
    if _active is None:
        return
    from agentlog.runtime import hooks

    exitwatch = sys.modules.get("agentlog.runtime.exitwatch")
    if exitwatch is not None:
        exitwatch.uninstall()  # first: the trail stopping would hand exits back to it
    tracer = sys.modules.get("agentlog.runtime.tracer")
    if tracer is not None:
        tracer.stop()
    hooks.uninstall()
    ownimports.uninstall()
    for name, value in _env_before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _env_before.clear()
    _active = None


def is_active() -> bool:
    return _active is not None
