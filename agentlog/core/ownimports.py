"""AgentLog's own imports resolve to the standard library, never to the program's files.

A program directory holding ``json.py``, ``secrets.py`` or ``typing.py`` shadows
the standard library for the program (``sys.path[0]``), and AgentLog imports much
of what it needs only when it writes its first record, long after the program's
directory went first on the path. Two parts keep the two apart:

* a meta path finder (first on ``sys.meta_path`` while AgentLog is active) that
  answers a top-level import asked for by AgentLog's code (the nearest frame
  outside the standard library and site-packages is ours) from the trusted
  directories only: the standard library, site-packages and AgentLog's own;
* :func:`own_modules`, around AgentLog's cold paths, which swaps the program's
  module out of ``sys.modules`` where its name shadows a trusted module (and
  AgentLog's copy in), then back: the program keeps its own module before,
  during other threads' work aside, and after.

Imported at activation: ``os``, ``sys`` and ``_thread`` only.
"""

from __future__ import annotations

import _thread
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from types import ModuleType
    from typing import Any

_STDLIB = os.path.dirname(os.__file__)
_OURS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the directory holding agentlog/
_lock = _thread.RLock()
_depth = 0
_theirs: dict[str, ModuleType] = {}  # the program's shadowing modules, while ours are in place
_ours: dict[str, ModuleType] = {}  # our copies of shadowed names, while the program's are in place
_shadowed: set[str] = set()  # top-level names the program's directories shadow
_before: set[str] = set()  # sys.modules' names as the outermost window opened
_handoff: set[object] = set()  # code of our wrappers that call the program's (or the default) hooks
_passing: set[object] = set()  # code of our import machinery (post-import hooks): neither side


def _trusted_roots() -> tuple[str, ...]:
    roots = [_STDLIB, _OURS]
    site = sys.modules.get("site")
    if site is not None:
        try:
            roots += site.getsitepackages()
            if site.ENABLE_USER_SITE:
                roots.append(site.getusersitepackages())
        except Exception:  # noqa: BLE001 - a patched site module: stdlib and ours still count
            pass
    return tuple(os.path.join(root, "") for root in roots if root)


_roots: tuple[str, ...] = ()


def _is_trusted(filename: str) -> bool:
    global _roots
    if filename.startswith("<frozen"):
        return True
    if not _roots:
        _roots = _trusted_roots()
    return filename.startswith(_roots)


def _trusted_path() -> list[str]:
    """``sys.path`` without the program's entries ('' and any directory outside the trusted roots)."""
    return [p for p in sys.path if isinstance(p, str) and p and _is_trusted(os.path.join(p, ""))]


def _asked_by_agentlog() -> bool:
    """Whether the code importing now is AgentLog's: the nearest frame outside the import system,
    the standard library and site-packages belongs to the ``agentlog`` package."""
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code in _handoff:
            return False  # a hook of ours handing over: what runs above it is the program's business
        if code in _passing:
            frame = frame.f_back
            continue
        name = frame.f_globals.get("__name__")
        if isinstance(name, str) and (name == "agentlog" or name.startswith("agentlog.")):
            return True
        if not _is_trusted(frame.f_code.co_filename):
            return False
        frame = frame.f_back
    return False


def _path_finder() -> Any:
    return sys.modules["_frozen_importlib_external"].PathFinder


class _TrustedFirst:
    """Resolves AgentLog's own top-level imports from the trusted directories only."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if path is not None or not _asked_by_agentlog():
            return None
        finder = _path_finder()
        spec = finder.find_spec(fullname, _trusted_path())
        if spec is None:
            return None  # not ours to find: built-ins are found before us, the rest fails as usual
        theirs = finder.find_spec(fullname, sys.path)
        if theirs is not None and theirs.origin != spec.origin:
            with _lock:
                _shadowed.add(fullname)
        return spec


_finder = _TrustedFirst()


def hands_over(function: Any) -> Any:
    """Mark ``function`` (a wrapper that calls the hook it replaced) as not AgentLog's for imports."""
    code = getattr(function, "__code__", None)
    if code is not None:
        _handoff.add(code)
    return function


def passes_through(function: Any) -> Any:
    """Mark ``function`` (part of an import, e.g. a post-import hook's finder) as asking for no one."""
    _passing.add(function.__code__)
    return function


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (idempotent)."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)


def _family(name: str) -> list[str]:
    prefix = name + "."
    return [key for key in list(sys.modules) if key == name or key.startswith(prefix)]


def _is_programs(module: object) -> bool:
    filename = getattr(module, "__file__", None)
    return isinstance(filename, str) and not _is_trusted(os.path.abspath(filename))


_scanned_at = -1  # len(sys.modules) at the last scan


def _note_shadowing_modules() -> None:
    """Top-level modules the program imported from its own files under a trusted module's name."""
    global _scanned_at
    if len(sys.modules) == _scanned_at:
        return
    _scanned_at = len(sys.modules)
    finder = _path_finder()
    for name, module in list(sys.modules.items()):
        if "." in name or name in _shadowed or not _is_programs(module):
            continue
        if finder.find_spec(name, _trusted_path()) is not None:
            _shadowed.add(name)


def _swap(names: set[str], programs: bool, take: dict[str, ModuleType], give: dict[str, ModuleType]) -> None:
    """Move each name's modules (and submodules) that are (``programs``) or are not the program's
    from sys.modules into ``take``, and put ``give``'s back where the name is free."""
    for name in names:
        for key in _family(name):
            if _is_programs(sys.modules[key]) == programs:
                take[key] = sys.modules.pop(key)
        for key in [k for k in give if k == name or k.startswith(name + ".")]:
            module = give.pop(key)
            sys.modules.setdefault(key, module)


def _hide_new_dependents() -> None:
    """Where the program shadows a module, the modules we loaded in this window (``re``, which
    imported our ``enum``) are ours too: the program imports its own, as under plain python."""
    if not _shadowed:
        return
    for key in [k for k in sys.modules if k not in _before]:
        filename = getattr(sys.modules[key], "__file__", None)  # built-ins cannot be shadowed
        if isinstance(filename, str) and not key.startswith("agentlog") and _is_trusted(filename):
            _ours[key] = sys.modules.pop(key)


class own_modules:
    """Within: shadowed names in ``sys.modules`` are AgentLog's; outside, the program's."""

    def __enter__(self) -> None:
        global _depth
        with _lock:
            _depth += 1
            if _depth == 1:
                try:
                    _before.clear()
                    _before.update(sys.modules)
                    _note_shadowing_modules()
                    _swap(_shadowed, True, _theirs, _ours)
                    for key, module in list(_ours.items()):  # the dependents hidden last time
                        if sys.modules.setdefault(key, module) is module:
                            del _ours[key]
                except Exception:  # noqa: BLE001 - never in the way of a record
                    pass

    def __exit__(self, *exc_info: object) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0:
                try:
                    _hide_new_dependents()
                    _swap(_shadowed, False, _ours, _theirs)
                    global _scanned_at
                    _scanned_at = len(sys.modules)  # as the program left it: no rescan until it imports
                except Exception:  # noqa: BLE001
                    pass


def shadowed() -> Iterator[str]:
    """The names seen shadowed so far (for ``agentlog doctor`` and tests)."""
    return iter(sorted(_shadowed))
