"""Which code is the user's: not stdlib, not site-packages, not frozen, not AgentLog."""

from __future__ import annotations

import os
import sysconfig
from functools import cache
from types import FrameType

AGENTLOG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@cache
def _library_prefixes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.add(AGENTLOG_DIR)
    # Both spellings: a file the stdlib folder links to from elsewhere (Debian's
    # sitecustomize.py -> /etc/python3.X/) is the stdlib's.
    return tuple({os.path.join(form(r), "") for r in roots for form in (os.path.abspath, os.path.realpath)})


@cache
def is_user_file(filename: str) -> bool:
    """True for the program's own code: not stdlib, site-packages, frozen modules or AgentLog."""
    if filename in ("<string>", "<stdin>"):
        return True  # python -c and piped programs are the user's code (exec'd strings too)
    if not filename or filename.startswith("<"):
        return False
    path = os.path.realpath(filename)
    if "site-packages" in path or "dist-packages" in path:
        return False
    return not path.startswith(_library_prefixes()) and not os.path.abspath(filename).startswith(_library_prefixes())


def is_agentlog_frame(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    return filename.startswith(AGENTLOG_DIR + os.sep) or filename == "<frozen runpy>"
