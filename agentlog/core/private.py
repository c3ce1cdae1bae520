"""Files only this user can steer: no symlinks followed, owned by us, no group or world access.

Everything AgentLog writes into (or reads back from) its data dir opens through
here. A data dir or file that someone else could have planted or redirected
(a symlink, a FIFO, a hard link, another user's file) is refused with
:class:`UnsafePathError`; one of ours that merely has group/world permission
bits is tightened to 0700/0600 and reported through ``on_tightened``.
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported by every activated process (selflog): no typing, collections, pathlib
    from collections.abc import Callable

    PathArg = str | os.PathLike[str]

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted as a file must not block open()
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | NOFOLLOW | CLOEXEC
APPEND = os.O_RDWR | os.O_APPEND | os.O_CREAT | NOFOLLOW | NONBLOCK | CLOEXEC
READ = os.O_RDONLY | NOFOLLOW | NONBLOCK | CLOEXEC
GROUP_WORLD = 0o077


class UnsafePathError(PermissionError):
    """A path in the data dir that AgentLog will not follow, read or write."""


def _owner_ok(st: os.stat_result) -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is None or st.st_uid == geteuid()


def _tighten(fd: int, st: os.stat_result, mode: int, path: object,
             on_tightened: Callable[[str], None] | None) -> None:
    """Drop group/world bits (writers only: they pass ``on_tightened``; readers change nothing)."""
    if on_tightened is not None and os.name == "posix" and st.st_mode & GROUP_WORLD:
        os.fchmod(fd, mode)
        on_tightened(f"{path} had mode {stat.S_IMODE(st.st_mode):04o}; tightened to {mode:04o}")


def _open_dir(path: PathArg) -> int:
    try:
        return os.open(path, OPEN_DIR)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafePathError(f"data dir {path} is a symlink; AgentLog does not follow it") from None
        raise exc


def check_dir(path: PathArg, on_tightened: Callable[[str], None] | None = None) -> None:
    """Refuse ``path`` unless it is a real directory (not a symlink) we own; tighten it to 0700."""
    fd = _open_dir(path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePathError(f"data dir {path} is not a directory")
        if not _owner_ok(st):
            raise UnsafePathError(f"data dir {path} belongs to another user (uid {st.st_uid})")
        _tighten(fd, st, 0o700, path, on_tightened)
    finally:
        os.close(fd)


def _check_file(fd: int, path: object, on_tightened: Callable[[str], None] | None) -> os.stat_result:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePathError(f"{path} is not a regular file")
    if not _owner_ok(st):
        raise UnsafePathError(f"{path} belongs to another user (uid {st.st_uid})")
    if st.st_nlink > 1:
        raise UnsafePathError(f"{path} has {st.st_nlink} hard links; AgentLog did not create it")
    _tighten(fd, st, 0o600, path, on_tightened)
    return st


def open_file(path: PathArg, flags: int, on_tightened: Callable[[str], None] | None = None) -> int:
    """A file descriptor for ``path`` (``APPEND`` creates it 0600, ``READ`` does not).

    With ``on_tightened``, group/world bits are dropped (and reported through it).

    The data dir itself is opened without following a symlink, and the file
    relative to it, so neither the directory nor the file can be redirected.
    Raises OSError (UnsafePathError for a refused path), FileNotFoundError for ``READ`` of a missing file.
    """
    path = os.fspath(path)
    if os.open in os.supports_dir_fd:
        dir_fd = _open_dir(os.path.dirname(path) or ".")
        try:
            fd = _open_at(path, flags, dir_fd)
        finally:
            os.close(dir_fd)
    else:
        fd = _open_at(path, flags, None)
    try:
        _check_file(fd, path, on_tightened)
    except BaseException:
        os.close(fd)
        raise
    if flags & NONBLOCK:
        os.set_blocking(fd, True)
    return fd


def _open_at(path: str, flags: int, dir_fd: int | None) -> int:
    try:
        return os.open(os.path.basename(path) if dir_fd is not None else path, flags, 0o600, dir_fd=dir_fd)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafePathError(f"{path} is a symlink; AgentLog does not follow it") from None
        if exc.errno == errno.EISDIR:
            raise UnsafePathError(f"{path} is not a regular file") from None
        raise exc


def open_regular(path: PathArg) -> int:
    """A read-only descriptor of a regular file anyone may own: not a final symlink, never a FIFO.

    For the workspace walk, which hashes the user's files rather than ours.
    """
    fd = os.open(path, READ)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"{path} is not a regular file")
        if NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def is_regular(path: PathArg) -> bool:
    """Whether ``path`` itself (not a symlink's target) is a regular file."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
