"""Which call-trail lines a tight budget keeps first.

The trail (``trail.trail_lines``) is a tree written oldest first, indented by
depth. The failing path is the newest call that raised or is still running and the
calls it is nested in. Kept
first: the call whose result flowed into the failure (the newest finished call
under the innermost failing call, else the one just before it); then the
failing path; then the other children of calls on that path, newest first;
then everything else, shallow levels before deeper ones and newer siblings
before older ones. Every line comes with the call it is nested in (which comes
with its own, by rank, if the budget allows; a marker stands for the calls left
out), so a tight budget takes the trail a line or two at a time.
"""

from __future__ import annotations

from agentlog.context.select import Line
from agentlog.context.trail import returned_call

INDENT_WIDTH = 2


def _depth(text: str) -> int:
    return (len(text) - len(text.lstrip(" "))) // INDENT_WIDTH


def _is_call(text: str) -> bool:
    """Call lines, not the notes the trail starts or ends with (dropped events, handled summary)."""
    return not text.startswith(("(", "raised and handled before the failure"))


def _parents(lines: list[str]) -> list[int | None]:
    parents: list[int | None] = []
    stack: list[int] = []
    for i, text in enumerate(lines):
        if not _is_call(text):
            parents.append(None)
            continue
        depth = _depth(text)
        while stack and _depth(lines[stack[-1]]) >= depth:
            stack.pop()
        parents.append(stack[-1] if stack else None)
        stack.append(i)
    return parents


def trail_section_lines(title: str, lines: list[str], ranks: tuple[float, float, float, float]) -> list[Line]:
    """``title`` then ``lines`` as ranked :class:`Line` s.

    ``ranks``: (flowed-in call, failing path, children of the path, the rest).
    """
    key, path_rank, child_rank, rest_rank = ranks
    parents = _parents(lines)
    calls = [i for i, text in enumerate(lines) if _is_call(text)]
    path: list[int] = []
    failing = [i for i in calls if ", raised " in lines[i] or ", still running" in lines[i]]
    node = (failing or calls or [None])[-1]
    while node is not None:
        path.append(node)
        node = parents[node]
    on_path = set(path)
    flowed = _flowed_in(path, parents, lines)
    n = len(lines) or 1
    out = [Line(title, rest_rank + 1, alone=False)]
    for i, text in enumerate(lines):
        parent = () if parents[i] is None else (parents[i] + 1,)
        recency = (n - i) / (n * 100)  # newer lines first within a rank
        if i == flowed:
            rank = key
        elif i in on_path:
            rank = path_rank + recency
        elif parents[i] in on_path and parents[i] is not None:
            rank = child_rank + recency
        elif not _is_call(text):
            rank = rest_rank + 0.9
        else:
            rank = rest_rank + _depth(text) / 10 + recency
        out.append(Line(text, rank, (0, *parent), silent=False))
    return out


def _flowed_in(path: list[int], parents: list[int | None], lines: list[str]) -> int | None:
    """The newest call that finished under the innermost failing call, else its newest earlier sibling.

    Not a class body, a resumed generator (a fixture's teardown) or a sibling that ran after
    the failing call raised (a ``finally:`` clean-up).
    """
    if not path:
        return None
    inner = path[0]
    for parent, end in ((inner, len(lines)), (parents[inner], inner)):
        if parent is None:
            continue
        for i in range(end - 1, parent, -1):
            text = lines[i].lstrip(" ")
            if parents[i] == parent and i != inner and returned_call(lines[i]) \
                    and not text.startswith("class ") and ") resumed" not in text:
                return i
    return None
