"""The PostgreSQL tables: the SQLite schema's columns in PostgreSQL types (applied idempotently)."""

from __future__ import annotations

POSTGRES_SCHEMA: list[str] = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    """CREATE TABLE IF NOT EXISTS entries (
    seq BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, ext_id TEXT, type TEXT NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, process TEXT, step TEXT, site TEXT,
    scale TEXT, equipment TEXT, batch TEXT, occurred_at TEXT, severity TEXT,
    root_cause TEXT, author TEXT, tags TEXT NOT NULL DEFAULT '[]',
    fields TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active', revision INTEGER NOT NULL DEFAULT 1,
    content_hash TEXT NOT NULL, changed_version BIGINT NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS entries_ext_id ON entries(ext_id)",
    "CREATE INDEX IF NOT EXISTS entries_hash ON entries(content_hash)",
    "CREATE INDEX IF NOT EXISTS entries_changed ON entries(changed_version)",
    "CREATE INDEX IF NOT EXISTS entries_filter ON entries(status, type, process, step, site)",
    "CREATE INDEX IF NOT EXISTS entries_occurred ON entries(occurred_at)",
    # lower(...) is PostgreSQL's spelling of SQLite's COLLATE NOCASE indexes.
    "CREATE INDEX IF NOT EXISTS entries_by_site ON entries(lower(site), status)",
    "CREATE INDEX IF NOT EXISTS entries_by_step ON entries(lower(step), status)",
    "CREATE INDEX IF NOT EXISTS entries_by_process ON entries(lower(process), status)",
    "CREATE INDEX IF NOT EXISTS entries_type ON entries(type, status)",
    """CREATE TABLE IF NOT EXISTS revisions (
    entry_id TEXT NOT NULL, revision INTEGER NOT NULL, action TEXT NOT NULL, author TEXT,
    at TEXT NOT NULL, reason TEXT, changes TEXT NOT NULL, PRIMARY KEY (entry_id, revision))""",
    """CREATE TABLE IF NOT EXISTS links (
    source TEXT NOT NULL, relation TEXT NOT NULL, target TEXT NOT NULL, author TEXT,
    created_at TEXT NOT NULL, note TEXT, PRIMARY KEY (source, relation, target))""",
    "CREATE INDEX IF NOT EXISTS links_target ON links(target)",
    """CREATE TABLE IF NOT EXISTS vectors (
    entry_id TEXT NOT NULL, fingerprint TEXT NOT NULL, dim INTEGER NOT NULL,
    vector BYTEA NOT NULL, content_hash TEXT NOT NULL, PRIMARY KEY (entry_id, fingerprint))""",
    """CREATE TABLE IF NOT EXISTS audit_events (
    seq BIGINT PRIMARY KEY, at TEXT NOT NULL, actor TEXT, action TEXT NOT NULL,
    entry_id TEXT, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
]
