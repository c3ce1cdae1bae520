"""Where a relative data dir lives: the project's, wherever a command starts in it.

A relative data dir (the default ``.agentlog``, or ``dir``/``AGENTLOG_DIR`` spelled
relative) belongs to the project the working directory is in. Going upwards, the
project is found by its markers: the nearest directory holding ``pyproject.toml``
or ``.git`` is its root; a ``.git`` further up (a monorepo's top) widens it. The
data dir is the nearest existing one between the working directory and that
boundary, else the one in the root. Outside any project (no marker up to the
filesystem root) it stays in the working directory, so a stray ``/tmp/.agentlog``
collects nothing; the home directory is never a level of a command started below
it (a dotfiles repository in ``~`` is not every project's). So an agent, a server
or ``cd sub && python -m agentlog app.py`` started in a subdirectory reads and
writes the project's records. Only ``os.path``: the activation path calls this (a
few ``stat`` calls per directory level).
"""

from __future__ import annotations

import os

PROJECT_MARKERS = ("pyproject.toml", ".git")
MAX_LEVELS = 64  # directories looked at upwards, at most


def working_dir() -> str:
    """``os.getcwd()``, or where it was (``$PWD``) when the directory was deleted: never raises.

    A program may start in, or delete, its working directory; plain python runs on.
    """
    try:
        return os.getcwd()
    except OSError:
        pwd = os.environ.get("PWD", "")
        return pwd if os.path.isabs(pwd) else os.sep


def resolve_data_path(name: str, cwd: str | None = None) -> str:
    """The absolute data dir for ``name`` (an absolute ``name`` is returned normalised)."""
    start = os.path.abspath(cwd or working_dir())
    if os.path.isabs(name):
        return os.path.normpath(name)
    levels, root, top = _levels(start)
    if root is None:
        return os.path.join(start, name)
    for folder in levels[: levels.index(top if top is not None else root) + 1]:
        candidate = os.path.join(folder, name)
        if os.path.isdir(candidate):
            return candidate
    return os.path.join(root, name)


def _levels(start: str) -> tuple[list[str], str | None, str | None]:
    """Directories from ``start`` upwards, the nearest holding a marker, and the first holding ``.git``."""
    home = os.path.expanduser("~")
    levels: list[str] = []
    root = None
    folder = start
    for _ in range(MAX_LEVELS):
        if folder == home and start != home:
            break
        levels.append(folder)
        if root is None and any(os.path.exists(os.path.join(folder, m)) for m in PROJECT_MARKERS):
            root = folder
        if os.path.exists(os.path.join(folder, ".git")):
            return levels, root, folder
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return levels, root, None


def project_root(cwd: str | None = None) -> str:
    """The project's root (the nearest directory holding ``pyproject.toml`` or ``.git``), else ``cwd``."""
    start = os.path.abspath(cwd or working_dir())
    return _levels(start)[1] or start
