"""``agentlog doctor``: which engine is active and why, where data goes, what is configured."""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentlog.core.config import Config

HELP = "Show the engine in use (C or pure Python, and why), mode, bounds and data dir."


def _tracer_status(config: Config | None = None) -> dict:
    """The running tracer's status, or which engine a run with ``config`` would pick, and why."""
    try:
        from agentlog.runtime import tracer
    except ImportError as exc:
        return {"engine": None, "reason": f"tracer unavailable: {exc}"}
    status = tracer.status()
    if status.get("running"):
        return status
    if tracer.free_threaded():
        return {"engine": None, "reason": tracer.FREE_THREADED_REASON, "args": "off (no call trail)"}
    try:
        module, reason = tracer.select_engine()
    except tracer.EngineUnavailable as exc:
        return {"engine": None, "reason": str(exc)}
    from agentlog.core.config import get_config

    return {"engine": module.NAME, "reason": reason, "args": tracer.args_status(module, config or get_config())}


def version_text(verbose: bool = False) -> str:
    from agentlog import __version__

    text = f"agentlog {__version__} (Python {sys.version.split()[0]})"
    if verbose:
        status = _tracer_status()
        text += f"\nengine: {status.get('engine')} ({status.get('reason') or 'compiled extension'})"
    return text


def _dir_state(path: Path) -> str:
    """Whether records can be written there, without creating anything."""
    if path.is_dir():
        return "writable" if os.access(path, os.W_OK | os.X_OK) else "NOT writable"
    if path.exists():
        return "NOT a directory"
    parent = next(p for p in path.parents if p.exists())
    return "will be created" if os.access(parent, os.W_OK | os.X_OK) else f"cannot be created in {parent}"


def report_lines() -> list[str]:
    """Everything doctor prints, one ``key: value`` per line."""
    from agentlog.core.config import credential_target_warning, load_config, user_config_path

    problems: list[str] = []
    config = load_config(problems=problems)
    ignored = credential_target_warning()
    problems += [ignored] if ignored else []
    user_config = user_config_path()
    status = _tracer_status(config)
    from agentlog.runtime.relaunch import PTH_NAME

    pth = Path(sysconfig.get_paths()["purelib"]) / PTH_NAME
    data_dir = config.data_dir
    engine = status.get("engine")
    reason = status.get("reason") or ("compiled extension" if engine == "c" else "")
    return [
        version_text(),
        f"engine: {engine or 'none'}{f' ({reason})' if reason else ''}",
        f"mode: {config.trace}" + (" (from AGENTLOG_TRACE)" if os.environ.get("AGENTLOG_TRACE") else ""),
        f"ring size: up to {config.ring_size} entries per thread, {config.ring_budget} B for all threads",
        f"trail: last {config.trail_calls} calls per failure",
        f"argument values: {status.get('args', 'off (no call trail)')}",
        f"data dir: {data_dir} ({_dir_state(data_dir)})",
        f"user config: {user_config} ({'read' if os.path.isfile(user_config) else 'none'})",
        f"bounds: str {config.max_str_chars} chars, {config.max_items} items, depth "
        f"{config.max_depth}, record {config.max_record_bytes} B, file {config.max_file_bytes} B, "
        f"dir {config.max_dir_bytes} B",
        _hook_line(pth),
        _launcher_line(),
        _tool_ids_line(),
        *(f"problem: {problem}" for problem in problems),
        *_no_extension_lines(config, engine, reason),
    ]


def _no_extension_lines(config: Config, engine: str | None, reason: str) -> list[str]:
    """What an activated process does without the compiled tracer (runtime/activate.py)."""
    from agentlog.runtime.activate import NO_EXTENSION_NOTICE, trail_requested

    if engine != "python" or not reason.startswith("ImportError") or config.trace != "calls":
        return []
    if trail_requested(config):
        return ["problem: the call trail runs on the pure-Python engine (no compiled tracer), many times slower"]
    return [f"problem: {NO_EXTENSION_NOTICE.removeprefix('agentlog: ')}"]


def _editable_install() -> bool:
    """Whether agentlog was installed with ``pip install -e`` (PEP 610's ``direct_url.json``)."""
    import json
    from importlib import metadata

    try:
        direct = json.loads(metadata.distribution("agentlog").read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return isinstance(direct, dict) and bool((direct.get("dir_info") or {}).get("editable"))


def _hook_line(pth: Path) -> str:
    """The ``.pth`` hook's state; when missing, why (an editable install leaves it out) and the fix."""
    if pth.exists():
        return f"AGENTLOG=true hook: installed ({pth})"
    why = ("an editable install (pip install -e) does not install it: install with `pip install .` "
           "(not -e) for AGENTLOG=true" if _editable_install() else
           "reinstall agentlog (pip install agentlog) for AGENTLOG=true")
    return f"AGENTLOG=true hook: missing ({pth}): {why}; `python -m agentlog` works without it (in-process)"


def _tool_ids_line() -> str:
    from agentlog.runtime import toolids

    held = ", ".join(f"{i}={name}" for i, name in sorted(toolids.held().items())) or "none in this process"
    return (f"tool ids: the first free of {', '.join(map(str, toolids.TOOL_IDS))}; yielded to a program that "
            f"asks for one (warning tool-id-yielded); held: {held}")


def _launcher_line() -> str:
    from agentlog.runtime.relaunch import why_not

    reason = why_not()
    if reason is None:
        return "launcher: fresh interpreter (the program's stack has no launcher frames)"
    return f"launcher: in-process, launcher frames below the program ({reason})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    print("\n".join(report_lines()))
    return 0
