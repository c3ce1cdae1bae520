"""Where records live, and making that place safely."""

from __future__ import annotations

import os

from agentlog.core import selflog
from agentlog.core.private import UnsafePathError, check_dir, is_regular

TYPE_CHECKING = False
if TYPE_CHECKING:  # the writer imports this module at exit: no pathlib (or glob) until files are listed
    from pathlib import Path

RECORDS_PREFIX = "records"
ACTIVE_FILE = f"{RECORDS_PREFIX}.jsonl"


class DataDirError(OSError):
    """The data dir cannot be created or written."""


def note_tightened(message: str) -> None:
    """A data dir or file of ours had group/world permissions: fixed, and said so in errors.log."""
    selflog.warn_once("data-dir-permissions", message)


def ensure_data_dir[PathT: (str, Path)](path: PathT) -> PathT:
    """Create the data dir (0700) if needed; refuse a symlink or another user's; tighten to 0700."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except FileExistsError:
        pass  # a file or a dangling symlink: check_dir says which
    except OSError as exc:
        raise DataDirError(f"cannot create data dir {path}: {exc.strerror or exc}") from None
    try:
        check_dir(path, note_tightened)
    except UnsafePathError as exc:
        raise DataDirError(str(exc)) from None
    except OSError:
        raise DataDirError(f"data dir {path} exists and is not a directory") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataDirError(f"data dir {path} is not writable")
    return path


def record_files(data_dir: str | Path) -> list[Path]:
    """Record files oldest first: rotated files by name (they embed a timestamp), then active.

    Only regular files: a symlink, FIFO or directory named like a record file is not one.
    """
    from pathlib import Path

    data_dir = Path(data_dir)
    rotated = sorted(p for p in data_dir.glob(f"{RECORDS_PREFIX}.*.jsonl") if is_regular(p))
    active = data_dir / ACTIVE_FILE
    return [*rotated, active] if is_regular(active) else rotated
