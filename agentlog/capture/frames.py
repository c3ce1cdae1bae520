"""Exceptions and their tracebacks as bounded, redacted dicts.

User frames (not stdlib, not site-packages, not AgentLog) keep their source
and locals; other frames keep only file, line and function. Chains
(``__cause__``, ``__context__``, exception groups, ``__notes__``) are followed
to a fixed depth, and runs of repeated frames (recursion) are collapsed.
"""

from __future__ import annotations

import linecache
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any

from agentlog.capture.codepaths import is_agentlog_frame, is_user_file
from agentlog.capture.describe import Describer
from agentlog.redact import redact_text

SOURCE_CONTEXT_LINES = 2
MAX_SOURCE_LINE_CHARS = 200
MAX_MESSAGE_CHARS = 2000
MAX_CHAIN_DEPTH = 5
MAX_GROUP_MEMBERS = 10
MAX_NOTES = 10
MAX_REPEAT_PERIOD = 4
MIN_REPEATS_TO_COLLAPSE = 3


def _safe_text(fn: Any, exc: BaseException) -> str:
    try:
        text = fn(exc)
    except Exception as err:  # noqa: BLE001 - a hostile __str__ must not lose the record
        return f"<str() raised {type(err).__name__}>"
    return text if isinstance(text, str) else "<non-str>"


def _bounded(text: str, limit: int) -> str:
    text = redact_text(text if len(text) <= limit * 2 else text[: limit * 2])
    return text if len(text) <= limit else f"{text[:limit]}… (+{len(text) - limit} chars)"


def type_name(cls: type) -> str:
    module = getattr(cls, "__module__", "builtins")
    qualname = getattr(cls, "__qualname__", cls.__name__)
    return qualname if module in ("builtins", "__main__") else f"{module}.{qualname}"


def _source(filename: str, lineno: int, module_globals: dict[str, Any]) -> list[list[Any]]:
    linecache.checkcache(filename)
    lines = []
    for n in range(max(1, lineno - SOURCE_CONTEXT_LINES), lineno + SOURCE_CONTEXT_LINES + 1):
        raw = linecache.getline(filename, n, module_globals)
        if not raw:
            break  # past the end of the file ("" here; a blank line is "\n")
        lines.append([n, _bounded(raw.rstrip("\n"), MAX_SOURCE_LINE_CHARS)])
    return lines


def _tb_entries(tb: TracebackType | None) -> Iterator[tuple[FrameType, int]]:
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _frame_key(frame: dict[str, Any]) -> tuple[Any, ...]:
    return frame["file"], frame["ln"], frame["f"]


def collapse_repeats(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Collapse consecutive repeats of a block of 1..4 frames into one copy with ``rep``."""
    out: list[dict[str, Any]] = []
    keys = [_frame_key(f) for f in frames]
    i = 0
    while i < len(frames):
        best_period, best_count = 1, 1
        for period in range(1, MAX_REPEAT_PERIOD + 1):
            block = keys[i : i + period]
            count = 1
            while keys[i + count * period : i + (count + 1) * period] == block:
                count += 1
            if count >= MIN_REPEATS_TO_COLLAPSE and count * period > best_count * best_period:
                best_period, best_count = period, count
        block_frames = frames[i : i + best_period]
        if best_count > 1:
            block_frames = [dict(block_frames[0], rep=best_count), *block_frames[1:]]
        out.extend(block_frames)
        i += best_period * best_count
    return out


class ExceptionCapture:
    """Turns one exception (and its chain) into a dict; one instance per failure record."""

    def __init__(self, describer: Describer, max_frames: int = 40) -> None:
        self.describer = describer
        self.max_frames = max_frames

    def frame(self, frame: FrameType, lineno: int, with_locals: bool) -> dict[str, Any]:
        code = frame.f_code
        entry: dict[str, Any] = {"f": code.co_qualname, "file": code.co_filename, "ln": lineno}
        if not is_user_file(code.co_filename):
            return entry
        entry["u"] = 1
        entry["src"] = _source(code.co_filename, lineno, frame.f_globals)
        if with_locals:
            entry["loc"] = self.describer.describe_locals(frame.f_locals)
        return entry

    def frames(self, tb: TracebackType | None) -> list[dict[str, Any]]:
        """Frames innermost first, AgentLog's own launcher frames dropped, long stacks cut."""
        entries = [(f, n) for f, n in _tb_entries(tb) if not is_agentlog_frame(f)]
        entries.reverse()
        skipped = 0
        if len(entries) > self.max_frames * 4:
            # Deep recursion: describe only both ends before collapsing repeats.
            keep = self.max_frames * 2
            skipped = len(entries) - 2 * keep
            entries = entries[:keep] + entries[-keep:]
        frames = [self.frame(f, n, with_locals=False) for f, n in entries]
        frames = collapse_repeats(frames)
        if len(frames) > self.max_frames:
            head = self.max_frames * 3 // 4
            tail = self.max_frames - head
            skipped += len(frames) - self.max_frames
            frames = frames[:head] + frames[-tail:]
        if skipped:
            frames.insert(min(len(frames), self.max_frames * 3 // 4), {"skipped": skipped})
        self._add_locals(frames, entries)
        return frames

    def _add_locals(self, frames: list[dict[str, Any]], entries: list[tuple[FrameType, int]]) -> None:
        # Locals are the expensive part: describe them only for frames that survived the cuts.
        by_key = {}
        for frame, lineno in entries:
            key = (frame.f_code.co_filename, lineno, frame.f_code.co_qualname)
            by_key.setdefault(key, frame)
        for entry in frames:
            if entry.get("u"):
                frame = by_key.get(_frame_key(entry))
                if frame is not None:
                    entry["loc"] = self.describer.describe_locals(frame.f_locals)

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
            "t": type_name(type(exc)),
            "m": _bounded(_safe_text(str, exc), MAX_MESSAGE_CHARS),
            "frames": self.frames(tb),
        }
        notes = getattr(exc, "__notes__", None)
        if isinstance(notes, list) and notes:
            out["notes"] = [_bounded(str(n), MAX_MESSAGE_CHARS) for n in notes[:MAX_NOTES]]
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
