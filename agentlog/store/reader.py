"""Reading records back: tolerant of torn lines, never modifies anything."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

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
            total += path.stat().st_size
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
            fh = path.open("rb")
        except FileNotFoundError:
            continue  # rotated away or pruned while we were listing
        with fh:
            for raw in fh:
                try:
                    record = json.loads(raw)
                except ValueError:
                    bad += 1
                    continue
                if not isinstance(record, dict) or record.get("sv", 0) > SCHEMA_VERSION:
                    bad += not isinstance(record, dict)
                    continue
                if wanted is None or record.get("k") in wanted:
                    yield record
        if bad and warn:
            print(f"agentlog: skipped {bad} corrupt line(s) in {path}", file=sys.stderr)
