"""Reading records back: tolerant of torn lines, never modifies anything."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from agentlog.core import private
from agentlog.store.paths import record_files
from agentlog.store.records import SCHEMA_VERSION


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


def iter_records(
    data_dir: Path,
    kinds: Iterable[str] | None = None,
    warn: bool = True,
    max_bytes: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield records oldest first; ``max_bytes`` reads only the newest files up to that size.

    Corrupt lines are skipped with one warning per file.
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
            for raw in fh:
                if not raw.strip():
                    continue  # the separator a writer adds after a torn line
                record = _parse(raw)
                if record is None:
                    bad += 1
                elif record["sv"] <= SCHEMA_VERSION and (wanted is None or record["k"] in wanted):
                    yield record
        if bad and warn:
            print(f"agentlog: skipped {bad} corrupt line(s) in {path}", file=sys.stderr)


MAX_TIMESTAMP = 1e10  # year 2286: anything later is not a wall time a writer produced


def _parse(raw: bytes) -> dict[str, Any] | None:
    """A record with a well-typed envelope, or None for anything else."""
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if type(record.get("sv")) is not int or not isinstance(record.get("k"), str):
        return None
    ts = record.get("ts", 0)
    if not isinstance(ts, int | float) or not 0 <= ts <= MAX_TIMESTAMP:
        return None  # also rejects NaN and infinities
    return record
