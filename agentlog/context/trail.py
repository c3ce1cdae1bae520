"""The call trail, other threads and ``@trace`` calls as compact text lines for an LLM.

Input is the ``trail`` / ``threads`` / ``traced`` fields of a failure record
(docs/FORMAT.md, "Call trail and profile records"). Lines run oldest first and
are indented by call depth; the context builder keeps the *last* lines when the
budget is short, so nothing essential is saved for a header.

A call reads ``validate_rating(confidence=1.5, threshold=0.7) [rating.py:3] -> True``
(``self`` only when its type is not the method's class; the line it returned
from when that is not the function's last line). Repetition is folded: a run of
equivalent sibling calls becomes one line that keeps what tells them apart,
the arguments that vary and their results, unusual ones first when they do
not all fit (``validate_rating(threshold=0.7) [rating.py:3] x5: (0.2)->False
(0.9)->True (1.5)->True ...``); a call that raised followed by the ``except``
that caught it becomes one line
(``ValueError raised in parse():12, handled in load():30``), and repeats of that
fold too (``(x3)``). A generator expression's or comprehension's own lines
(``<genexpr>() resumed, yielded 4``) are left out, the calls made inside it
shown under its caller; one that raised or was still running stays.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any, NamedTuple

from agentlog.context.values import type_label, value_text

INDENT = "  "
MAX_VALUES_SHOWN = 3  # distinct return values listed for a folded run
MAX_RECURSION_PERIOD = 4  # a -> b -> a -> b ... folds into one line from this many nested calls
MIN_RECURSION_REPEATS = 4
MAX_VALUE_CHARS = 60
MAX_ARG_CHARS = 40  # one argument value in a call line
MAX_PAIRS_SHOWN = 6  # distinct (arguments, result) pairs listed for a folded run
SELF_NAMES = ("self", "cls")
MAX_MOVES_SHOWN = 7  # values of an argument across a folded recursion: the first 6 and the last
EARLIER = "\x00earlier\x00"  # marks a call that began before the window until trail_lines words it


def duration_text(ns: int) -> str:
    """``850ns``, ``12us``, ``3.4ms``, ``1.20s``."""
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.0f}us"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.1f}ms"
    return f"{ns / 1_000_000_000:.2f}s"


def short_value(desc: dict[str, Any] | None) -> str:
    """A return-value summary: ``3``, ``True``, ``str[12]``, ``list[3]``, ``<Point>``."""
    if not desc:
        return "?"
    if "v" in desc and desc.get("t") in ("int", "float", "bool", "NoneType"):
        return str(desc["v"])
    if "l" in desc and "v" not in desc and "items" not in desc:
        return type_label(desc)
    if "v" in desc or "items" in desc or "map" in desc or "red" in desc:
        return value_text(desc, MAX_VALUE_CHARS)
    return f"<{desc.get('t', '?')}>"


class _Arg(NamedTuple):
    name: str
    text: str
    number: float | None  # for spotting a value outside the others' range


class _Pair:
    """One distinct (arguments, result) of a folded run, how often it occurred and when last."""

    __slots__ = ("args", "count", "last", "result")

    def __init__(self, args: tuple[_Arg, ...], result: str, seq: int) -> None:
        self.args, self.result, self.count, self.last = args, result, 1, seq

    def key(self) -> tuple[tuple[str, ...], str]:
        return tuple(a.text for a in self.args), self.result


class _Block:
    """A trail item with the items nested under it."""

    __slots__ = ("children", "count", "item", "ns", "order", "pairs")

    def __init__(self, item: dict[str, Any], order: int) -> None:
        self.item = item
        self.order = order  # position in the trail: later calls have larger numbers
        self.children: list[_Block] = []
        self.count = 1
        # A returned call without a duration was not timed (a sampled-out leaf call, a
        # generator expression): a folded run holding one has no true total.
        untimed = item.get("end") in ("ret", "yield") and not item.get("pre")
        self.ns: int | None = item.get("ns", None if untimed else 0)
        self.pairs: list[_Pair] = []


def _tree(calls: list[dict[str, Any]]) -> list[_Block]:
    """Items nested by depth. A call that began before the window (``pre``) comes at its end,
    after the calls it made: it takes the deeper items before it as its children."""
    roots: list[_Block] = []
    stack: list[tuple[int, _Block]] = []
    for order, item in enumerate(calls):
        block = _Block(item, order)
        depth = item.get("d", 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        siblings = stack[-1][1].children if stack else roots
        if item.get("pre"):
            while siblings and siblings[-1].item.get("d", 0) > depth:
                block.children.insert(0, siblings.pop())
        siblings.append(block)
        if "ev" not in item:
            stack.append((depth, block))
    return roots


COMPREHENSIONS = ("<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>")


def _without_comprehensions(blocks: list[_Block], fns: list[list[Any]]) -> list[_Block]:
    """``blocks`` with every finished generator expression's or comprehension's block replaced by its children."""
    out: list[_Block] = []
    for block in blocks:
        block.children = _without_comprehensions(block.children, fns)
        item, index = block.item, block.item.get("c", -1)
        if ("ev" not in item and item.get("end") in ("ret", "yield") and 0 <= index < len(fns)
                and str(fns[index][0]).endswith(COMPREHENSIONS)):
            out.extend(block.children)
        else:
            out.append(block)
    return out


class _Renderer:
    def __init__(self, trail: dict[str, Any]) -> None:
        self.fns: list[list[Any]] = trail.get("fn", [])
        self.seen: set[int] = set()

    def name(self, index: int, where: bool = True, args: str = "") -> str:
        """``qualname(args)``; the first mention also says where it is defined."""
        if not 0 <= index < len(self.fns):
            return f"?({args})"
        qualname, filename, line = self.fns[index][:3]
        text = qualname if qualname.startswith("class ") else f"{qualname}({args})"
        if where and index not in self.seen:
            self.seen.add(index)
            text += f" [{os.path.basename(filename)}:{line}]"
        return text

    def at(self, where: str) -> str:
        """``parse:12`` -> ``parse():12``."""
        name, _, line = where.rpartition(":")
        return f"{name}():{line}" if name else where

    def key(self, block: _Block) -> tuple[Any, ...]:
        item = block.item
        if "ev" in item:
            return ("ev", item["c"], item["e"], item["at"], item.get("ln"))
        return (
            item["c"],
            item.get("k"),
            item.get("end"),
            item.get("e"),
            item.get("ln") if item.get("end") == "exc" else None,
            item.get("pre"),
            tuple(self.key(child) for child in block.children),
        )

    def fold(self, blocks: list[_Block]) -> list[_Block]:
        """Merge raised-then-handled pairs, then runs of equivalent siblings."""
        merged: list[_Block] = []
        for block in blocks:
            block.children = self.fold(block.children)
            item = block.item
            if (
                "ev" in item
                and merged
                and merged[-1].item.get("end") == "exc"
                and merged[-1].item.get("e") == item["e"]
                and not merged[-1].children
            ):
                merged.pop()  # a leaf that raised: "raised in x(), handled in y()" says it all
            merged.append(block)
        out: list[_Block] = []
        for block in merged:
            if "ev" not in block.item:
                block.pairs.append(self.pair(block, block.order))
            if out and self.key(out[-1]) == self.key(block):
                self.absorb(out[-1], block)
                continue
            out.append(block)
        return out

    def absorb(self, into: _Block, other: _Block) -> None:
        """Fold ``other`` into the equivalent ``into``, children too (same shape, by key)."""
        into.count += other.count
        into.ns = None if into.ns is None or other.ns is None else into.ns + other.ns
        known = {p.key(): p for p in into.pairs}
        for pair in other.pairs:
            same = known.get(pair.key())
            if same is None:
                into.pairs.append(pair)
            else:
                same.count += pair.count
                same.last = max(same.last, pair.last)
        for mine, theirs in zip(into.children, other.children, strict=True):
            self.absorb(mine, theirs)

    def args(self, item: dict[str, Any]) -> tuple[_Arg, ...]:
        """The call's arguments as shown: ``self`` left out when it is an instance of the method's class."""
        out = []
        qualname = self.fns[item["c"]][0] if 0 <= item.get("c", -1) < len(self.fns) else ""
        owner = qualname.rpartition(".")[0].rpartition(".")[2]
        for pos, (name, desc) in enumerate((item.get("a") or {}).items()):
            if pos == 0 and name in SELF_NAMES and desc.get("t", "").rpartition(".")[2] in (owner, "type"):
                continue
            text = short_value(desc) if "v" in desc or "l" in desc else f"<{desc.get('t', '?')}>"
            if len(text) > MAX_ARG_CHARS:
                text = text[: MAX_ARG_CHARS - 1] + "…"
            out.append(_Arg(name, text, _number(desc)))
        return tuple(out)

    def pair(self, block: _Block, seq: int) -> _Pair:
        """The call's (arguments, result); the result names the line it returned from if not the last."""
        item = block.item
        result = short_value(item["r"]) if "r" in item else ""
        if result and item.get("end") == "ret" and item.get("ln") and item["ln"] != self.last_line(item["c"]):
            result += f" from line {item['ln']}"
        return _Pair(self.args(item), result, seq)

    def lines(self, blocks: list[_Block], depth: int = 0) -> list[str]:
        out: list[str] = []
        for block in blocks:
            period, repeats, rest = self.recursion(block)
            if repeats:
                out.append(INDENT * depth + self.recursion_line(rest[: period * repeats], period, repeats))
                block = rest[period * repeats - 1]
            else:
                out.append(INDENT * depth + self.line(block))
            out.extend(self.lines(block.children, depth + 1))
        return out

    def recursion_line(self, chain: list[_Block], period: int, repeats: int) -> str:
        """A folded recursion: the arguments all copies share, then how the others moved, outermost first."""
        copies = chain[::period]  # the cycle's first call in each repeat
        across = [b.pairs[0] for b in copies if b.pairs and b.pairs[0].args]
        cycle = " -> ".join(self.name(b.item["c"], where=False) for b in chain[:period])
        text = f"{self.line(chain[0], across)}; recursion: {cycle} x{repeats}"
        earlier = sum(1 for b in copies if b.item.get("pre"))
        if earlier:
            text += f" ({earlier} began before the window)"
        moved = {name: [next((a.text for a in p.args if a.name == name), "?") for p in across]
                 for name in _varying(across)}
        for n, (name, values) in enumerate(moved.items()):
            shown = values if len(values) <= MAX_MOVES_SHOWN else [*values[: MAX_MOVES_SHOWN - 1], "…", values[-1]]
            text += f"; {'in the window ' if earlier and n == 0 else ''}{name}: {', '.join(shown)}"
        return text

    def recursion(self, block: _Block) -> tuple[int, int, list[_Block]]:
        """(period, repeats, chain) when ``block`` starts a chain of nested calls repeating a 1-4 call cycle.

        Calls that raised at another line (the innermost ``raise``) are not copies.
        """
        chain = [block]
        while len(chain[-1].children) == 1 and "ev" not in chain[-1].children[0].item:
            chain.append(chain[-1].children[0])
        shallow = [(b.item.get("c"), b.item.get("end"), b.item.get("e"), b.count,
                    b.item.get("ln") if b.item.get("end") == "exc" else None) for b in chain]
        for period in range(1, MAX_RECURSION_PERIOD + 1):
            repeats = 1
            while shallow[repeats * period : (repeats + 1) * period] == shallow[:period]:
                repeats += 1
            if repeats >= MIN_RECURSION_REPEATS:
                return period, repeats, chain
        return 0, 0, chain

    def line(self, block: _Block, across: list[_Pair] | None = None) -> str:
        """One call line; ``across``: a folded recursion's copies, whose shared arguments the line shows."""
        item = block.item
        times = f" x{block.count}" if block.count > 1 else ""
        if "ev" in item:
            text = (
                f"{item['e']} raised in {self.at(item['at'])}, "
                f"handled in {self.name(item['c'], where=False)}:{item.get('ln', '?')}"
            )
            return text + (f" (x{block.count})" if block.count > 1 else "")
        pairs = block.pairs or [_Pair((), "", 0)]
        shared = across or pairs
        header = ", ".join(a.name if a.name in _varying(shared) else f"{a.name}={a.text}" for a in _arg_union(shared))
        varying = _varying(pairs) if across is None else []
        text = self.name(item["c"], args=header) + times
        if item.get("pre"):
            text += EARLIER
        if item.get("k") == "resume":
            text += " resumed"
        elif item.get("k") == "throw":
            text += " resumed by throw()"
        end = item.get("end")
        listing = _listing(pairs, varying, arrow=end in ("ret", "yield")) if varying else ""
        if end == "ret" and text.startswith("class "):
            text += ", ran"  # a class statement's body: its "return value" means nothing
        elif end == "ret":
            text += f": {listing}" if listing else " -> " + _results_text(pairs)
        elif end == "yield":
            text += f": {listing}" if listing else ", yielded " + _results_text(pairs)
        elif end == "exc":
            text += (f": {listing}" if listing else "") + f", raised {item.get('e', '?')} at line {item.get('ln', '?')}"
        else:
            text += (f": {listing}" if listing else "") + ", still running"
        if block.ns:
            total = " total" if block.count > 1 else ""
            text += f" ({duration_text(block.ns)}{total})"
        return text

    def last_line(self, index: int) -> int | None:
        fn = self.fns[index] if 0 <= index < len(self.fns) else []
        return fn[3] if len(fn) > 3 else None


def _number(desc: dict[str, Any]) -> float | None:
    """An int or float argument's value (None for anything else)."""
    if desc.get("t") not in ("int", "float") or "red" in desc:
        return None
    try:
        return float(desc["v"])
    except (KeyError, ValueError):
        return None


def _arg_union(pairs: list[_Pair]) -> list[_Arg]:
    """Every argument name the pairs have, in order (the first pair's value for each)."""
    seen: dict[str, _Arg] = {}
    for pair in pairs:
        for arg in pair.args:
            seen.setdefault(arg.name, arg)
    return list(seen.values())


def _varying(pairs: list[_Pair]) -> list[str]:
    """Names of the arguments whose value differs between the pairs."""
    union = _arg_union(pairs)
    values = [{a.name: a.text for a in p.args} for p in pairs]
    return [a.name for a in union if len({v.get(a.name) for v in values}) > 1]


def _unusual_first(pairs: list[_Pair], varying: list[str]) -> list[_Pair]:
    """Pairs ordered for a cut list: minority results, extreme argument values, the last call, then the rest."""
    results = Counter[str]()
    for pair in pairs:
        results[pair.result] += pair.count
    majority = results.most_common(1)[0][0]
    picks = [p for p in pairs if p.result != majority]
    for name in varying:
        numbered = [(a.number, p) for p in pairs for a in p.args if a.name == name and a.number is not None]
        if len(numbered) >= 3:
            picks += [min(numbered, key=lambda n: n[0])[1], max(numbered, key=lambda n: n[0])[1]]
    picks.append(max(pairs, key=lambda p: p.last))
    ordered: dict[int, _Pair] = {}
    for pair in [*picks, *pairs]:
        ordered.setdefault(id(pair), pair)
    return list(ordered.values())


def _listing(pairs: list[_Pair], varying: list[str], arrow: bool) -> str:
    """``(0.2)->True (1.5)->True x3 … +4 more``: the varying arguments of each distinct pair."""
    chosen = pairs if len(pairs) <= MAX_PAIRS_SHOWN else _unusual_first(pairs, varying)[:MAX_PAIRS_SHOWN]
    parts = []
    for pair in chosen:
        values = {a.name: a.text for a in pair.args}
        text = "(" + ", ".join(values.get(name, "?") for name in varying) + ")"
        if arrow and pair.result:
            text += "->" + pair.result
        parts.append(text + (f" x{pair.count}" if pair.count > 1 else ""))
    more = len(pairs) - len(chosen)
    return " ".join(parts) + (f" … +{more} more" if more else "")


def _results_text(pairs: list[_Pair]) -> str:
    """``True``, or ``0 | 1 | 2 | … (5 distinct)`` when the results differ."""
    values = list(dict.fromkeys(p.result for p in pairs if p.result)) or ["?"]
    if len(values) <= MAX_VALUES_SHOWN:
        return " | ".join(values)
    shown = " | ".join(values[:MAX_VALUES_SHOWN])
    return f"{shown} | … ({len(values)} distinct)"


def returned_call(line: str) -> bool:
    """True for a trail line (from :func:`trail_lines`) of a call, or folded calls, that returned."""
    head = line.partition("; recursion: ")[0]
    return " -> " in head or ")->" in head


def trail_lines(trail: dict[str, Any]) -> list[str]:
    """Compact lines for a ``trail`` field, oldest first, indented by depth."""
    calls = trail.get("calls") or []
    if not calls:
        return []
    renderer = _Renderer(trail)
    lines = renderer.lines(renderer.fold(_without_comprehensions(_tree(calls), renderer.fns)))
    earlier = [i for i, line in enumerate(lines) if EARLIER in line]
    # The calls running when the window began enclose the rest: the first lines. Said once.
    count = f"{len(earlier)} call lines" if len(earlier) > 1 else "call line"
    note = f"the first {count} below began before the window"
    leading = earlier == list(range(len(earlier)))
    lines = [line.replace(EARLIER, "" if leading else " (began before the window)") for line in lines]
    dropped = trail.get("dropped", 0)
    notes = [f"{dropped} older events were overwritten in the ring buffer"] if dropped else []
    notes += [note] if earlier and leading else []
    if notes:
        lines.insert(0, f"({'; '.join(notes)})")
    # The count line earns its place when handled exceptions are scattered over several lines.
    summary = _handled_summary(renderer, calls) if sum("handled in" in line for line in lines) > 1 else None
    return [*lines, summary] if summary else lines


def _handled_summary(renderer: _Renderer, calls: list[dict[str, Any]]) -> str | None:
    """One line counting the exceptions swallowed before the failure, by type and handler."""
    counts = Counter((c["e"], c["c"]) for c in calls if c.get("ev") == "handled")
    if not counts:
        return None
    parts = [f"{e} x{n} in {renderer.name(c, where=False)}" for (e, c), n in counts.most_common(MAX_VALUES_SHOWN)]
    more = len(counts) - MAX_VALUES_SHOWN
    return "raised and handled before the failure: " + ", ".join(parts) + (f", +{more} more" if more > 0 else "")


def threads_lines(threads: list[dict[str, Any]]) -> list[str]:
    """One line per other thread: name, current user function, depth, events."""
    lines = []
    for thread in threads or []:
        where = f"in {thread['fn']}()" if thread.get("fn") else "no user function running"
        lines.append(
            f"thread {thread.get('th', '?')!r} (tid {thread.get('tid')}): {where}, "
            f"depth {thread.get('d', 0)}, {thread.get('events', 0)} events"
        )
    return lines


def _call_line(name: str, call: dict[str, Any]) -> str:
    args = ", ".join(f"{arg}={value_text(desc, MAX_VALUE_CHARS)}" for arg, desc in (call.get("args") or {}).items())
    text = f"#{call.get('n', '?')} {name}({args})"
    if "exc" in call:
        exc = call["exc"]
        # An exception's preview already reads "Type: message".
        text += f" raised {value_text(exc, MAX_VALUE_CHARS * 2) if exc.get('v') else exc.get('t', '?')}"
    elif "r" in call:
        text += f" -> {type_label(call['r'])} {value_text(call['r'], MAX_VALUE_CHARS)}"
    if "ns" in call:
        text += f" ({duration_text(call['ns'])})"
    return text


def traced_lines(traced: list[dict[str, Any]]) -> list[str]:
    """The recorded calls of ``@agentlog.trace`` functions, oldest first per function."""
    lines = []
    for fn in traced or []:
        calls = fn.get("calls", [])
        lines.append(
            f"{fn.get('f', '?')}() [{os.path.basename(fn.get('file', '?'))}:{fn.get('ln', '?')}]: "
            f"{fn.get('n', len(calls))} calls, last {len(calls)}:"
        )
        lines.extend(INDENT + _call_line(fn.get("f", "?"), call) for call in calls)
    return lines
