"""Which ``sys.monitoring`` tool id AgentLog takes (the call trail and ``@trace`` each need one).

Ids 0-2 belong to debuggers (pdb uses 0 on 3.14), coverage and cProfile; AgentLog
only takes the unreserved ones, 3-5. Tools that need one usually hard-code it and
fail with "tool N is already in use" when it is taken, so AgentLog yields: while
it holds an id, ``sys.monitoring.use_tool_id`` is wrapped, and a program asking
for an id AgentLog holds gets it. AgentLog moves to another free id (its call
trail restarts there; what it recorded before is kept only in records already
written) or, if none is left, records crashes only. Each yield is noted once (slug
``tool-id-yielded``).
"""

from __future__ import annotations

import sys

from agentlog.core import selflog

TYPE_CHECKING = False
if TYPE_CHECKING:  # the tracer imports this as a process starts: no typing, collections
    from collections.abc import Callable, Iterable
    from typing import Any

TOOL_IDS = (3, 4, 5)
# id -> (our tool name, how the holder gives it up and moves elsewhere)
_held: dict[int, tuple[str, Callable[[], None]]] = {}
_requested: int | None = None  # the id the program is asking for right now: not ours to take
_real_use_tool_id: Callable[[int, str], None] | None = None


def claim_tool_id(name: str, move: Callable[[], None] | None = None) -> int | None:
    """Take the first free unreserved id (not one the program is asking for); None if there is none.

    ``move`` is called if the program later asks for this id: it must free the id
    (and may claim another with this function).
    """
    use = _wrap_use_tool_id()
    for tool_id in TOOL_IDS:
        if tool_id == _requested or sys.monitoring.get_tool(tool_id) is not None:
            continue
        try:
            use(tool_id, name)
        except ValueError:
            continue  # taken between the check and the claim
        if move is not None:
            _held[tool_id] = (name, move)
        return tool_id
    return None


def release_tool_id(tool_id: int, name: str, events: Iterable[int], codes: Iterable[object] = ()) -> None:
    """Give up ``tool_id`` if it is still held under ``name``: events, callbacks, the id.

    ``free_tool_id`` leaves events and callbacks in place on 3.12 and 3.13, so the
    global events, the local events of ``codes`` and the callbacks of ``events``
    are cleared one by one. 3.14+ also has ``clear_tool_id`` (gh-116750), which
    reaches local events on code no longer listed (the tracer forgets its codes when
    its tables restart): without it, the next owner of the id gets their events.
    """
    monitoring = sys.monitoring
    if monitoring.get_tool(tool_id) != name:
        return
    monitoring.set_events(tool_id, 0)
    for code in codes:
        monitoring.set_local_events(tool_id, code, 0)
    for event in events:
        monitoring.register_callback(tool_id, event, None)
    clear = getattr(monitoring, "clear_tool_id", None)
    if clear is not None:
        clear(tool_id)
    monitoring.free_tool_id(tool_id)
    _held.pop(tool_id, None)


def held() -> dict[int, str]:
    """Ids AgentLog holds in this process, with the name each is held under."""
    return {tool_id: name for tool_id, (name, _move) in _held.items()
            if sys.monitoring.get_tool(tool_id) == name}


def _wrap_use_tool_id() -> Callable[[int, str], None]:
    """Install the yielding ``sys.monitoring.use_tool_id`` once; return the real one."""
    global _real_use_tool_id
    if _real_use_tool_id is None:
        real = sys.monitoring.use_tool_id
        _real_use_tool_id = real

        def use_tool_id(tool_id: int, name: str, /) -> Any:
            global _requested
            _requested = tool_id
            try:
                _make_room(tool_id)
                return real(tool_id, name)
            finally:
                _requested = None

        use_tool_id.__doc__ = real.__doc__
        use_tool_id.__qualname__ = use_tool_id.__name__ = "use_tool_id"
        sys.monitoring.use_tool_id = use_tool_id
    return _real_use_tool_id


def _make_room(tool_id: object) -> None:
    """The program asks for ``tool_id``: if AgentLog holds it, move off it first. Never raises."""
    try:
        holder = _held.pop(tool_id, None)
        if holder is None or sys.monitoring.get_tool(tool_id) != holder[0]:
            return
        holder[1]()
        moved = [i for i, name in held().items() if name == holder[0]]
        where = f"moved to id {moved[0]}" if moved else "no other id is free: that part records nothing"
        selflog.warn_once("tool-id-yielded", f"the program asked for sys.monitoring tool id {tool_id}, "
                          f"which {holder[0]} held; it was given up and {where}")
    except Exception as exc:  # noqa: BLE001 - the program's own call must still go through
        selflog.report("toolids.make_room", exc)
