"""Exceptions and their tracebacks as bounded, redacted dicts.

User frames (not stdlib, not site-packages, not AgentLog) keep their source
and locals; other frames keep only file, line and function. Chains
(``__cause__``, ``__context__``, exception groups, ``__notes__``) are followed
to a fixed depth, and runs of repeated frames (recursion) are collapsed.
"""

from __future__ import annotations

import dataclasses
import linecache
import re
import sys
from collections.abc import Iterator
from types import FrameType, MethodType, TracebackType
from typing import Any

from agentlog.capture.codepaths import is_agentlog_frame, is_user_file
from agentlog.capture.describe import MORE_KEY, Describer, type_name
from agentlog.capture.statements import file_layout, statement_span
from agentlog.core.redact import REDACT_SLACK_CHARS, is_secret_name, redact_head, redact_lines

SOURCE_CONTEXT_LINES = 2  # lines shown before and after the failing statement
MAX_SOURCE_LINE_CHARS = 200
MAX_STATEMENT_LINES = 12  # a longer failing statement is shown in a window around the failing line
MAX_STATEMENT_CHARS = 1500
MAX_MESSAGE_CHARS = 2000
MAX_CHAIN_DEPTH = 5
MAX_GROUP_MEMBERS = 10
MAX_NOTES = 10
MAX_REPEAT_PERIOD = 4
MIN_REPEATS_TO_COLLAPSE = 3


def _cut(clean: str, total: int, limit: int, whole: bool = True) -> str:
    """Redacted text cut to ``limit``; the marker counts characters of the original (``total``) not shown.

    ``whole`` is False when ``clean`` came from only the start of the original.
    """
    if len(clean) <= limit and whole:
        return clean
    return f"{clean[:limit]}… (+{max(total, len(clean)) - limit} chars)"


def bounded_text(text: str, limit: int) -> str:
    """Redact first, then cut: a secret crossing the cut is seen whole."""
    return _cut(redact_head(text, limit), len(text), limit)


def _statement_window(first: int, last: int, lineno: int, lengths: dict[int, int]) -> tuple[int, int]:
    """The statement's lines, narrowed around ``lineno`` to MAX_STATEMENT_LINES and MAX_STATEMENT_CHARS."""
    first = max(first, min(lineno - (MAX_STATEMENT_LINES - 1) // 2, last - MAX_STATEMENT_LINES + 1))
    last = min(last, first + MAX_STATEMENT_LINES - 1)
    while first < last and sum(lengths.get(n, 0) for n in range(first, last + 1)) > MAX_STATEMENT_CHARS:
        if lineno - first > last - lineno:
            first += 1
        else:
            last -= 1
    return first, last


def _source(filename: str, lineno: int, module_globals: dict[str, Any]) -> tuple[list[list[Any]], tuple[int, int]]:
    """The failing statement and its neighbours, redacted together (a PEM body spans lines), then cut;
    and the statement's (first, last) line.

    Neighbours that are blank or part of a docstring are left out: they explain nothing.
    """
    linecache.checkcache(filename)
    layout = file_layout(filename, module_globals)
    first, last = statement_span(layout, lineno) if layout else (lineno, lineno)
    raws: dict[int, str] = {}
    for n in range(max(1, min(first, lineno) - SOURCE_CONTEXT_LINES), max(last, lineno) + SOURCE_CONTEXT_LINES + 1):
        raw = linecache.getline(filename, n, module_globals)
        if not raw:
            break  # past the end of the file ("" here; a blank line is "\n")
        raws[n] = raw.rstrip("\n")
    lengths = {n: min(len(raw), MAX_SOURCE_LINE_CHARS) for n, raw in raws.items()}
    first, last = _statement_window(first, last, lineno, lengths)
    docstrings = layout.docstrings if layout else frozenset()
    numbers = [n for n, raw in raws.items() if first <= n <= last or n == lineno or (
        first - SOURCE_CONTEXT_LINES <= n <= last + SOURCE_CONTEXT_LINES and raw.strip() and n not in docstrings)]
    window = MAX_SOURCE_LINE_CHARS + REDACT_SLACK_CHARS
    clean = redact_lines([raws[n][:window] for n in numbers])
    src = [[n, _cut(c, len(raws[n]), MAX_SOURCE_LINE_CHARS, len(raws[n]) <= window)]
           for n, c in zip(numbers, clean, strict=True)]
    return src, (first, last)


# Values of these types are cheap to repeat and often equal by coincidence: never shown as references.
_VALUE_TYPES = frozenset({int, float, bool, complex, str, bytes, type(None), type(...)})
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH_RE = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)+")


MAX_MOVES_SHOWN = 7  # values of a changing argument across a collapsed recursion: first 6 and the last
MAX_MOVE_CHARS = 40
_MOVING_TYPES = frozenset({int, float, bool, str, bytes, type(None)})
ASSERT_TEMP_PREFIX = "@py_"  # pytest's assertion-rewrite temporaries (@py_assert1, @py_format3)


def _is_test_case(value: Any) -> bool:
    unittest_case = sys.modules.get("unittest.case")
    return unittest_case is not None and isinstance(value, unittest_case.TestCase)


def _statement_text(src: list[list[Any]], span: tuple[int, int]) -> str:
    return "\n".join(text for n, text in src if span[0] <= n <= span[1])


def _line_names(text: str) -> list[str]:
    """Identifiers in the failing statement, in order of appearance."""
    return list(dict.fromkeys(_NAME_RE.findall(text)))


def _attribute_paths(text: str) -> dict[str, list[tuple[str, ...]]]:
    """``order.qty`` and ``self.cfg.rate`` in the failing statement: local -> attribute paths."""
    paths: dict[str, list[tuple[str, ...]]] = {}
    for found in _PATH_RE.finditer(text):
        name, *attrs = (part.strip() for part in found.group().split("."))
        paths.setdefault(name, []).append(tuple(attrs))
    return paths


def _tb_entries(tb: TracebackType | None) -> Iterator[tuple[FrameType, int]]:
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def collapse_runs(keys: list[Any]) -> list[tuple[int, int, int]]:
    """(index, repeats, period) per frame kept: consecutive repeats of a block of 1..4 frames become one copy.

    The first frame of a collapsed block carries the repeat count and the block's length; the others 1, 1.
    """
    out: list[tuple[int, int, int]] = []
    i = 0
    while i < len(keys):
        best_period, best_count = 1, 1
        for period in range(1, MAX_REPEAT_PERIOD + 1):
            block = keys[i : i + period]
            count = 1
            while keys[i + count * period : i + (count + 1) * period] == block:
                count += 1
            if count >= MIN_REPEATS_TO_COLLAPSE and count * period > best_count * best_period:
                best_period, best_count = period, count
        out.append((i, best_count, best_period))
        out.extend((i + k, 1, 1) for k in range(1, best_period))
        i += best_period * best_count
    return out


class ExceptionCapture:
    """Turns one exception (and its chain) into a dict; one instance per failure record."""

    def __init__(self, describer: Describer, max_frames: int = 40) -> None:
        self.describer = describer
        self.max_frames = max_frames
        # Messages get a longer preview than values; the same rules decide whose __str__ may run.
        self.messages = Describer(dataclasses.replace(describer.limits, max_str_chars=MAX_MESSAGE_CHARS))

    def message(self, exc: BaseException) -> str:
        """``str(exc)`` as the descriptor rules allow: the program's own ``__str__`` is not run."""
        desc = self.messages.describe(exc)
        text = desc.get("v", "")
        prefix = f"{desc.get('t', '')}: "
        text = text[len(prefix) :] if text.startswith(prefix) else ""
        return f"{text}… (+{desc['x']} chars)" if desc.get("x") else text

    def frame(self, frame: FrameType, lineno: int, seen: dict[int, str]) -> dict[str, Any]:
        """One frame; user frames get source and locals (objects already described elsewhere by reference)."""
        code = frame.f_code
        entry: dict[str, Any] = {"f": code.co_qualname, "file": code.co_filename, "ln": lineno}
        if not is_user_file(code.co_filename):
            return entry
        entry["u"] = 1
        entry["src"], span = _source(code.co_filename, lineno, frame.f_globals)
        if span != (lineno, lineno):
            entry["st"] = list(span)
        text = _statement_text(entry["src"], span)
        entry["loc"] = self._locals(frame, _line_names(text), seen, _attribute_paths(text))
        return entry

    def _locals(self, frame: FrameType, first: list[str], seen: dict[int, str],
                lead: dict[str, list[tuple[str, ...]]] | None = None) -> dict[str, Any]:
        """Locals, the names in the failing statement first (and the attributes it uses first in
        their objects); an object met before becomes a reference."""
        f_locals = frame.f_locals
        order = [n for n in first if n in f_locals] + [n for n in f_locals if n not in first]
        where = frame.f_code.co_qualname
        described: dict[str, Any] = {}
        rest = {}
        for name in order:
            if name.startswith(ASSERT_TEMP_PREFIX):
                continue  # pytest's assertion rewriting; the message already shows these values
            value = f_locals[name]
            if _is_test_case(value):
                described[name] = self._test_case(value)
                continue
            if type(value) in _VALUE_TYPES or name.startswith("__") or is_secret_name(name):
                rest[name] = value
                continue
            if id(value) in seen:
                described[name] = {"t": type_name(type(value)), "same": seen[id(value)]}
                continue
            seen[id(value)] = f"{where}.{name}"
            rest[name] = value
        # describe_locals keeps its own rules (module frames, dunders, the overflow entry).
        result = self.describer.describe_locals(rest, lead)
        result.update(described)
        return {name: result[name] for name in [*order, MORE_KEY] if name in result}

    def _repeat_ends(self, entry: dict[str, Any], repeats: list[tuple[FrameType, int]],
                     seen: dict[int, str]) -> None:
        """A collapsed block: the outermost copy's locals, and how plain values moved across the copies."""
        outer, outer_line = repeats[-1]
        entry["outer"] = {"ln": outer_line, "loc": self._locals(outer, [], seen)}
        moves = {}
        frames = [frame for frame, _ in reversed(repeats)]  # outermost first, as the calls were made
        for name, first in frames[0].f_locals.items():
            if type(first) not in _MOVING_TYPES or not name.isidentifier() or is_secret_name(name):
                continue
            values = [f.f_locals.get(name) for f in frames]
            if len(set(map(repr, values))) > 1:
                shown = values if len(values) <= MAX_MOVES_SHOWN else [*values[: MAX_MOVES_SHOWN - 1], ..., values[-1]]
                moves[name] = ["…" if v is ... else bounded_text(repr(v), MAX_MOVE_CHARS) for v in shown]
        if moves:
            entry["moves"] = moves

    def _test_case(self, case: Any) -> dict[str, Any]:
        """A ``unittest.TestCase``: the attributes the test set (``setUp``), not the framework's."""
        own = {k: v for k, v in vars(case).items() if not k.startswith("_") and not isinstance(v, MethodType)}
        desc = self.describer.describe(own)
        desc.pop("l", None)
        desc["t"] = type_name(type(case))
        return desc

    def frames(self, tb: TracebackType | None) -> list[dict[str, Any]]:
        """Frames innermost first: launcher frames dropped, recursion collapsed, long stacks cut.

        A cut keeps the innermost three quarters of ``max_frames`` and the outermost
        quarter, with a ``{"skipped": N}`` marker where the frames were left out.
        """
        entries = [(f, n) for f, n in _tb_entries(tb) if not is_agentlog_frame(f)]
        entries.reverse()
        keys = [(f.f_code.co_filename, n, f.f_code.co_qualname) for f, n in entries]
        kept = collapse_runs(keys)
        skipped = 0
        if len(kept) > self.max_frames:
            head = self.max_frames * 3 // 4
            tail = self.max_frames - head
            gap = kept[head : len(kept) - tail]
            skipped = sum(rep for _, rep, _ in gap)
            kept = [*kept[:head], (-1, skipped, 1), *kept[len(kept) - tail :]]
        out = []
        seen: dict[int, str] = {}
        for index, rep, period in kept:
            if index < 0:
                out.append({"skipped": rep})
                continue
            frame, lineno = entries[index]
            entry = self.frame(frame, lineno, seen)
            if rep > 1:
                entry["rep"] = rep
                if entry.get("u"):
                    self._repeat_ends(entry, [entries[index + k * period] for k in range(rep)], seen)
            if period > 1:
                entry["per"] = period
            out.append(entry)
        return out

    def exception(
        self, exc: BaseException, tb: TracebackType | None = None, depth: int = 0
    ) -> dict[str, Any]:
        """Describe ``exc``; ``tb`` overrides ``exc.__traceback__`` (e.g. trimmed by a hook)."""
        return self._exception(exc, tb if tb is not None else exc.__traceback__, depth, set())

    def _exception(
        self, exc: BaseException, tb: TracebackType | None, depth: int, seen: set[int]
    ) -> dict[str, Any]:
        seen.add(id(exc))
        out: dict[str, Any] = {
            "t": type_name(type(exc)).removeprefix("__main__."),  # as Python's traceback names it
            "m": self.message(exc),
            "frames": self.frames(tb),
        }
        notes = getattr(exc, "__notes__", None)
        if isinstance(notes, list) and notes:
            out["notes"] = [bounded_text(n if isinstance(n, str) else f"<{type(n).__name__}>", MAX_MESSAGE_CHARS)
                            for n in notes[:MAX_NOTES]]
        if depth >= MAX_CHAIN_DEPTH:
            return out
        linked = (
            ("cause", exc.__cause__),
            ("ctx", None if exc.__suppress_context__ else exc.__context__),
        )
        for key, other in linked:
            if other is not None and id(other) not in seen:
                out[key] = self._exception(other, other.__traceback__, depth + 1, seen)
        if isinstance(exc, BaseExceptionGroup):
            members = exc.exceptions
            out["group"] = [
                self._exception(m, m.__traceback__, depth + 1, seen)
                for m in members[:MAX_GROUP_MEMBERS]
                if id(m) not in seen
            ]
            if len(members) > MAX_GROUP_MEMBERS:
                out["more"] = len(members) - MAX_GROUP_MEMBERS
        return out
