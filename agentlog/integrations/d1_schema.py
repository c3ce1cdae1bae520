"""AgentLog's tables in D1, versioned: each migration runs as one atomic batch with its version bump.

Version 1: ``agentlog_meta`` (key/value, holds ``schema_version``) and ``agentlog_records``
(one row per record: its content key ``rkey``, session, time, kind, JSON body).
Version 2: ``agentlog_shares`` (share id -> session). Migrations only ever add.
"""

from __future__ import annotations

from agentlog.integrations.d1_client import D1Client, D1Error

META = "CREATE TABLE IF NOT EXISTS agentlog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
MIGRATIONS: list[list[str]] = [
    [  # 1
        "CREATE TABLE IF NOT EXISTS agentlog_records (rkey TEXT PRIMARY KEY, sid TEXT NOT NULL, "
        "ts REAL NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS agentlog_records_by_session ON agentlog_records (sid, rkey)",
    ],
    [  # 2
        "CREATE TABLE IF NOT EXISTS agentlog_shares (share_id TEXT PRIMARY KEY, sid TEXT NOT NULL, "
        "created REAL NOT NULL)",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)
SET_VERSION = ("INSERT INTO agentlog_meta (key, value) VALUES ('schema_version', ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value")


def remote_version(client: D1Client) -> int:
    """The database's schema version (0: AgentLog never ran there); creates the meta table."""
    rows = client.batch([(META, []), ("SELECT value FROM agentlog_meta WHERE key = 'schema_version'", [])])[1]
    try:
        return int(rows[0]["value"]) if rows else 0
    except (KeyError, TypeError, ValueError):
        raise D1Error(f"agentlog_meta holds an unreadable schema_version: {rows[0]!r}") from None


def ensure_schema(client: D1Client, target: int = SCHEMA_VERSION) -> int:
    """Create or migrate the tables up to ``target``; the version before. D1Error if the database is newer."""
    version = remote_version(client)
    if version > SCHEMA_VERSION:
        raise D1Error(f"the D1 database has AgentLog schema v{version}, newer than this AgentLog's "
                      f"v{SCHEMA_VERSION}: upgrade agentlog")
    for number in range(version + 1, target + 1):
        client.batch([(sql, []) for sql in MIGRATIONS[number - 1]] + [(SET_VERSION, [number])])
    return version
