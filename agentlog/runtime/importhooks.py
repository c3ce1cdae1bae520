"""Run a callback when a module is imported (now, if it already is).

Used to patch asyncio and multiprocessing only in programs that use them, so
activation never pays for importing them.
"""

from __future__ import annotations

import sys

from agentlog.core import ownimports

TYPE_CHECKING = False
if TYPE_CHECKING:  # activation imports this module: no collections, types, typing
    from collections.abc import Callable, Sequence
    from types import ModuleType
    from typing import Any

    Callback = Callable[[ModuleType], None]
_pending: dict[str, list[Callback]] = {}


# Plain classes, not importlib.abc subclasses: importing importlib.abc pulls in
# importlib.resources, tempfile and shutil, a cost every activated process would pay.
class _PostImportFinder:
    """A meta path finder that finds nothing itself; it wraps the real loader of watched modules."""

    @ownimports.passes_through
    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname not in _pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader, _pending.pop(fullname))
                return spec
        return None


class _Loader:
    """Runs the real loader, then the callbacks."""

    def __init__(self, loader: Any, callbacks: list[Callback]) -> None:
        self.loader = loader
        self.callbacks = callbacks

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)

    @ownimports.passes_through
    def exec_module(self, module: ModuleType) -> None:
        # Keep the real loader visible to the module (pkgutil, importlib.resources).
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        for callback in self.callbacks:
            _run(callback, module)


_finder = _PostImportFinder()


def _run(callback: Callback, module: ModuleType) -> None:
    from agentlog.core import selflog

    try:
        callback(module)
    except Exception as exc:  # noqa: BLE001
        selflog.report(f"import hook for {module.__name__}", exc)


def when_imported(name: str, callback: Callback) -> None:
    """Call ``callback(module)`` once ``name`` is imported."""
    module = sys.modules.get(name)
    if module is not None:
        _run(callback, module)
        return
    _pending.setdefault(name, []).append(callback)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def clear() -> None:
    """Forget pending callbacks and remove the finder."""
    _pending.clear()
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
