"""Atomic appends with rotation and a total size cap.

Each record is one ``write()`` of one line to a file opened with ``O_APPEND``,
so concurrent writers (threads or processes) never interleave within a line.
When the active file passes ``max_file_bytes`` it is renamed to a rotated file;
when rotated files pass ``max_dir_bytes`` in total, the oldest are deleted.
"""

from __future__ import annotations

import _thread
import errno
import os
import time

from agentlog.core import ownimports, private, selflog
from agentlog.core.config import Config, get_config
from agentlog.store.compactjson import dumps
from agentlog.store.paths import (
    ACTIVE_FILE,
    RECORDS_PREFIX,
    DataDirError,
    ensure_data_dir,
    note_tightened,
    record_files,
)
from agentlog.store.records import bound_envelope

TYPE_CHECKING = False
if TYPE_CHECKING:  # the exit path of every activated process: no typing, pathlib, json, threading
    from typing import Any

ENVELOPE_KEYS = ("sv", "k", "sid", "pid", "tid", "th", "ts", "id")
_ready_dirs: set[str] = set()
_lock = _thread.allocate_lock()


def encode(record: dict[str, Any]) -> bytes:
    return dumps(record).encode("utf-8", "replace")


def fit(record: dict[str, Any], max_bytes: int) -> bytes:
    """Encode a record as one line no larger than ``max_bytes``.

    Oversized records lose their largest non-envelope fields first; each loss is
    listed under ``"cut"`` so a reader knows what is missing. The envelope's
    strings are bounded on their own (``bound_envelope``), so the rest always fits.
    """
    record = bound_envelope(record)
    line = encode(record)
    if len(line) < max_bytes:
        return line + b"\n"
    record = dict(record)
    cut: list[str] = []
    sizes = sorted(
        ((len(encode({k: v})), k) for k, v in record.items() if k not in ENVELOPE_KEYS),
        reverse=True,
    )
    for _size, key in sizes:
        del record[key]
        cut.append(key)
        record["cut"] = cut
        line = encode(record)
        if len(line) < max_bytes:
            break
    return line + b"\n"


def _rotate(data_dir: str, config: Config) -> None:
    active = os.path.join(data_dir, ACTIVE_FILE)
    try:
        if os.lstat(active).st_size < config.max_file_bytes:
            return
        rotated = os.path.join(data_dir, f"{RECORDS_PREFIX}.{time.time_ns():020d}-{os.getpid()}.jsonl")
        os.rename(active, rotated)
    except FileNotFoundError:
        return  # another process rotated it first
    files = [p for p in record_files(data_dir) if str(p) != active]
    total = sum(p.lstat().st_size for p in files if p.exists())
    for path in files[:-1]:  # the newest rotated file stays, whatever the cap
        if total <= config.max_dir_bytes:
            break
        try:
            size = path.lstat().st_size
            path.unlink()
            total -= size
        except FileNotFoundError:
            continue


def _write_line(path: str, line: bytes) -> None:
    """One ``write()`` of a whole line; raises OSError if it could not be written whole.

    If the file does not end in a newline (a torn write: disk full, a killed
    process), a newline goes first, so this record does not fuse with the torn
    one (readers skip the blank line a race may leave). The file is never reached
    through a symlink and must be a regular file of ours (core/private.py).
    """
    fd = private.open_file(path, private.APPEND, note_tightened)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(errno.ENOSPC, f"short write ({written} of {len(line)} bytes)")
    finally:
        os.close(fd)


def append(record: dict[str, Any], config: Config | None = None) -> bool:
    """Append one record; returns False (after a warning) if the data dir is unusable."""
    with ownimports.own_modules():  # the program's json.py is not what encodes it
        return _append(record, config)


def _append(record: dict[str, Any], config: Config | None) -> bool:
    from agentlog.core.firstwrite import run_pending
    from agentlog.core.redact import scrub

    run_pending()  # the session start record (and other deferred work) goes first
    config = config or get_config()
    data_dir = config.data_path
    try:
        line = fit(scrub(record), config.max_record_bytes)
        if data_dir not in _ready_dirs:
            ensure_data_dir(data_dir)
            _ready_dirs.add(data_dir)
        _write_line(os.path.join(data_dir, ACTIVE_FILE), line)
        with _lock:
            _rotate(data_dir, config)
        return True
    except (DataDirError, PermissionError) as exc:
        selflog.warn_once("data-dir-unwritable", f"{exc}; nothing will be recorded", loud=True)
    except OSError as exc:  # disk full, quota, read-only file system, I/O error
        selflog.warn_once("write-failed", f"cannot write to {data_dir}: {exc.strerror or exc}; "
                          "records are being lost", loud=True)
    except Exception as exc:  # noqa: BLE001 - never raise into the user's program
        selflog.report("store.append", exc)
    return False


def forget_fork_state() -> None:
    """In a forked child the parent's checks still hold; nothing to reset but the lock."""
    global _lock
    _lock = _thread.allocate_lock()
