"""The call trail, other threads and ``@trace`` calls as compact text lines for an LLM.

Input is the ``trail`` / ``threads`` / ``traced`` fields of a failure record
(docs/FORMAT.md, "Call trail and profile records"). Lines run oldest first and
are indented by call depth; the context builder keeps the *last* lines when the
budget is short, so nothing essential is saved for a header.

Repetition is folded: a run of identical sibling calls becomes one line
(``validate() x120, returned True``); a call that raised followed by the
``except`` that caught it becomes one line
(``ValueError raised in parse():12, handled in load():30``), and repeats of that
fold too (``(x3)``).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from agentlog.context.values import type_label, value_text

INDENT = "  "
MAX_VALUES_SHOWN = 3  # distinct return values listed for a folded run
MAX_RECURSION_PERIOD = 4  # a -> b -> a -> b ... folds into one line from this many nested calls
MIN_RECURSION_REPEATS = 4
MAX_VALUE_CHARS = 60


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
    if "l" in desc and "v" not in desc:
        return type_label(desc)
    if "v" in desc or "items" in desc or "map" in desc or "red" in desc:
        return value_text(desc, MAX_VALUE_CHARS)
    return f"<{desc.get('t', '?')}>"


class _Block:
    """A trail item with the items nested under it."""

    __slots__ = ("children", "count", "item", "ns", "values")

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item
        self.children: list[_Block] = []
        self.count = 1
        self.ns = item.get("ns", 0)
        self.values: list[str] = []


def _tree(calls: list[dict[str, Any]]) -> list[_Block]:
    roots: list[_Block] = []
    stack: list[tuple[int, _Block]] = []
    for item in calls:
        block = _Block(item)
        depth = item.get("d", 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(block)
        if "ev" not in item:
            stack.append((depth, block))
    return roots


class _Renderer:
    def __init__(self, trail: dict[str, Any]) -> None:
        self.fns: list[list[Any]] = trail.get("fn", [])
        self.seen: set[int] = set()

    def name(self, index: int, where: bool = True) -> str:
        """``qualname()``; the first mention also says where it is defined."""
        if not 0 <= index < len(self.fns):
            return "?()"
        qualname, filename, line = self.fns[index][:3]
        text = qualname if qualname.startswith("class ") else f"{qualname}()"
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
            value = self.value(block)
            if value:
                block.values.append(value)
            if out and self.key(out[-1]) == self.key(block):
                self.absorb(out[-1], block)
                continue
            out.append(block)
        return out

    def absorb(self, into: _Block, other: _Block) -> None:
        """Fold ``other`` into the equivalent ``into``, children too (same shape, by key)."""
        into.count += other.count
        into.ns += other.ns
        into.values += [v for v in other.values if v not in into.values]
        for mine, theirs in zip(into.children, other.children, strict=True):
            self.absorb(mine, theirs)

    def value(self, block: _Block) -> str:
        item = block.item
        return short_value(item["r"]) if "r" in item else ""

    def lines(self, blocks: list[_Block], depth: int = 0) -> list[str]:
        out: list[str] = []
        for block in blocks:
            period, repeats, rest = self.recursion(block)
            if repeats:
                cycle = " -> ".join(self.name(b.item["c"], where=False) for b in rest[:period])
                out.append(INDENT * depth + f"{self.line(block)}; recursion: {cycle} x{repeats}")
                block = rest[period * repeats - 1]
            else:
                out.append(INDENT * depth + self.line(block))
            out.extend(self.lines(block.children, depth + 1))
        return out

    def recursion(self, block: _Block) -> tuple[int, int, list[_Block]]:
        """(period, repeats, chain) when ``block`` starts a chain of nested calls repeating a 1-4 call cycle."""
        chain = [block]
        while len(chain[-1].children) == 1 and "ev" not in chain[-1].children[0].item:
            chain.append(chain[-1].children[0])
        shallow = [(b.item.get("c"), b.item.get("end"), b.item.get("e"), b.count) for b in chain]
        for period in range(1, MAX_RECURSION_PERIOD + 1):
            repeats = 1
            while shallow[repeats * period : (repeats + 1) * period] == shallow[:period]:
                repeats += 1
            if repeats >= MIN_RECURSION_REPEATS:
                return period, repeats, chain
        return 0, 0, chain

    def line(self, block: _Block) -> str:
        item = block.item
        times = f" x{block.count}" if block.count > 1 else ""
        if "ev" in item:
            text = (
                f"{item['e']} raised in {self.at(item['at'])}, "
                f"handled in {self.name(item['c'], where=False)}:{item.get('ln', '?')}"
            )
            return text + (f" (x{block.count})" if block.count > 1 else "")
        text = self.name(item["c"]) + times
        if item.get("pre"):
            text += " (started earlier)"
        if item.get("k") == "resume":
            text += " resumed"
        elif item.get("k") == "throw":
            text += " resumed by throw()"
        end = item.get("end")
        if end == "ret" and text.startswith("class "):
            text += ", ran"  # a class statement's body: its "return value" means nothing
        elif end == "ret":
            text += ", returned " + self.values_text(block)
        elif end == "yield":
            text += ", yielded " + self.values_text(block)
        elif end == "exc":
            text += f", raised {item.get('e', '?')} at line {item.get('ln', '?')}"
        else:
            text += ", still running"
        if block.ns:
            total = " total" if block.count > 1 else ""
            text += f" ({duration_text(block.ns)}{total})"
        return text

    def values_text(self, block: _Block) -> str:
        values = block.values or ["?"]
        if len(values) <= MAX_VALUES_SHOWN:
            return " | ".join(values)
        shown = " | ".join(values[:MAX_VALUES_SHOWN])
        return f"{shown} | … ({len(values)} distinct)"


def trail_lines(trail: dict[str, Any]) -> list[str]:
    """Compact lines for a ``trail`` field, oldest first, indented by depth."""
    calls = trail.get("calls") or []
    if not calls:
        return []
    renderer = _Renderer(trail)
    lines = []
    dropped = trail.get("dropped", 0)
    if dropped:
        lines.append(f"({dropped} older events were overwritten in the ring buffer)")
    lines += renderer.lines(renderer.fold(_tree(calls)))
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
