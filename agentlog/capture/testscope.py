"""A failing test's call trail, scoped to that test.

Under pytest the trail of a thread holds every test that ran before, the class
bodies run at collection, and the ``__repr__`` calls pytest and unittest make
to build the assertion message after the test failed. Only the failing test's
own calls help: its setup (fixtures) and call, up to the failure.

A test that made more calls than the trail's window began before it: its item
(``pre``) comes after the calls it made, which are deeper than it. Those calls
are the test's own and are never scoped out.
"""

from __future__ import annotations

from typing import Any

REPORT_METHODS = ("__repr__", "__str__", "__format__")


def _key(trail: dict[str, Any], item: dict[str, Any]) -> tuple[str, str] | None:
    fns = trail.get("fn", [])
    index = item.get("c", -1)
    return (fns[index][0], fns[index][1]) if 0 <= index < len(fns) else None


def _subtree_end(calls: list[dict[str, Any]], start: int) -> int:
    depth = calls[start].get("d", 0)
    end = start + 1
    while end < len(calls) and calls[end].get("d", 0) > depth:
        end += 1
    return end


def scope_trail(trail: dict[str, Any], test: tuple[str, str] | None, tests: set[tuple[str, str]],
                phase: str) -> None:
    """Keep the failing test's calls: from its setup to the failing call, reporting calls removed.

    ``test`` is the failing test function's (qualname, file), ``tests`` those of every
    collected test. Removed calls are counted in ``trail["scoped"]``.
    """
    calls = trail.get("calls")
    if not isinstance(calls, list) or not calls:
        return
    top = min(item.get("d", 0) for item in calls)
    roots = [i for i, item in enumerate(calls) if item.get("d", 0) == top]
    raised = [i for i in roots if calls[i].get("end") == "exc"]
    failing = (raised or roots)[-1]
    own_left = 1 if phase == "teardown" else 0
    start = _own_start(calls, roots, failing)
    for i in reversed([r for r in roots if r < start]):
        key = _key(trail, calls[i])
        if key == test and own_left:
            own_left -= 1
        elif key in tests or key is None or key[0].startswith("class ") or key[0] == "<module>" \
                or calls[i].get("k") == "resume":
            break
        start = i
    end = _subtree_end(calls, failing)
    end = _without_report_calls(trail, calls, failing, end)
    kept = calls[start:end]
    if len(kept) != len(calls):
        trail["calls"] = kept
        trail["scoped"] = trail.get("scoped", 0) + len(calls) - len(kept)


def _own_start(calls: list[dict[str, Any]], roots: list[int], failing: int) -> int:
    """Where the failing root's own items begin: a root that began before the window (``pre``)
    owns the deeper items between the previous root and itself."""
    if not calls[failing].get("pre"):
        return failing
    return max((r + 1 for r in roots if r < failing), default=0)


def _without_report_calls(trail: dict[str, Any], calls: list[dict[str, Any]], root: int, end: int) -> int:
    """``end`` moved before the ``__repr__``/``__str__`` calls that close the failing call's subtree."""
    depth = calls[root].get("d", 0) + 1
    while True:
        children = [i for i in range(root + 1, end) if calls[i].get("d", 0) == depth]
        if not children:
            return end
        key = _key(trail, calls[children[-1]])
        if key is None or not key[0].endswith(REPORT_METHODS):
            return end
        end = children[-1]
