"""Team sharing through Cloudflare D1: push a session's records, share it, pull a teammate's.

Each record is one row keyed by its content (:func:`agentlog.store.importer.record_key`),
inserted with ``INSERT OR IGNORE``: a re-sync inserts nothing twice, and a sync that
failed part-way resumes where it stopped (it first asks which keys the database
already holds, so the rest is all it sends). Records are scrubbed once more before
they leave the machine.

Batching, within D1's limits (developers.cloudflare.com/d1/platform/limits): 100
bound parameters per statement (20 rows of 5), statements far under 100 KB of SQL,
rows (a record's JSON) at most 2,000,000 bytes (larger ones are skipped and counted),
and at most MAX_REQUEST_BYTES of records or MAX_STATEMENTS_PER_REQUEST statements per
request, each request one atomic batch.

Reading a session back (the keys a sync skips, the records a pull imports) pages by
content key and trusts no page: a page larger than asked, or one whose keys do not
strictly increase past the last page's, stops with D1Error, and so does a session of
more than MAX_SESSION_ROWS rows (so at most MAX_SESSION_ROWS / page size + 1 requests)
or MAX_SESSION_CHARS of row text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from agentlog.integrations.d1_client import D1Client, D1Error, load_settings
from agentlog.integrations.d1_schema import ensure_schema
from agentlog.integrations.httpclient import server_text

PARAMS_PER_ROW = 5
MAX_PARAMS = 100
ROWS_PER_STATEMENT = MAX_PARAMS // PARAMS_PER_ROW
MAX_ROW_BYTES = 2_000_000
MAX_REQUEST_BYTES = 1_000_000
MAX_STATEMENTS_PER_REQUEST = 50
KEYS_PAGE = 5000
PULL_PAGE = 200
MAX_SESSION_ROWS = 200_000  # rows of one session read back from D1 (at most 41 key pages, 1,001 pull pages)
MAX_SESSION_CHARS = 256 * 1024 * 1024  # of row text read back (the default data dir cap)
INSERT_PREFIX = "INSERT OR IGNORE INTO agentlog_records (rkey, sid, ts, kind, body) VALUES "


class SyncResult(NamedTuple):
    sid: str
    sent: int  # records inserted by this sync
    present: int  # records the database already had
    skipped: int  # records over MAX_ROW_BYTES, not sent
    requests: int


class Row(NamedTuple):
    rkey: str
    sid: str
    ts: float
    kind: str
    body: str


def session_rows(data_dir: Path, sid: str) -> list[Row]:
    """One row per distinct record of the session and its sub-sessions (sessions a program
    started inside it, at any depth), scrubbed, oldest first; every row is filed under ``sid``."""
    from agentlog.core.redact import scrub
    from agentlog.store import iter_records
    from agentlog.store.importer import record_key
    from agentlog.work.summary import session_tree, summarize_sessions

    records = list(iter_records(data_dir))
    family = set(session_tree(summarize_sessions(records), sid))
    rows: dict[str, Row] = {}
    for record in records:
        if record.get("sid") not in family:
            continue
        record = scrub(record)
        key = record_key(record)
        body = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str)
        rows.setdefault(key, Row(key, sid, float(record.get("ts") or 0.0), str(record.get("k")), body))
    return list(rows.values())


def session_pages(client: D1Client, columns: str, sid: str, page: int) -> Iterator[dict[str, Any]]:
    """The session's rows (``columns`` include ``rkey``) in key order, a page at a time; D1Error if the
    server answers a page larger than asked, keys that do not strictly increase, or too many rows."""
    after, total, chars = "", 0, 0
    while True:
        rows = client.query(f"SELECT {columns} FROM agentlog_records WHERE sid = ? AND rkey > ? "
                            "ORDER BY rkey LIMIT ?", [sid, after, page])
        if len(rows) > page:
            raise D1Error(f"D1 answered {len(rows)} rows to a page of {page}; stopped")
        for row in rows:
            key = row.get("rkey") if isinstance(row, dict) else None
            if not isinstance(key, str) or key <= after:
                raise D1Error("D1 paging did not advance (a key repeated or out of order); stopped")
            after = key
            chars += sum(len(value) for value in row.values() if isinstance(value, str))
        total += len(rows)
        if total > MAX_SESSION_ROWS or chars > MAX_SESSION_CHARS:
            raise D1Error(f"D1 holds more than {MAX_SESSION_ROWS} records or {MAX_SESSION_CHARS >> 20} MiB for "
                          f"session {server_text(str(sid), limit=80)} (the limit a session is read back with); "
                          "stopped")
        yield from rows
        if len(rows) < page:
            return


def remote_keys(client: D1Client, sid: str, wanted: set[str]) -> set[str]:
    """Which of the ``wanted`` content keys the database holds for the session."""
    return {row["rkey"] for row in session_pages(client, "rkey", sid, KEYS_PAGE) if row["rkey"] in wanted}


def _insert(rows: list[Row]) -> tuple[str, list[Any]]:
    return INSERT_PREFIX + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows)), [v for row in rows for v in row]


def insert_batches(rows: list[Row]) -> Iterator[list[tuple[str, list[Any]]]]:
    """Requests (lists of INSERT statements) within the per-statement and per-request limits."""
    request: list[tuple[str, list[Any]]] = []
    statement: list[Row] = []
    size = 0
    for row in rows:
        row_bytes = len(row.body.encode("utf-8")) + 200  # the key, session and JSON quoting around it
        if size + row_bytes > MAX_REQUEST_BYTES and (request or statement):
            yield request + ([_insert(statement)] if statement else [])
            request, statement, size = [], [], 0
        statement.append(row)
        size += row_bytes
        if len(statement) == ROWS_PER_STATEMENT:
            request.append(_insert(statement))
            statement = []
            if len(request) == MAX_STATEMENTS_PER_REQUEST:
                yield request
                request, size = [], 0
    if statement:
        request.append(_insert(statement))
    if request:
        yield request


def sync_session_to_d1(session: str, data_dir: Path | None = None, client: D1Client | None = None) -> SyncResult:
    """Push one session's records (id or unique prefix) to D1; D1Error / LookupError on failure.

    Safe to run again at any time: only records the database lacks are sent.
    """
    from agentlog.core.config import get_config

    data_dir = data_dir or get_config().data_dir
    client = client or D1Client(load_settings())
    sid = resolve_sid(data_dir, session)
    before = client.requests
    ensure_schema(client)
    rows = session_rows(data_dir, sid)
    fitting = [r for r in rows if len(r.body.encode("utf-8")) <= MAX_ROW_BYTES]
    have = remote_keys(client, sid, {r.rkey for r in fitting})
    missing = [r for r in fitting if r.rkey not in have]
    for statements in insert_batches(missing):
        client.batch(statements)
    return SyncResult(sid, len(missing), len(fitting) - len(missing), len(rows) - len(fitting),
                      client.requests - before)


def resolve_sid(data_dir: Path, session: str) -> str:
    from agentlog.store import iter_records
    from agentlog.work.summary import resolve_session, summarize_sessions

    return resolve_session(summarize_sessions(iter_records(data_dir)), session).id


def share_id_for(client: D1Client, sid: str) -> str:
    """16 hex digits, the same each time a session is shared to the same database."""
    import xxhash

    return xxhash.xxh3_64_hexdigest(f"agentlog-share\0{client.settings.database_id}\0{sid}".encode())


def share_session(session: str, data_dir: Path | None = None, client: D1Client | None = None
                  ) -> tuple[str, SyncResult]:
    """Sync the session, then register it under a share id a teammate can ``agentlog pull``."""
    client = client or D1Client(load_settings())
    result = sync_session_to_d1(session, data_dir, client)
    share = share_id_for(client, result.sid)
    client.query("INSERT OR IGNORE INTO agentlog_shares (share_id, sid, created) VALUES (?, ?, ?)",
                 [share, result.sid, round(time.time(), 3)])
    return share, result


def _valid_record(record: Any) -> bool:
    from agentlog.store import SCHEMA_VERSION

    return (isinstance(record, dict) and type(record.get("sv")) is int and record["sv"] <= SCHEMA_VERSION
            and isinstance(record.get("k"), str) and isinstance(record.get("sid"), str)
            and isinstance(record.get("ts"), int | float))


def pull_share(share_id: str, client: D1Client | None = None) -> tuple[str, int, int, int]:
    """Import a shared session into the local store: (session id, added, already here, unreadable)."""
    from agentlog.store.importer import import_records, record_key
    from agentlog.store.reader import parse_record
    from agentlog.work.summary import session_tree, summarize_sessions

    client = client or D1Client(load_settings())
    ensure_schema(client)
    found = client.query("SELECT sid FROM agentlog_shares WHERE share_id = ?", [share_id.strip().lower()])
    if not found:
        raise D1Error(f"no share {share_id!r} in D1 database {client.settings.database_id}")
    sid = found[0]["sid"]
    records, bad = [], 0
    for row in session_pages(client, "rkey, body", sid, PULL_PAGE):
        try:
            record = parse_record(row["body"])  # bounded and checked as every reader does
        except (KeyError, TypeError):
            record = None
        if _valid_record(record) and record_key(record) == row["rkey"]:
            records.append(record)
        else:
            bad += 1
    family = set(session_tree(summarize_sessions(records), sid))  # the session and its sub-sessions only
    bad += sum(1 for r in records if r["sid"] not in family)
    records = [r for r in records if r["sid"] in family]
    added, present = import_records(records)
    return sid, added, present, bad

