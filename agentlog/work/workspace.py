"""Workspace snapshots: a hash per file, to tell what an agent's step changed.

Files are hashed with xxh3 (64 bit). What ``.gitignore`` files (at any level)
and ``DEFAULT_IGNORES`` exclude is skipped, without descending into ignored
directories. A file whose size and mtime_ns match the previous snapshot of the
same root, and that was not modified while that snapshot ran, keeps its hash
without being read. The file table lives in ``<data dir>/snapshots/<id>.json``;
the ``snapshot`` record only points to it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentlog.core import private

SNAPSHOT = "snapshot"
SNAPSHOT_DIR = "snapshots"
MAX_FILES = 200_000
MAX_SNAPSHOTS = 50  # stored file tables; the oldest are deleted beyond this
HASH_CHUNK_BYTES = 1024 * 1024
DEFAULT_IGNORES = (
    ".git/", ".hg/", ".svn/", ".agentlog/", "__pycache__/", ".venv/", "venv/", "node_modules/",
    "build/", "dist/", ".tox/", ".nox/", ".mypy_cache/", ".pytest_cache/", ".ruff_cache/",
    "*.egg-info/", "*.pyc", "*.pyo", "*.so", ".DS_Store",
)  # fmt: skip

FileEntry = tuple[int, int, str]  # size, mtime_ns, xxh3 hex (or "" if unreadable)


@dataclasses.dataclass
class Snapshot:
    """A snapshot: id, absolute root, wall time, ``{relative path: (size, mtime_ns, hash)}``."""

    id: str
    root: str
    ts: float
    started_ns: int
    files: dict[str, FileEntry]
    stats: dict[str, Any] = dataclasses.field(default_factory=dict)  # the snapshot record's fields


# --- ignore rules -----------------------------------------------------------------------------

# (negate, dir_only, anchored, regex): anchored regexes match the path relative to the
# snapshot root, the others the entry's name (gitignore: a pattern without "/" matches
# at any depth below its .gitignore).
Rule = tuple[bool, bool, bool, "re.Pattern[str]"]


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := glob.find("]", i + 1)) > i:
            body = glob[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_ignore_lines(lines: Iterable[str], base: str = "") -> list[Rule]:
    """Gitignore patterns of the directory ``base`` as rules; runs of alike rules merge."""
    parsed: list[tuple[bool, bool, bool, str]] = []
    for raw in lines:
        line = raw.rstrip("\n").rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:] if negate else line
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        body = _glob_to_regex(line.lstrip("/"))
        regex = (re.escape(base + "/") if base else "") + body if anchored else body
        parsed.append((negate, dir_only, anchored, regex))
    rules: list[Rule] = []
    i = 0
    while i < len(parsed):
        key = parsed[i][:3]
        j = i
        while j < len(parsed) and parsed[j][:3] == key:
            j += 1
        alternatives = "|".join(f"(?:{p[3]})" for p in parsed[i:j])
        rules.append((*key, re.compile(f"(?:{alternatives})\\Z")))
        i = j
    return rules


def is_ignored(rules: list[Rule], rel: str, name: str, is_dir: bool) -> bool:
    """Gitignore semantics: the last matching rule decides."""
    for negate, dir_only, anchored, regex in reversed(rules):
        if dir_only and not is_dir:
            continue
        if regex.match(rel if anchored else name):
            return not negate
    return False


def _gitignore_rules(folder: str, rel: str) -> list[Rule]:
    try:
        fd = private.open_regular(os.path.join(folder, ".gitignore"))
        with open(fd, encoding="utf-8", errors="replace") as fh:
            return parse_ignore_lines(fh, rel)
    except OSError:
        return []


# --- hashing and walking ----------------------------------------------------------------------


def _hash_file(path: str, size: int) -> str:
    """xxh3 of a regular file's bytes; "" for anything else (a FIFO must not block the walk)."""
    import xxhash

    try:
        with os.fdopen(private.open_regular(path), "rb") as fh:
            if size <= HASH_CHUNK_BYTES:
                return xxhash.xxh3_64_hexdigest(fh.read())
            digest = xxhash.xxh3_64()
            while chunk := fh.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
            return digest.hexdigest()
    except OSError:
        return ""


def _walk(root: str, rules: list[Rule], previous: Snapshot | None) -> tuple[dict[str, FileEntry], int, bool]:
    """The file table, how many files were read to hash, and whether MAX_FILES cut the walk."""
    import xxhash

    files: dict[str, FileEntry] = {}
    prev_files = previous.files if previous else {}
    prev_started = previous.started_ns if previous else 0
    hashed = 0
    stack = [(root, "", rules + _gitignore_rules(root, ""))]
    while stack:
        folder, prefix, level_rules = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                if is_ignored(level_rules, rel, entry.name, is_dir):
                    continue
                if is_dir:
                    stack.append((entry.path, rel + "/", level_rules + _gitignore_rules(entry.path, rel)))
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if len(files) >= MAX_FILES:
                return files, hashed, True
            old = prev_files.get(rel)
            if old and old[0] == st.st_size and old[1] == st.st_mtime_ns and st.st_mtime_ns < prev_started:
                files[rel] = old
            elif entry.is_symlink():
                files[rel] = (
                    st.st_size,
                    st.st_mtime_ns,
                    xxhash.xxh3_64_hexdigest(os.fsencode(os.readlink(entry.path))),
                )
            elif entry.is_file(follow_symlinks=False):  # FIFOs, sockets, devices: not files
                files[rel] = (st.st_size, st.st_mtime_ns, _hash_file(entry.path, st.st_size))
                hashed += 1
    return files, hashed, False


# --- storage ----------------------------------------------------------------------------------


def _snapshot_folder(data_dir: Path | None) -> Path:
    from agentlog.core.config import get_config

    return (data_dir or get_config().data_dir) / SNAPSHOT_DIR


def _snapshot_dir(data_dir: Path | None) -> Path:
    """The snapshot folder, created if missing."""
    from agentlog.store.paths import ensure_data_dir

    folder = _snapshot_folder(data_dir)
    ensure_data_dir(folder)
    return folder


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a leftover (or planted) name: O_EXCL then never follows it
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | private.NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _last_pointer(folder: Path, root: str) -> Path:
    import xxhash

    return folder / f"last-{xxhash.xxh3_64_hexdigest(os.fsencode(root))}"


def _read_private(path: Path) -> str:
    """A file in the snapshot folder, never through a symlink, never a FIFO."""
    with os.fdopen(private.open_file(path, private.READ), "rb") as fh:
        return fh.read().decode("utf-8")


def _load_file(path: Path) -> Snapshot:
    data = json.loads(_read_private(path))
    files = {k: (v[0], v[1], v[2]) for k, v in data["files"].items()}
    return Snapshot(data["id"], data["root"], data["ts"], data["started_ns"], files)


def _prune(folder: Path) -> None:
    """Keep the newest MAX_SNAPSHOTS file tables (ids sort by creation time)."""
    tables = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
    for path in tables[:-MAX_SNAPSHOTS]:
        path.unlink(missing_ok=True)


def _previous(folder: Path, root: str) -> Snapshot | None:
    try:
        sid = _read_private(_last_pointer(folder, root)).strip()
        return _load_file(folder / f"{sid}.json")
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def snapshot_ids(data_dir: Path | None = None) -> list[str]:
    """Stored snapshot ids, oldest first (ids sort by creation time)."""
    folder = _snapshot_folder(data_dir)  # reading creates nothing
    return sorted(p.stem for p in folder.glob("*.json") if not p.name.startswith("."))


def load_snapshot(ref: str, data_dir: Path | None = None) -> Snapshot:
    """A stored snapshot by id, id prefix, ``latest`` or ``latest~N``; else LookupError."""
    ids = snapshot_ids(data_dir)
    latest = re.fullmatch(r"latest(?:~(\d+))?", ref)
    if latest:
        back = int(latest.group(1) or 0)
        if back >= len(ids):
            raise LookupError(f"no snapshot {ref!r} ({len(ids)} stored)")
        sid = ids[-1 - back]
    else:
        matches = [i for i in ids if i.startswith(ref)]
        if len(matches) != 1:
            reason = "is ambiguous" if matches else "matches no snapshot"
            raise LookupError(f"{ref!r} {reason}")
        sid = matches[0]
    return _load_file(_snapshot_folder(data_dir) / f"{sid}.json")


def compare_snapshots(a: Snapshot | str, b: Snapshot | str) -> dict[str, list[str]]:
    """Paths ``added``, ``removed`` and ``modified`` (content hash differs) from ``a`` to ``b``."""
    old = load_snapshot(a) if isinstance(a, str) else a
    new = load_snapshot(b) if isinstance(b, str) else b
    return {
        "added": sorted(new.files.keys() - old.files.keys()),
        "removed": sorted(old.files.keys() - new.files.keys()),
        "modified": sorted(p for p in new.files.keys() & old.files.keys() if new.files[p][2] != old.files[p][2]),
    }


_last_ns = 0


def _monotonic_wall_ns() -> int:
    """Wall time in ns, strictly increasing within the process (ids sort in creation order)."""
    global _last_ns
    _last_ns = max(time.time_ns(), _last_ns + 1000)
    return _last_ns


def snapshot_workspace(
    path: str | Path = ".",
    ignore: Iterable[str] = (),
    data_dir: Path | None = None,
) -> Snapshot:
    """Hash the files under ``path``, store the table, and record a ``snapshot`` record.

    ``ignore`` adds gitignore-style patterns to ``DEFAULT_IGNORES`` and the
    tree's ``.gitignore`` files. Raises OSError if the data dir is unusable, and
    FileNotFoundError, NotADirectoryError or PermissionError if ``path`` is not a
    readable directory (nothing is stored then).
    """
    from agentlog.core.config import get_config
    from agentlog.store import append, make_record

    data_dir = data_dir or get_config().data_dir
    root = str(Path(path).resolve())
    with os.scandir(root):  # not a readable directory: raise before storing an empty table
        pass
    folder = _snapshot_dir(data_dir)
    extra = list(ignore)
    data_rel = os.path.relpath(data_dir.resolve(), root)
    if not data_rel.startswith(".."):
        extra.append("/" + data_rel.replace(os.sep, "/") + "/")
    rules = parse_ignore_lines([*DEFAULT_IGNORES, *extra])
    started_ns = _monotonic_wall_ns()
    previous = _previous(folder, root)
    files, hashed, cut = _walk(root, rules, previous)
    snap = Snapshot(
        f"{started_ns // 1000:014x}-{secrets.token_hex(2)}",
        root,
        started_ns / 1e9,
        started_ns,
        files,
    )
    table = {"id": snap.id, "root": root, "ts": snap.ts, "started_ns": started_ns, "files": files}
    _write_private(folder / f"{snap.id}.json", json.dumps(table, separators=(",", ":")))
    _write_private(_last_pointer(folder, root), snap.id)
    _prune(folder)
    fields: dict[str, Any] = {
        "snap": snap.id,
        "root": root,
        "n": len(files),
        "bytes": sum(f[0] for f in files.values()),
        "hashed": hashed,
        "dur": round((time.time_ns() - started_ns) / 1e9, 4),
        "file": f"{SNAPSHOT_DIR}/{snap.id}.json",
    }
    if cut:
        fields["trunc"] = MAX_FILES
    if previous is not None:
        change = compare_snapshots(previous, snap)
        fields["prev"] = previous.id
        fields.update({key: len(paths) for key, paths in change.items()})
    snap.stats = fields
    append(make_record(SNAPSHOT, **fields))
    return snap
