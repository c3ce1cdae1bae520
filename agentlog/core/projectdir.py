"""Where a relative data dir lives: the project's, wherever a command starts in it.

A relative data dir (the default ``.agentlog``, or ``dir``/``AGENTLOG_DIR`` spelled
relative) resolves, from the working directory upwards, to the nearest existing
directory of that name, searched no higher than the repository's top (the first
directory holding ``.git``) and never in the home directory of a command started
below it; else to that name in the nearest directory holding ``pyproject.toml`` or
``.git`` (the project root); else in the working directory. So an agent, a server
or ``cd sub && python -m agentlog app.py`` started in a subdirectory reads and
writes the project's records. Only ``os.path`` and ``os.stat``: the activation path
calls this (a handful of ``stat`` calls per directory level).
"""

from __future__ import annotations

import os

PROJECT_MARKERS = ("pyproject.toml", ".git")
MAX_LEVELS = 64  # directories looked at upwards, at most


def resolve_data_path(name: str, cwd: str | None = None) -> str:
    """The absolute data dir for ``name`` (returned normalised as is when already absolute)."""
    start = os.path.abspath(cwd or os.getcwd())
    if os.path.isabs(name):
        return os.path.normpath(name)
    home = os.path.expanduser("~")
    root = None
    folder = start
    for _ in range(MAX_LEVELS):
        if folder == home and start != home:
            break  # a stray ~/.agentlog does not collect every project without markers
        candidate = os.path.join(folder, name)
        if os.path.isdir(candidate):
            return candidate
        markers = [m for m in PROJECT_MARKERS if os.path.exists(os.path.join(folder, m))]
        if markers and root is None:
            root = folder
        if ".git" in markers:
            break  # the repository's top: nothing above it is this project's
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return os.path.join(root or start, name)


def project_root(cwd: str | None = None) -> str:
    """The directory a relative data dir hangs from: the project's root (or ``cwd``)."""
    return os.path.dirname(resolve_data_path(".agentlog", cwd))
