"""Where records live, and making that place safely."""

from __future__ import annotations

import os
from pathlib import Path

RECORDS_PREFIX = "records"
ACTIVE_FILE = f"{RECORDS_PREFIX}.jsonl"


class DataDirError(OSError):
    """The data dir cannot be created or written."""


def ensure_data_dir(path: Path) -> Path:
    """Create the data dir (0700) if needed and check that it is writable."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"cannot create data dir {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise DataDirError(f"data dir {path} exists and is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataDirError(f"data dir {path} is not writable")
    return path


def record_files(data_dir: Path) -> list[Path]:
    """Record files oldest first: rotated files by name (they embed a timestamp), then active."""
    rotated = sorted(data_dir.glob(f"{RECORDS_PREFIX}.*.jsonl"))
    active = data_dir / ACTIVE_FILE
    return [*rotated, active] if active.exists() else rotated
