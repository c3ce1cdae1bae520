"""Which source lines make up the statement a frame is executing, found with ``ast``.

A failing line is often one line of a longer statement (a call whose arguments
span lines, a multi-line ``assert``, an ``if`` whose condition wraps): the
whole statement is what explains the failure. Only a compound statement's
header is its statement (``if cond:`` without its body), and a decorator line
belongs to its ``def``/``class`` header.

Bounds: files over :data:`MAX_PARSE_CHARS` characters are not parsed (the
failing line alone is used); parsed files are cached (:data:`MAX_CACHED_FILES`,
keyed by name and a hash of the text, so an edited file is parsed again).
"""

from __future__ import annotations

import ast
import linecache
from collections.abc import Iterator
from typing import Any, NamedTuple

MAX_PARSE_CHARS = 500_000
MAX_CACHED_FILES = 16
_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


class Layout(NamedTuple):
    """A parsed file: each statement's (first, last) line, and the lines that are docstrings."""

    spans: list[tuple[int, int]]
    docstrings: frozenset[int]


_cache: dict[tuple[str, int], Layout | None] = {}


def _header_end(node: ast.AST, first: int) -> int:
    """The last line of a compound statement's header: its own expressions, not its body."""
    end = max(first, getattr(node, "lineno", first))
    for field, value in ast.iter_fields(node):
        if field in _STATEMENT_LISTS:
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):  # ``arguments`` has no position: its parts do
                end = max([end, *(getattr(n, "end_lineno", None) or end for n in ast.walk(child))])
    return end


def _is_docstring(body: list[ast.stmt]) -> bool:
    first = body[0] if body else None
    return (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str))


def _statements(body: list[Any]) -> Iterator[Any]:
    """Every statement (and ``except``/``case`` clause) under ``body``, through statement lists only."""
    for node in body:
        yield node
        for name in _STATEMENT_LISTS:
            inner = getattr(node, name, None)
            if isinstance(inner, list):
                yield from _statements(inner)


def _layout(tree: ast.Module) -> Layout:
    spans: list[tuple[int, int]] = []
    docstrings: set[int] = set()
    if _is_docstring(tree.body):
        docstrings.update(range(tree.body[0].lineno, (tree.body[0].end_lineno or tree.body[0].lineno) + 1))
    for node in _statements(tree.body):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and _is_docstring(node.body):
            doc = node.body[0]
            docstrings.update(range(doc.lineno, (doc.end_lineno or doc.lineno) + 1))
        first = node.pattern.lineno if isinstance(node, ast.match_case) else node.lineno
        decorators = getattr(node, "decorator_list", None) or []
        first = min([first, *(d.lineno for d in decorators)])
        if any(isinstance(getattr(node, name, None), list) and getattr(node, name) for name in _STATEMENT_LISTS):
            last = _header_end(node, first)
        else:
            last = getattr(node, "end_lineno", None) or first
        spans.append((first, last))
    return Layout(spans, frozenset(docstrings))


def file_layout(filename: str, module_globals: dict[str, Any] | None = None) -> Layout | None:
    """The file's :class:`Layout`, or None (no source, too large, not valid Python)."""
    lines = linecache.getlines(filename, module_globals)
    if not lines:
        return None
    source = "".join(lines)
    if len(source) > MAX_PARSE_CHARS:
        return None
    key = (filename, hash(source))
    if key in _cache:
        return _cache[key]
    try:
        layout: Layout | None = _layout(ast.parse(source))
    except Exception:  # noqa: BLE001 - not Python, too deep, odd source: the failing line alone is shown
        layout = None
    if len(_cache) >= MAX_CACHED_FILES:
        _cache.pop(next(iter(_cache)))
    _cache[key] = layout
    return layout


def statement_span(layout: Layout, lineno: int) -> tuple[int, int]:
    """(first, last) line of the innermost statement containing ``lineno``; (lineno, lineno) if none."""
    best = (lineno, lineno)
    size = None
    for first, last in layout.spans:
        if first <= lineno <= last and (size is None or last - first < size):
            best, size = (first, last), last - first
    return best
