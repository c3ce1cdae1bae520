"""Reading records back: tolerant of torn lines, never modifies anything."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

from agentlog.core import private
from agentlog.store.paths import record_files
from agentlog.store.records import SCHEMA_VERSION
from agentlog.store.schema import valid_record


def recent_files(data_dir: Path, max_bytes: int | None) -> list[Path]:
    """Record files oldest first, limited to the newest ones that fit in ``max_bytes`` (at least one)."""
    files = record_files(data_dir)
    if max_bytes is None:
        return files
    kept: list[Path] = []
    total = 0
    for path in reversed(files):
        try:
            total += path.lstat().st_size
        except OSError:
            continue
        if kept and total > max_bytes:
            break
        kept.append(path)
    return kept[::-1]


MAX_LINE_BYTES = 8 * 1024 * 1024  # a longer line is skipped unread (a writer's cap is 64 KiB by default)
MAX_NESTING = 100  # brackets deep; a writer's records stay under 40
_READ_CHUNK = 1024 * 1024
_STRING_RE = re.compile(rb'"(?:[^"\\]|\\.)*+"')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = [0] * 256
_DEPTH_STEP[ord("[")] = _DEPTH_STEP[ord("{")] = 1
_DEPTH_STEP[ord("]")] = _DEPTH_STEP[ord("}")] = -1
_warned: set[Path] = set()


def iter_records(
    data_dir: Path,
    kinds: Iterable[str] | None = None,
    warn: bool = True,
    max_bytes: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield records oldest first; ``max_bytes`` reads only the newest files up to that size.

    Lines that are not a usable record are skipped (one stderr line per file when ``warn``):
    torn, over-long, too deeply nested, not JSON, or with a field of the wrong type
    (``store/schema.py``). Memory stays within a few times MAX_LINE_BYTES.
    """
    wanted = set(kinds) if kinds is not None else None
    for path in recent_files(data_dir, max_bytes):
        bad = 0
        try:
            fh = os.fdopen(private.open_file(path, private.READ), "rb")
        except FileNotFoundError:
            continue  # rotated away or pruned while we were listing
        except OSError as exc:  # a symlink, FIFO or unreadable file where a record file should be
            if warn:
                print(f"agentlog: skipped {path}: {exc.strerror or exc}", file=sys.stderr)
            continue
        with fh:
            for raw in _lines(fh):
                if not raw.strip():
                    continue  # the separator a writer adds after a torn line
                record = parse_record(raw)
                if record is None:
                    bad += 1
                elif record["sv"] <= SCHEMA_VERSION and (wanted is None or record["k"] in wanted):
                    yield record
        if bad and warn and path not in _warned:
            _warned.add(path)  # once per file in a process, however often a command reads it
            print(f"agentlog: skipped {bad} corrupt line(s) in {path}", file=sys.stderr)


def _lines(fh: BinaryIO) -> Iterator[bytes]:
    """The file's lines; one longer than MAX_LINE_BYTES is passed over in chunks and given as b"\0"."""
    while raw := fh.readline(MAX_LINE_BYTES + 1):
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := fh.readline(_READ_CHUNK)) and not rest.endswith(b"\n"):
                pass
            raw = b"\0"  # not JSON: counted as an unreadable line
        yield raw


def too_deep(raw: bytes | str) -> bool:
    """True if the JSON text nests brackets deeper than MAX_NESTING (brackets inside strings do not count)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= MAX_NESTING:
        return False
    skeleton = _STRING_RE.sub(b"", data).translate(None, _NOT_BRACKET)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, skeleton)), default=0) > MAX_NESTING


def parse_record(raw: bytes | str) -> dict[str, Any] | None:
    """The record a line holds, or None for anything a reader cannot use: not JSON (invalid UTF-8,
    NaN, a lone surrogate escape), nested too deep, or failing :func:`valid_record`."""
    if len(raw) > MAX_LINE_BYTES or too_deep(raw):
        return None
    try:
        record = json.loads(raw, parse_constant=_reject)
    except (ValueError, RecursionError):
        return None
    if not valid_record(record) or _has_surrogate(raw, record):
        return None
    return record


def _reject(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _has_surrogate(raw: bytes | str, record: dict[str, Any]) -> bool:
    """A ``\\ud800`` escape decodes to a lone surrogate, which no UTF-8 output can carry."""
    if "\\ud" not in (raw if isinstance(raw, str) else raw.decode("ascii", "ignore")).lower():
        return False
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
