"""The pattern index: how often each fingerprint was seen, when, in which sessions and commits.

Concurrency (many processes failing at once) is solved by an append-only log
plus a derived index, not by read-modify-write under a lock:

* a failure appends one line to ``patterns.log`` with a single ``O_APPEND``
  write (as the record store does), holding a *shared* ``flock`` on
  ``patterns.lock``: appenders never wait for each other and no count is lost,
  because nothing is read back and rewritten on the failure path;
* a reader folds ``patterns.log`` into ``patterns.json`` (the index) and empties
  the log under an *exclusive* lock, so no append lands between fold and
  truncate. The index is a cache: if it is corrupt (or missing with no log) it
  is rebuilt from the failure records, as ``agentlog patterns --rebuild`` does.

Occurrence ids already in a pattern's recent list are not counted twice. Bounds:
MAX_PATTERNS patterns (least recently seen evicted), per pattern MAX_SESSIONS
session ids, MAX_SHAS commits, MAX_AGENTS agents, MAX_RECENT occurrences.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

LOG_FILE = "patterns.log"
INDEX_FILE = "patterns.json"
LOCK_FILE = "patterns.lock"
INDEX_VERSION = 1
MAX_PATTERNS = 2000
MAX_SESSIONS = 50
MAX_SHAS = 50
MAX_AGENTS = 20
MAX_RECENT = 20
MAX_LOG_BYTES = 4 * 1024 * 1024  # past this an append tries to fold the log into the index


@contextlib.contextmanager
def _locked(data_dir: Path, exclusive: bool, wait: bool = True) -> Iterator[bool]:
    """Hold ``patterns.lock`` shared or exclusive; yields False if ``wait=False`` and it is taken."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: appends stay atomic, folds may race
        yield True
        return
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def occurrence(record: dict[str, Any], agent: str | None = None, task: str | None = None) -> dict[str, Any]:
    """One log line for a failure record (which must carry ``fp``, see fingerprint.stamp)."""
    key = record.get("fpk") or {}
    git = record.get("git") if isinstance(record.get("git"), dict) else {}
    line = {"fp": record["fp"], "id": record.get("id"), "ts": record.get("ts"), "sid": record.get("sid"),
            "sha": git.get("sha"), "t": key.get("t"), "m": key.get("m"), "fns": key.get("fns")}
    for name, value in (("agent", agent), ("task", task), ("test", record.get("test"))):
        if value:
            line[name] = str(value)[:200]
    return line


def append_occurrence(data_dir: Path, line: dict[str, Any]) -> None:
    """Append one occurrence (one write, shared lock); fold the log if it grew past MAX_LOG_BYTES."""
    data = (json.dumps(line, separators=(",", ":"), ensure_ascii=False, default=str) + "\n").encode()
    path = data_dir / LOG_FILE
    with _locked(data_dir, exclusive=False):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
    if size > MAX_LOG_BYTES:
        with _locked(data_dir, exclusive=True, wait=False) as got:
            if got:
                _fold_and_save(data_dir)


def record_error_pattern(failure: dict[str, Any], data_dir: str | Path | None = None) -> str:
    """Count one occurrence of a failure record in the pattern index; returns its fingerprint.

    The agent and task come from the environment of this process (``AGENTLOG_AGENT``/``AGENTLOG_TASK``).
    """
    from agentlog.history.fingerprint import fingerprint_record
    from agentlog.store.paths import ensure_data_dir

    folder = ensure_data_dir(_folder(data_dir))
    failure = {**failure, "fp": fingerprint_record(failure)}
    append_occurrence(folder, occurrence(failure, os.environ.get("AGENTLOG_AGENT"), os.environ.get("AGENTLOG_TASK")))
    return str(failure["fp"])


# -- folding occurrences into the index


def _new_pattern(line: dict[str, Any]) -> dict[str, Any]:
    return {"fp": line["fp"], "t": line.get("t"), "m": line.get("m"), "fns": line.get("fns") or [],
            "n": 0, "first": line.get("ts"), "last": line.get("ts"), "nsess": 0, "sessions": [],
            "agents": {}, "shas": [], "recent": []}


def fold(patterns: dict[str, dict[str, Any]], line: dict[str, Any]) -> None:
    """Add one occurrence to ``patterns`` (fingerprint -> pattern), bounded."""
    fp = line.get("fp")
    if not isinstance(fp, str):
        return
    pattern = patterns.get(fp) or patterns.setdefault(fp, _new_pattern(line))
    if line.get("id") and any(r.get("id") == line["id"] for r in pattern["recent"]):
        return  # counted already (a fold racing a rebuild)
    ts = line.get("ts") or 0
    pattern["n"] += 1
    pattern["first"] = min(pattern["first"] or ts, ts)
    pattern["last"] = max(pattern["last"] or ts, ts)
    sid = line.get("sid")
    if sid and sid not in pattern["sessions"]:
        pattern["nsess"] += 1
        pattern["sessions"] = [*pattern["sessions"], sid][-MAX_SESSIONS:]
    agent = line.get("agent")
    if agent and (agent in pattern["agents"] or len(pattern["agents"]) < MAX_AGENTS):
        pattern["agents"][agent] = pattern["agents"].get(agent, 0) + 1
    sha = line.get("sha")
    if sha:
        entry = next((s for s in pattern["shas"] if s[0] == sha), None)
        if entry is None:
            pattern["shas"] = [*pattern["shas"], [sha, ts, ts, 1]][-MAX_SHAS:]
        else:
            entry[1], entry[2], entry[3] = min(entry[1], ts), max(entry[2], ts), entry[3] + 1
    recent = {k: line[k] for k in ("id", "ts", "sid", "sha", "agent", "task", "test") if line.get(k)}
    pattern["recent"] = sorted([*pattern["recent"], recent], key=lambda r: r.get("ts", 0))[-MAX_RECENT:]


def _bound(patterns: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if len(patterns) <= MAX_PATTERNS:
        return patterns
    kept = sorted(patterns.values(), key=lambda p: p["last"] or 0)[-MAX_PATTERNS:]
    return {p["fp"]: p for p in kept}


def _read_index(data_dir: Path) -> dict[str, dict[str, Any]] | None:
    """The saved patterns, or None when the index is missing or unusable."""
    try:
        data = json.loads((data_dir / INDEX_FILE).read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("v") != INDEX_VERSION or not isinstance(data.get("patterns"), dict):
        return None
    patterns = data["patterns"]
    return patterns if all(isinstance(p, dict) and "n" in p for p in patterns.values()) else None


def _read_log(data_dir: Path) -> Iterator[dict[str, Any]]:
    from agentlog.store.reader import too_deep
    from agentlog.store.schema import valid_pattern_line

    try:
        raw = (data_dir / LOG_FILE).read_bytes()
    except OSError:
        return
    for chunk in raw.split(b"\n"):
        if not chunk.strip() or too_deep(chunk):
            continue  # a separator, or nesting that would raise RecursionError
        with contextlib.suppress(ValueError):
            line = json.loads(chunk)
            if valid_pattern_line(line):
                yield line


def _save(data_dir: Path, patterns: dict[str, dict[str, Any]]) -> None:
    """Write the index atomically and empty the log (the caller holds the exclusive lock)."""
    tmp = data_dir / f"{INDEX_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"v": INDEX_VERSION, "patterns": patterns}, fh, separators=(",", ":"), ensure_ascii=False)
    os.replace(tmp, data_dir / INDEX_FILE)
    with contextlib.suppress(FileNotFoundError):
        os.truncate(data_dir / LOG_FILE, 0)


def _fold_and_save(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Fold the log into the index. No index yet: the log alone, unless there is no log either
    (records older than the index); an unreadable index: rebuilt from the records."""
    patterns = _read_index(data_dir)
    if patterns is None:
        if (data_dir / INDEX_FILE).exists() or not (data_dir / LOG_FILE).exists():
            return _rebuild_locked(data_dir)
        patterns = {}
    for line in _read_log(data_dir):
        fold(patterns, line)
    patterns = _bound(patterns)
    _save(data_dir, patterns)
    return patterns


def _rebuild_locked(data_dir: Path) -> dict[str, dict[str, Any]]:
    from agentlog.store import iter_records
    from agentlog.store.records import FAILURE

    patterns: dict[str, dict[str, Any]] = {}
    agents = _session_agents(data_dir)
    for record in iter_records(data_dir, kinds=[FAILURE], warn=False):
        line = _occurrence_of_old(record, agents)
        if line is not None:
            fold(patterns, line)
    patterns = _bound(patterns)
    _save(data_dir, patterns)
    return patterns


def _session_agents(data_dir: Path) -> dict[str, tuple[str | None, str | None]]:
    from agentlog.store import iter_records
    from agentlog.work.session import SESSION_START

    return {r["sid"]: (r.get("agent"), r.get("task"))
            for r in iter_records(data_dir, kinds=[SESSION_START], warn=False) if isinstance(r.get("sid"), str)}


def _occurrence_of_old(record: dict[str, Any], agents: dict[str, tuple[str | None, str | None]]) -> dict | None:
    """The occurrence line of a stored failure record (fingerprinted now if it was written without)."""
    from agentlog.history.fingerprint import fingerprint_key, fingerprint_record, record_roots

    if not isinstance(record.get("exc"), dict):
        return None
    key = record.get("fpk")
    if not isinstance(key, dict):
        key = fingerprint_key(record["exc"], record_roots(record))
    agent, task = agents.get(record.get("sid"), (None, None))
    return occurrence({**record, "fp": fingerprint_record(record), "fpk": key}, agent, task)


def rebuild_index(data_dir: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Recount every pattern from the failure records in the data dir (replacing index and log)."""
    folder = _folder(data_dir)
    with _locked(folder, exclusive=True):
        return _rebuild_locked(folder)


def load_patterns(data_dir: str | Path | None = None, save: bool = True) -> dict[str, dict[str, Any]]:
    """Every pattern, the log folded in; ``save`` writes the folded index back (rebuilding it if needed)."""
    folder = _folder(data_dir)
    if not folder.is_dir():
        return {}
    if save and os.access(folder, os.W_OK):
        with _locked(folder, exclusive=True):
            return _fold_and_save(folder)
    with _locked(folder, exclusive=False) if os.access(folder, os.W_OK) else contextlib.nullcontext():
        patterns = _read_index(folder) or {}
        for line in _read_log(folder):
            fold(patterns, line)
    return patterns


def _folder(data_dir: str | Path | None) -> Path:
    from agentlog.core.config import get_config

    return Path(data_dir).absolute() if data_dir else get_config().data_dir


def search_patterns(query: str, data_dir: str | Path | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Patterns whose fingerprint starts with ``query`` or whose type, message or functions contain it.

    Case-insensitive; most often seen first. An empty query matches every pattern.
    """
    needle = query.strip().lower()
    found = []
    for pattern in load_patterns(data_dir, save=False).values():
        text = " ".join([str(pattern.get("t")), str(pattern.get("m")), *pattern.get("fns", [])]).lower()
        if not needle or pattern["fp"].startswith(needle) or needle in text:
            found.append(pattern)
    found.sort(key=lambda p: (-p["n"], -(p["last"] or 0)))
    return found[:limit]


def find_pattern(patterns: Iterable[dict[str, Any]], fp: str) -> dict[str, Any] | None:
    """The pattern with fingerprint ``fp`` (or a unique prefix of it)."""
    matches = [p for p in patterns if p["fp"].startswith(fp)]
    return matches[0] if len(matches) == 1 else None
