"""Is AgentLog installed where the agent's Python runs, and where its clients start ``agentlog``?

Answered from files alone (an environment's ``site-packages`` holds an ``agentlog-*.dist-info``):
nothing in the project, not even its ``.venv/bin/python``, is run. Each missing install is one
line saying how to add it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SITE_GLOBS = ("lib/python3*/site-packages", "lib/python3*/dist-packages", "lib/python3/dist-packages",
              "Lib/site-packages")
MAX_SHEBANG_BYTES = 512


def _installed(prefix: Path, dist: str) -> bool:
    return any(any(site.glob(f"{dist}-*.dist-info")) for pattern in SITE_GLOBS for site in prefix.glob(pattern))


def _prefix(python: str) -> Path:
    """The environment an interpreter belongs to: its venv (``pyvenv.cfg`` above ``bin/``) or its install."""
    path = Path(python).absolute()
    venv = path.parent.parent
    if (venv / "pyvenv.cfg").is_file():
        return venv
    return Path(os.path.realpath(path)).parent.parent


def _user_site() -> Path:
    return Path(os.environ.get("PYTHONUSERBASE") or Path.home() / ".local")


def _project_env(project: Path) -> Path:
    """uv's environment for the project: ``$UV_PROJECT_ENVIRONMENT`` or ``.venv``."""
    named = os.environ.get("UV_PROJECT_ENVIRONMENT")
    return project / named if named else project / ".venv"


def _uses_uv(project: Path) -> bool:
    if (project / "uv.lock").is_file():
        return True
    return shutil.which("uv") is not None and (project / "pyproject.toml").is_file()


def _is_script(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return False


def _script_env(script: str) -> Path | None:
    """The environment whose interpreter a console script's ``#!`` line names."""
    try:
        with open(script, "rb") as fh:
            first = fh.read(MAX_SHEBANG_BYTES).split(b"\n", 1)[0]
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    return _prefix(words[0]) if words and words[0].startswith("/") else None


def install_problems(project: Path, path_env: str | None = None) -> list[str]:
    """One line per place AgentLog is missing: the project's environment, the ``python`` on PATH,
    and the ``agentlog`` command the clients start (with the ``mcp`` extra)."""
    problems = []
    env = _project_env(project)
    uv = _uses_uv(project)
    checked: set[Path] = set()
    if (env / "pyvenv.cfg").is_file():
        checked.add(env.absolute())
        if not _installed(env, "agentlog"):
            add = "uv add --dev agentlog" if uv else f"{env.name}/bin/pip install agentlog"
            problems.append(f"AgentLog is not installed in {env.name}/, so the agent's Python there records "
                            f"nothing: add it with `{add}`")
    for name in ("python", "python3"):
        python = shutil.which(name, path=path_env)
        if python is None:
            continue
        if _is_script(python):
            break  # a shim (pyenv, asdf) picks the interpreter at run time: nothing to read here
        prefix = _prefix(python)
        if prefix.absolute() in checked:
            break
        if not (_installed(prefix, "agentlog") or _installed(_user_site(), "agentlog")):
            add = ("`uv add --dev agentlog` and run Python with `uv run`" if uv else
                   f"`{python} -m pip install agentlog`")
            problems.append(f"AgentLog is not installed for `{name}` ({python}), so commands run with it record "
                            f"nothing: {add}")
        break
    agentlog = shutil.which("agentlog", path=path_env)
    tool = "`uv tool install 'agentlog[mcp]'` or `pipx install 'agentlog[mcp]'`"
    if agentlog is None:
        problems.append(f"`agentlog` is not on PATH, so the clients cannot start its MCP server or hook: install it "
                        f"with {tool} (or run init with --local to name this machine's Python instead)")
    else:
        home = _script_env(agentlog)
        if home is not None and not _installed(home, "mcp"):
            problems.append(f"the `agentlog` on PATH ({agentlog}) lacks the MCP SDK, so `agentlog mcp` will not "
                            f"start: install it with {tool}")
    return problems
