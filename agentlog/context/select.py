"""Fitting ranked lines into a token budget, the same way at every budget.

A context is a list of :class:`Block` (a frame, the call trail, the session),
each a list of :class:`Line` with a rank (lower is kept first) and the lines it
cannot be shown without (its section's title, the calls it happened in). Lines
are taken in one global rank order, each with its dependencies, for as long as
the whole fits; the selection for a budget is the longest such prefix, and the
line that comes next is kept cut (``…``) to the room that is left when its
dependencies fit and a useful part of it does. A larger budget therefore never
drops a line a smaller one kept (a cut line only grows), and a title never
appears without a line under it.

Where lines of a section were left out, a marker at their indentation says how
many (``    … 4 more lines``); silent lines (source around the failing line) go
without one. Sections left out entirely are named on the last line.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import NamedTuple

from agentlog.context.tokencount import count_tokens, document_base, line_tokens, truncate_to_tokens
from agentlog.core.textsafe import escape_controls

NOTE_RESERVE_TOKENS = 16  # kept free for the line naming what the budget left out
NOTE_RESERVE_FROM = 72  # budgets below this keep nothing free for it
MIN_CUT_TOKENS = 5  # the next line is kept cut only if at least this much of it fits
CUT_FROM = 72  # and only from this budget: below it, whole lines say more
CUT_MARKER = "…"


class Line(NamedTuple):
    """One line of text; ``deps`` index the lines of the same section it needs."""

    text: str
    rank: float
    deps: tuple[int, ...] = ()
    silent: bool = False  # leaving it out needs no marker (source around the failing line)
    alone: bool = True  # False: a title, shown only with a line that needs it


@dataclasses.dataclass
class Block:
    """Candidate lines printed together, at ``order`` in the document."""

    order: float
    lines: list[Line]
    label: str = ""  # what it is, for the line naming what the budget left out
    # The document part, for per-agent layouts (context/formats.py), in document order:
    # "failure" (the newest: header, exception, frames, chained exceptions), "trail", "session",
    # "older" (older failures), "note" (what the budget left out).
    part: str = "failure"
    count: int = 1  # how many of ``label`` it holds (a run of library frames is one line)


@dataclasses.dataclass
class Section:
    """A block as it is printed: its part, what it is, its chosen lines and cut markers."""

    part: str
    label: str
    lines: list[str]


def clean(text: str) -> str:
    """One line of context: control, bidi and format characters shown, not sent (``core/textsafe.py``);
    line breaks too, so recorded text (a message, a thread name, a path) cannot start a line of its
    own and forge a "FAILURE" or section line."""
    return escape_controls(text, keep="\t")


def _cost(text: str) -> float:
    """A line's share of the document's estimate (tokencount: the parts add up to the whole)."""
    return line_tokens(text + "\n")


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" "))]


def render_block(section: Block, chosen: set[int]) -> list[str]:
    """The chosen lines in order, a marker where non-silent lines were left out."""
    out: list[str] = []
    gap: list[str] = []
    for i, line in enumerate(section.lines):
        if i in chosen:
            if gap:
                out.append(_marker(gap))
                gap = []
            out.append(clean(line.text))
        elif not line.silent:
            gap.append(line.text)
    if gap and out:
        out.append(_marker(gap))
    return out


def _marker(gap: list[str]) -> str:
    indent = min((_indent(text) for text in gap), key=len)
    return f"{indent}… {len(gap)} more line{'s' if len(gap) > 1 else ''}"


def _left_out_line(labels: list[str], above: str, max_tokens: int) -> str:
    """``(left out to fit the budget: 3 frames, call trail, git)``, fitting under the text ``above``
    within ``max_tokens``, whole items only (the last ones become ``…``); "" if nothing named was left
    out or nothing fits."""
    counts = Counter(label for label in labels if label)
    parts = [f"{n} {label}s" if n > 1 else label for label, n in counts.items()]
    for keep in range(len(parts), 0, -1):
        line = f"(left out to fit the budget: {', '.join(parts[:keep] + ['…'] * (keep < len(parts)))})"
        if count_tokens(f"{above}{line}\n") <= max_tokens:
            return line
    return ""


class Selection(NamedTuple):
    """What a budget keeps: per section, the indexes of its chosen lines."""

    sections: list[Block]
    chosen: list[set[int]]

    def left_out(self) -> list[str]:
        return [s.label for s, c in zip(self.sections, self.chosen, strict=True) if not c for _ in range(s.count)]


def _content_budget(max_tokens: int) -> int:
    """Tokens for lines: non-decreasing in ``max_tokens``, with room for the left-out line."""
    return max_tokens - min(NOTE_RESERVE_TOKENS, max(0, max_tokens - NOTE_RESERVE_FROM))


def select(sections: list[Block], max_tokens: int) -> Selection:
    """The longest prefix of the global rank order (with dependencies) that fits, then the next line cut."""
    budget = _content_budget(max_tokens) - document_base()
    order = sorted(
        (line.rank, s.order, i, n) for n, s in enumerate(sections) for i, line in enumerate(s.lines) if line.alone
    )
    chosen: list[set[int]] = [set() for _ in sections]
    costs = [[_cost(clean(line.text)) for line in s.lines] for s in sections]
    section_cost = [0] * len(sections)
    total, lines_cost, best = 0.0, 0.0, 0
    for step, (_, _, i, n) in enumerate(order, start=1):
        section = sections[n]
        new = [j for j in (*section.lines[i].deps, i) if j not in chosen[n]]
        if not new:
            best = step if total <= budget else best
            continue
        chosen[n].update(new)
        lines_cost += sum(costs[n][j] for j in new)
        if lines_cost > budget:
            break  # lines alone no longer fit: no longer prefix can
        total -= section_cost[n]
        section_cost[n] = _section_cost(section, chosen[n], costs[n])
        total += section_cost[n]
        if total <= budget:
            best = step
    selection = _replay(sections, order[:best])
    if best == len(order) or max_tokens < CUT_FROM:
        return selection
    return _with_cut(selection, order[best:best + 1], budget, costs)


def _section_cost(section: Block, chosen: set[int], costs: list[int]) -> int:
    total, gap = 0, []
    for i, line in enumerate(section.lines):
        if i in chosen:
            if gap:
                total, gap = total + _cost(_marker(gap)), []
            total += costs[i]
        elif not line.silent:
            gap.append(line.text)
    return total + (_cost(_marker(gap)) if gap and chosen else 0)


def _selection_cost(selection: Selection, costs: list[list[float]]) -> float:
    return sum(_section_cost(s, c, k) for s, c, k in zip(selection.sections, selection.chosen, costs, strict=True))


def _with_cut(selection: Selection, step: list[tuple[float, float, int, int]], budget: float,
              costs: list[list[float]]) -> Selection:
    """``selection`` plus as much as fits of the next line of the order (``step``) and the lines it needs.

    They come in order (dependencies first), whole while they fit; the first that does not
    is cut to the room left and ends the group, which must end on a line that may stand
    alone (a title needs a line under it: then the title is cut and that line gets a short
    cut). As the room grows, lines are added and cuts only grow.
    """
    _, _, i, n = step[0]
    section = selection.sections[n]
    new = [j for j in (*section.lines[i].deps, i) if j not in selection.chosen[n]]
    if not new or not section.lines[new[-1]].alone:
        return selection
    others = _selection_cost(selection, costs) - _section_cost(section, selection.chosen[n], costs[n])
    texts = {j: clean(section.lines[j].text) for j in new}

    def room(shown: list[int], free: list[int]) -> float:
        """What the lines in ``free`` may cost together when ``shown`` are added."""
        zero = [0.0 if j in free else c for j, c in enumerate(costs[n])]
        return budget - others - _section_cost(section, selection.chosen[n] | set(shown), zero)

    for k in range(len(new), 0, -1):  # the longest run of the group that fits, its last line cut
        last = new[k - 1]
        if not section.lines[last].alone:
            continue
        titled = k >= 2 and not section.lines[new[k - 2]].alone
        # Under a title the line keeps at least a short cut, the title is cut first.
        shortest = _cut_to(texts[last], MIN_CUT_TOKENS + 3) if titled else None
        cut = _cut_to(texts[last], room(new[:k], [last]))
        if cut is not None and (shortest is None or len(cut) >= len(shortest)):
            return _replaced(selection, n, new[:k], {last: cut})
        if shortest is not None:
            title = _cut_to(texts[new[k - 2]], room(new[:k], new[k - 2 : k]) - _cost(shortest))
            if title is not None:
                return _replaced(selection, n, new[:k], {new[k - 2]: title, last: shortest})
    return selection


def _replaced(selection: Selection, n: int, shown: list[int], cuts: dict[int, str]) -> Selection:
    """``selection`` with lines ``shown`` of section ``n`` added, those in ``cuts`` with the cut text."""
    section = selection.sections[n]
    chosen = [set(c) for c in selection.chosen]
    chosen[n].update(shown)
    lines = [line._replace(text=cuts[j]) if j in cuts else line for j, line in enumerate(section.lines)]
    sections = list(selection.sections)
    sections[n] = dataclasses.replace(section, lines=lines)
    return Selection(sections, chosen)


def _cut_to(text: str, room: float) -> str | None:
    """The longest prefix of ``text`` plus the marker whose line costs at most ``room``, if it keeps
    at least :data:`MIN_CUT_TOKENS` of the text. (A prefix's cost grows with its length, and the
    marker adds the same to any: so the search is on the prefix alone.)"""
    room -= _cost(CUT_MARKER) - _cost("")
    lo, hi, best = 1, len(text) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if _cost(text[:mid]) <= room:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    if best is None or _cost(text[:best]) < MIN_CUT_TOKENS:
        return None
    return text[:best].rstrip(" ") + CUT_MARKER


def _replay(sections: list[Block], prefix: list[tuple[float, float, int, int]]) -> Selection:
    chosen: list[set[int]] = [set() for _ in sections]
    for _, _, i, n in prefix:
        chosen[n].update((*sections[n].lines[i].deps, i))
    return Selection(sections, chosen)


def printed(selection: Selection, max_tokens: int) -> list[Section]:
    """The chosen blocks in document order, then the left-out line (part ``note``) if it fits."""
    pairs = sorted(zip(selection.sections, selection.chosen, strict=True), key=lambda p: p[0].order)
    out = [Section(block.part, block.label, render_block(block, chosen)) for block, chosen in pairs if chosen]
    if not out:
        # Not even the first line fits: a cut headline still says what failed.
        first = min(((line.rank, b.order, line.text, b) for b in selection.sections for line in b.lines),
                    default=None, key=lambda item: item[:2])
        cut = truncate_to_tokens(clean(first[2]), max_tokens - 1) if first else ""
        return [Section(first[3].part, first[3].label, [cut])] if cut else []
    note = _left_out_line(selection.left_out(), text(out), max_tokens)
    out += [Section("note", "", [note])] if note else []
    return out


def text(sections: list[Section]) -> str:
    """Printed sections as plain text, one line after another."""
    return "".join(line + "\n" for section in sections for line in section.lines)


def without_silent(block: Block) -> Block:
    """``block`` without its silent lines (for terse layouts), dependencies renumbered."""
    keep = [i for i, line in enumerate(block.lines) if not line.silent]
    index = {old: new for new, old in enumerate(keep)}
    lines = [block.lines[i]._replace(deps=tuple(index[d] for d in block.lines[i].deps if d in index)) for i in keep]
    return dataclasses.replace(block, lines=lines)
