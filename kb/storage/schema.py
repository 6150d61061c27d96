"""One ordered list of migrations, shared by the storage backends.

Each migration has a number, a name and its statements per SQL dialect. A database records the last
number applied (meta `schema_version`); opening it applies the newer ones in order, in one transaction,
so a knowledge base made by an older release upgrades in place and a half-applied upgrade never exists.
Statements are idempotent (IF NOT EXISTS), because releases before this list created some tables lazily.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.storage.analytics_queries import ANALYTICS_SCHEMA
from kb.storage.feedback_queries import FEEDBACK_SCHEMA
from kb.storage.governance_queries import GOVERNANCE_SCHEMA


@dataclass(frozen=True)
class Migration:
    """One schema step: its number, what it does, and its statements per dialect."""

    version: int
    name: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...] = ()


_CORE_SQLITE = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    """CREATE TABLE IF NOT EXISTS entries (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ext_id TEXT, type TEXT NOT NULL,
        title TEXT NOT NULL, text TEXT NOT NULL, process TEXT, step TEXT, site TEXT,
        scale TEXT, equipment TEXT, batch TEXT, occurred_at TEXT, severity TEXT,
        root_cause TEXT, author TEXT, tags TEXT NOT NULL DEFAULT '[]',
        fields TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active', revision INTEGER NOT NULL DEFAULT 1,
        content_hash TEXT NOT NULL, changed_version INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS entries_ext_id ON entries(ext_id)",
    "CREATE INDEX IF NOT EXISTS entries_hash ON entries(content_hash)",
    "CREATE INDEX IF NOT EXISTS entries_changed ON entries(changed_version)",
    "CREATE INDEX IF NOT EXISTS entries_filter ON entries(status, type, process, step, site)",
    "CREATE INDEX IF NOT EXISTS entries_occurred ON entries(occurred_at)",
    # Filters compare case-insensitively; an index must use the same collation or SQLite scans the table.
    "DROP INDEX IF EXISTS entries_site",
    "DROP INDEX IF EXISTS entries_step",
    "DROP INDEX IF EXISTS entries_process",
    "CREATE INDEX IF NOT EXISTS entries_by_site ON entries(site COLLATE NOCASE, status)",
    "CREATE INDEX IF NOT EXISTS entries_by_step ON entries(step COLLATE NOCASE, status)",
    "CREATE INDEX IF NOT EXISTS entries_by_process ON entries(process COLLATE NOCASE, status)",
    "CREATE INDEX IF NOT EXISTS entries_type ON entries(type, status)",
    """CREATE TABLE IF NOT EXISTS revisions (
        entry_id TEXT NOT NULL, revision INTEGER NOT NULL, action TEXT NOT NULL, author TEXT,
        at TEXT NOT NULL, reason TEXT, changes TEXT NOT NULL,
        PRIMARY KEY (entry_id, revision)
    )""",
    """CREATE TABLE IF NOT EXISTS links (
        source TEXT NOT NULL, relation TEXT NOT NULL, target TEXT NOT NULL, author TEXT,
        created_at TEXT NOT NULL, note TEXT, PRIMARY KEY (source, relation, target)
    )""",
    "CREATE INDEX IF NOT EXISTS links_target ON links(target)",
    """CREATE TABLE IF NOT EXISTS vectors (
        entry_id TEXT NOT NULL, fingerprint TEXT NOT NULL, dim INTEGER NOT NULL,
        vector BLOB NOT NULL, content_hash TEXT NOT NULL, PRIMARY KEY (entry_id, fingerprint)
    )""",
    """CREATE TABLE IF NOT EXISTS audit_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT, action TEXT NOT NULL,
        entry_id TEXT, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
    )""",
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('version', '0')",
)

_WORKSHOPS_SQLITE = (
    """CREATE TABLE IF NOT EXISTS workshops (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, template_id TEXT NOT NULL,
        template_version TEXT, facilitator TEXT, participants TEXT NOT NULL, site TEXT, process TEXT,
        step TEXT, held_on TEXT, status TEXT NOT NULL, answers TEXT NOT NULL,
        draft_revision INTEGER NOT NULL, entry_ids TEXT NOT NULL, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
)

# The same tables in PostgreSQL's types (kb/storage/postgres/): BIGINT ids, BYTEA vectors, and audit
# seqs allocated under the write lock instead of AUTOINCREMENT (a sequence would leave gaps on rollback).
_CORE_POSTGRES = (
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
    "INSERT INTO meta(key, value) VALUES ('version', '0') ON CONFLICT DO NOTHING",
)

_WORKSHOPS_POSTGRES = (
    """CREATE TABLE IF NOT EXISTS workshops (
        id TEXT PRIMARY KEY, seq BIGINT NOT NULL UNIQUE, template_id TEXT NOT NULL,
        template_version TEXT, facilitator TEXT, participants TEXT NOT NULL, site TEXT, process TEXT,
        step TEXT, held_on TEXT, status TEXT NOT NULL, answers TEXT NOT NULL,
        draft_revision INTEGER NOT NULL, entry_ids TEXT NOT NULL, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
)


def postgres_of(statements: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Return SQLite DDL in PostgreSQL's spelling (identity keys, bytea, case-sensitive text)."""
    out = []
    for statement in statements:
        text = statement.replace(
            "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        )
        # PostgreSQL has no NOCASE collation; names are compared as typed (lower() in the queries).
        text = text.replace(" BLOB", " BYTEA").replace(" COLLATE NOCASE", "")
        out.append(text.replace(" user TEXT,", ' "user" TEXT,'))  # a reserved word in PostgreSQL
    return tuple(out)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "entries, revisions, links, vectors, audit events", _CORE_SQLITE, _CORE_POSTGRES),
    # Schema 1 kept an FTS5 table in sync by triggers; keyword search is now the in-memory BM25 index
    # (kb/retrieval/keyword_index.py), so the table and its triggers only slowed writes.
    Migration(
        2,
        "drop the FTS5 keyword table",
        (
            "DROP TRIGGER IF EXISTS entries_ai",
            "DROP TRIGGER IF EXISTS entries_ad",
            "DROP TRIGGER IF EXISTS entries_au",
            "DROP TABLE IF EXISTS entries_fts",
        ),
        ("DROP TABLE IF EXISTS entries_fts",),  # PostgreSQL never had it: a no-op, so every step has SQL
    ),
    Migration(3, "workshop drafts", _WORKSHOPS_SQLITE, _WORKSHOPS_POSTGRES),
    # Releases before this list created the next tables lazily, at first use: IF NOT EXISTS keeps
    # those databases as they are and gives every new one the same tables from the start.
    Migration(
        4,
        "accounts, sessions, login attempts, signatures, transfer provenance, site keys",
        tuple(GOVERNANCE_SCHEMA),
        postgres_of(GOVERNANCE_SCHEMA),
    ),
    Migration(
        5,
        "clustering runs, text-only vectors, cluster curation",
        tuple(ANALYTICS_SCHEMA),
        postgres_of(ANALYTICS_SCHEMA),
    ),
    Migration(6, "judgments on search hits", tuple(FEEDBACK_SCHEMA), postgres_of(FEEDBACK_SCHEMA)),
    # A filtered search asks the store for the seqs passing its filters. SQLite's filter indexes carry
    # the rowid, which is seq; PostgreSQL's carried neither seq nor the column under lower(), so each
    # matching entry cost a heap page. Covering both lets PostgreSQL answer from the index alone (an
    # index-only scan, on vacuumed pages): 1,000 of 100k entries in 0.18 ms instead of 0.35 ms.
    Migration(
        7,
        "PostgreSQL filter indexes cover seq",
        (),  # SQLite: nothing to do
        (
            "DROP INDEX IF EXISTS entries_by_site",
            "DROP INDEX IF EXISTS entries_by_step",
            "DROP INDEX IF EXISTS entries_by_process",
            "DROP INDEX IF EXISTS entries_type",
            "CREATE INDEX entries_by_site ON entries(lower(site), status) INCLUDE (site, seq)",
            "CREATE INDEX entries_by_step ON entries(lower(step), status) INCLUDE (step, seq)",
            "CREATE INDEX entries_by_process ON entries(lower(process), status) INCLUDE (process, seq)",
            "CREATE INDEX entries_type ON entries(type, status) INCLUDE (seq)",
        ),
    ),
    # PostgreSQL judgments were numbered MAX(id) + 1 by hand before they shared SQLite's INSERT, which
    # lets the identity column number them: start it after the rows already there.
    Migration(
        8,
        "PostgreSQL judgment ids continue after the stored ones",
        (),  # SQLite: AUTOINCREMENT already does
        (
            "SELECT setval(pg_get_serial_sequence('feedback', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM feedback",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version


class MigratedStore:
    """What every store that applies MIGRATIONS shares: the version it recorded (a base, listed last)."""

    def get_meta(self, key: str) -> str | None:
        raise NotImplementedError

    def schema_version(self) -> int:
        """Return the last migration applied to this database (0 for a new one)."""
        value = self.get_meta("schema_version")
        return int(value) if value is not None else 0


def pending(applied: int) -> list[Migration]:
    """Return the migrations newer than `applied`, in order."""
    return [m for m in MIGRATIONS if m.version > applied]
