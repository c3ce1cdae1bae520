"""Records from elsewhere (a teammate's shared session): a content key, and appending without duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from agentlog.core.config import Config, get_config


def canonical(record: dict[str, Any]) -> str:
    """The record as compact JSON with sorted keys: equal records give equal text."""
    return json.dumps(record, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)


def record_key(record: dict[str, Any]) -> str:
    """A 32-hex-digit content key: the same record (wherever it was stored) has the same key."""
    import xxhash

    return xxhash.xxh3_128_hexdigest(canonical(record).encode("utf-8", "replace"))


def import_records(records: Iterable[dict[str, Any]], config: Config | None = None) -> tuple[int, int]:
    """Append the records the data dir does not hold yet, oldest first: (added, already there).

    Records go through :func:`agentlog.store.append` (redacted, size-capped) like any other;
    one whose fields a reader would reject (``store/schema.py``) is not imported.
    False from append (an unwritable data dir) raises OSError.
    """
    from agentlog.core.redact import scrub
    from agentlog.store.reader import iter_records
    from agentlog.store.schema import valid_record
    from agentlog.store.writer import append

    config = config or get_config()
    incoming = sorted((scrub(r) for r in records if valid_record(r)), key=lambda r: r.get("ts") or 0.0)
    sids = {r.get("sid") for r in incoming}
    have = {record_key(r) for r in iter_records(config.data_dir, warn=False) if r.get("sid") in sids}
    added = present = 0
    for record in incoming:
        key = record_key(record)
        if key in have:
            present += 1
            continue
        if not append(record, config):
            raise OSError(f"cannot write to the data dir {config.data_dir}")
        have.add(key)
        added += 1
    return added, present
