"""SQL of the governance layer (accounts, audit trail, signatures, site keys, transfer provenance, backups).

Both stores inherit `GovernanceQueries`; kb/governance/* calls these named methods and never touches a
connection itself. Their tables are created by the migration list (kb/storage/schema.py, step 4).
The SQL is written once, in a dialect both databases accept, with `?` placeholders; the few queries
spelled here the SQLite way (catalog, JSON, PRAGMA, sqlite_sequence) are overridden for PostgreSQL in
kb/storage/postgres/shared_queries.py. File snapshots (backups) and ReadOnlyDatabase are SQLite only.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from kb.storage.transfer_queries import TransferQueries

# What a database call raises, for callers outside kb/storage that must not import the driver themselves.
DatabaseError = sqlite3.Error

GOVERNANCE_SCHEMA: list[str] = [
    """CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    full_name TEXT,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT,
    updated_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login_at TEXT
)""",
    """CREATE TABLE IF NOT EXISTS signatures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    meaning TEXT NOT NULL,
    signer TEXT NOT NULL,
    signer_role TEXT NOT NULL,
    signer_full_name TEXT,
    at TEXT NOT NULL,
    comment TEXT
)""",
    "CREATE INDEX IF NOT EXISTS signatures_target ON signatures(target_id)",
    """CREATE TABLE IF NOT EXISTS transfer_provenance (
    entry_id TEXT NOT NULL, origin_site TEXT NOT NULL, origin_id TEXT NOT NULL, origin_kb TEXT,
    origin_revision INTEGER, origin_content_hash TEXT, package_id TEXT NOT NULL, imported_at TEXT NOT NULL,
    imported_by TEXT, history TEXT NOT NULL, PRIMARY KEY (origin_site, origin_id, package_id)
)""",
    """CREATE TABLE IF NOT EXISTS site_keys (
    site TEXT NOT NULL, key_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, added_at TEXT NOT NULL,
    added_by TEXT, status TEXT NOT NULL DEFAULT 'active'
)""",
    """CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS login_attempts (
    key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start TEXT NOT NULL
)""",
]
USER_COLUMNS: tuple[str, ...] = (
    "name", "full_name", "role", "status", "failed_attempts", "locked_until", "created_at", "created_by",
    "updated_at", "password_changed_at", "last_login_at",
)  # fmt: skip
SIGNATURE_COLUMNS: tuple[str, ...] = (
    "id", "signer", "signer_role", "meaning", "at", "target_id", "revision", "content_hash", "target_kind",
    "signer_full_name", "comment",
)  # fmt: skip
COUNTED_TABLES: tuple[str, ...] = (
    "entries", "revisions", "audit_events", "links", "vectors", "users", "signatures", "cluster_runs",
)  # fmt: skip


def secret_digest(secret: str) -> str:
    """Return the sha256 of a stored secret (a password hash), so the chain can bind it without holding it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class GovernanceQueries(TransferQueries):
    """One named method per governance query; mixed into Store (which provides conn and transaction)."""

    conn: sqlite3.Connection
    path: Path

    def transaction(self) -> AbstractContextManager[None]:  # provided by Store
        """Run the block in one IMMEDIATE transaction."""
        raise NotImplementedError

    # -- schema -----------------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        """Return True when a table of this name exists."""
        row = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return row.fetchone() is not None

    # -- audit events -----------------------------------------------------------------------------

    def record_event(
        self, actor: str | None, action: str, entry_id: str | None, details: dict[str, Any], at: str
    ) -> None:
        """Append one audit event (joins the caller's transaction, or runs in its own)."""
        with self.transaction():
            self._audit(actor, action, entry_id, details, at)  # type: ignore[attr-defined]

    def audit_rows(self) -> list[tuple]:
        """Return every audit event as (seq, at, actor, action, entry_id, details, prev_hash, hash), by seq."""
        return self.conn.execute(
            "SELECT seq, at, actor, action, entry_id, details, prev_hash, hash FROM audit_events ORDER BY seq"
        ).fetchall()

    def highest_issued_audit_seq(self) -> int | None:
        """Return the last audit seq SQLite ever issued (None when none was)."""
        try:
            row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'").fetchone()
        except sqlite3.OperationalError:  # no sqlite_sequence yet: nothing was ever issued
            return None
        return None if row is None else int(row[0])

    @staticmethod
    def _json_text(column: str, key: str) -> str:
        """Return SQL reading one key of a JSON text column as text (NULL when the text is not JSON)."""
        return f"CASE WHEN json_valid({column}) THEN json_extract({column}, '$.{key}') END"

    def trail_events(
        self, entry_id: str | None, low: str | None, high: str | None
    ) -> list[tuple[int, str, str | None, str, str | None, str]]:
        """Return (seq, at, actor, action, entry_id, details) of the events of one entry and/or time range."""
        where, params = [], []
        if entry_id:
            where.append(f"(entry_id = ? OR {self._json_text('details', 'target')} = ?)")
            params += [entry_id, entry_id]
        if low:
            where.append("at >= ?")
            params.append(low)
        if high:
            where.append("at < ?")
            params.append(high)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self.conn.execute(
            f"SELECT seq, at, actor, action, entry_id, details FROM audit_events {clause} ORDER BY seq",
            params,
        ).fetchall()

    def revision_changes(self, entry_id: str, revision: int) -> dict[str, Any]:
        """Return the recorded field changes of one revision ({} when there is no such row)."""
        row = self.conn.execute(
            "SELECT changes FROM revisions WHERE entry_id = ? AND revision = ?", (entry_id, revision)
        ).fetchone()
        return json.loads(row[0]) if row else {}

    def revision_rows(self) -> Iterator[tuple[str, int, str, str | None, str, str | None, str]]:
        """Yield every revision row as stored (changes as JSON text), by entry and revision."""
        yield from self.conn.execute(
            "SELECT entry_id, revision, action, author, at, reason, changes FROM revisions "
            "ORDER BY entry_id, revision"
        )

    def entry_states(self) -> Iterator[tuple[Any, int, str]]:
        """Yield (Entry as stored, revision, content_hash column) of every entry, by seq."""
        from kb.storage.base import ENTRY_COLUMNS
        from kb.storage.sqlite import Store

        for row in self.conn.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries ORDER BY seq"):
            entry = Store._row_to_entry(row, ENTRY_COLUMNS)
            yield entry, entry.revision, entry.content_hash

    def link_keys(self) -> set[tuple[str, str, str]]:
        """Return every stored link as (source, relation, target)."""
        return set(self.conn.execute("SELECT source, relation, target FROM links").fetchall())

    def database_integrity(self) -> str:
        """Return PRAGMA integrity_check's first line ('ok' when the file is sound)."""
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    # -- accounts ---------------------------------------------------------------------------------

    def user_row(self, name: str) -> tuple | None:
        """Return an account's USER_COLUMNS plus its password hash, or None."""
        if not self.table_exists("users"):
            return None
        return self.conn.execute(
            f"SELECT {', '.join(USER_COLUMNS)}, password_hash FROM users WHERE lower(name) = lower(?)",
            (name,),
        ).fetchone()

    def user_rows(self) -> list[tuple]:
        """Return USER_COLUMNS of every account, by name."""
        if not self.table_exists("users"):
            return []
        return self.conn.execute(
            f"SELECT {', '.join(USER_COLUMNS)} FROM users ORDER BY lower(name)"
        ).fetchall()

    def user_states(self) -> dict[str, tuple[str, str, str]]:
        """Return {lower-case name: (role, status, sha256 of the password hash)} of every account."""
        if not self.table_exists("users"):
            return {}
        rows = self.conn.execute("SELECT name, role, status, password_hash FROM users").fetchall()
        return {n.lower(): (r, s, secret_digest(h)) for n, r, s, h in rows}

    def count_users(self) -> int:
        """Return how many accounts exist."""
        if not self.table_exists("users"):
            return 0
        return self.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def count_active_admins(self) -> int:
        """Return how many active admin accounts exist."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND status = 'active'"
        ).fetchone()[0]

    def insert_user(
        self, name: str, full_name: str | None, role: str, password_hash: str, at: str, created_by: str | None
    ) -> None:
        """Insert a new active account."""
        self.conn.execute(
            "INSERT INTO users(name, full_name, role, password_hash, status, failed_attempts, created_at, "
            "created_by, updated_at, password_changed_at) VALUES (?,?,?,?,'active',0,?,?,?,?)",
            (name, full_name, role, password_hash, at, created_by, at, at),
        )

    def count_failed_attempt(self, name: str) -> int:
        """Add one failed attempt to an account and return the new count (atomic: one UPDATE ... RETURNING)."""
        row = self.conn.execute(
            "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE lower(name) = lower(?) "
            "RETURNING failed_attempts",
            (name,),
        ).fetchone()
        return int(row[0]) if row else 0

    def lock_user(self, name: str, until: str, at: str) -> None:
        """Lock an account until a time and reset its failure count."""
        self.conn.execute(
            "UPDATE users SET failed_attempts = 0, locked_until = ?, updated_at = ? WHERE lower(name) = lower(?)",
            (until, at, name),
        )

    def record_login(self, name: str, at: str, new_hash: str | None) -> None:
        """Reset the failure count and stamp the login (and store a re-hashed password if given)."""
        self.conn.execute(
            "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_login_at = ? WHERE lower(name) = lower(?)",
            (at, name),
        )
        if new_hash:
            self.conn.execute(
                "UPDATE users SET password_hash = ? WHERE lower(name) = lower(?)", (new_hash, name)
            )

    def set_password_hash(self, name: str, password_hash: str, at: str) -> None:
        """Store a new password hash (and clear any lockout)."""
        self.conn.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ?, "
            "failed_attempts = 0, locked_until = NULL WHERE lower(name) = lower(?)",
            (password_hash, at, at, name),
        )

    def set_user_role(self, name: str, role: str, at: str) -> None:
        """Change an account's role."""
        self.conn.execute(
            "UPDATE users SET role = ?, updated_at = ? WHERE lower(name) = lower(?)", (role, at, name)
        )

    def set_user_status(self, name: str, status: str, at: str) -> None:
        """Change an account's status (active or disabled)."""
        self.conn.execute(
            "UPDATE users SET status = ?, updated_at = ? WHERE lower(name) = lower(?)", (status, at, name)
        )

    def unlock_user(self, name: str, at: str) -> None:
        """Lift a lockout and reset the failure count."""
        self.conn.execute(
            "UPDATE users SET locked_until = NULL, failed_attempts = 0, updated_at = ? WHERE lower(name) = lower(?)",
            (at, name),
        )

    def count_client_failure(self, key: str, now: str, window_start_before: str) -> int:
        """Count one failed login for a rate-limit key (a name or a client) and return its count in the window."""
        row = self.conn.execute(
            "INSERT INTO login_attempts(key, failures, window_start) VALUES (?, 1, ?) "
            "ON CONFLICT(key) DO UPDATE SET "
            "failures = CASE WHEN login_attempts.window_start < ? THEN 1 ELSE login_attempts.failures + 1 END, "
            "window_start = CASE WHEN login_attempts.window_start < ? THEN excluded.window_start "
            "ELSE login_attempts.window_start END "
            "RETURNING failures",
            (key, now, window_start_before, window_start_before),
        ).fetchone()
        return int(row[0])

    def forgive_client_failure(self, key: str) -> None:
        """Take back one counted failure of a rate-limit key (the attempt succeeded)."""
        self.conn.execute(
            "UPDATE login_attempts SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE key = ?",
            (key,),
        )

    def client_failures(self, key: str, window_start_before: str) -> int:
        """Return the failures counted for a rate-limit key within the current window."""
        if not self.table_exists("login_attempts"):
            return 0
        row = self.conn.execute(
            "SELECT failures FROM login_attempts WHERE key = ? AND window_start >= ?",
            (key, window_start_before),
        ).fetchone()
        return int(row[0]) if row else 0

    def insert_session(self, token_hash: str, name: str, at: str, expires_at: str) -> None:
        """Store a CLI session token's hash for an account."""
        self.conn.execute(
            "INSERT INTO sessions(token_hash, name, created_at, expires_at) VALUES (?,?,?,?)",
            (token_hash, name, at, expires_at),
        )

    def session_owner(self, token_hash: str, now: str) -> str | None:
        """Return the account name of an unexpired session token's hash, or None."""
        if not self.table_exists("sessions"):
            return None
        row = self.conn.execute(
            "SELECT name FROM sessions WHERE token_hash = ? AND expires_at > ?", (token_hash, now)
        ).fetchone()
        return None if row is None else row[0]

    def delete_sessions(self, name: str) -> int:
        """Remove every session of an account and return how many there were."""
        if not self.table_exists("sessions"):
            return 0
        return self.conn.execute("DELETE FROM sessions WHERE lower(name) = lower(?)", (name,)).rowcount

    # -- signatures -------------------------------------------------------------------------------

    def signature_exists(
        self, target_id: str, revision: int, content_hash: str, meaning: str, signer: str
    ) -> bool:
        """Return True if this signer already signed this version with this meaning."""
        return (
            self.conn.execute(
                "SELECT 1 FROM signatures WHERE target_id = ? AND revision = ? AND content_hash = ? "
                "AND meaning = ? AND signer = ?",
                (target_id, revision, content_hash, meaning, signer),
            ).fetchone()
            is not None
        )

    def insert_signature(
        self,
        kind: str,
        target_id: str,
        revision: int,
        content_hash: str,
        meaning: str,
        signer: str,
        signer_role: str,
        signer_full_name: str | None,
        at: str,
        comment: str | None,
    ) -> int:
        """Insert one signature and return its id."""
        cur = self.conn.execute(
            "INSERT INTO signatures(target_kind, target_id, revision, content_hash, meaning, signer, signer_role, "
            "signer_full_name, at, comment) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (
                kind,
                target_id,
                revision,
                content_hash,
                meaning,
                signer,
                signer_role,
                signer_full_name,
                at,
                comment,
            ),
        )
        return int(cur.fetchone()[0])

    def signature_rows(self, target_id: str | None = None) -> list[tuple]:
        """Return SIGNATURE_COLUMNS of the signatures of one target (or all), by id."""
        if not self.table_exists("signatures"):
            return []
        sql = f"SELECT {', '.join(SIGNATURE_COLUMNS)} FROM signatures"
        params: tuple = ()
        if target_id is not None:
            sql += " WHERE target_id = ?"
            params = (target_id,)
        return self.conn.execute(sql + " ORDER BY id", params).fetchall()

    def revision_authors(self, entry_id: str) -> list[str]:
        """Return the author of every revision of an entry (who wrote any part of it)."""
        rows = self.conn.execute(
            "SELECT author FROM revisions WHERE entry_id = ? AND author IS NOT NULL", (entry_id,)
        )
        return [r[0] for r in rows.fetchall()]

    def cluster_run_parts(self, run_id: str) -> list[Any] | None:
        """Return a clustering run's row, clusters, members and events (None when there is no such run)."""
        if not self.table_exists("cluster_runs"):
            return None
        run = self.conn.execute(
            "SELECT run_id, created_at, entry_type, fingerprint, n_items, n_clusters, params, last_id_number "
            "FROM cluster_runs WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        if run is None:
            return None
        clusters = [
            [cid, label, size, hashlib.sha256(blob or b"").hexdigest()]
            for cid, label, size, blob in self.conn.execute(
                "SELECT cluster_id, label, size, centroid FROM clusters WHERE run_id = ? ORDER BY cluster_id",
                (run_id,),
            )
        ]
        members = [
            list(r)
            for r in self.conn.execute(
                "SELECT COALESCE(cluster_id, ''), entry_id, is_representative, rep_rank FROM cluster_members "
                "WHERE run_id = ? ORDER BY entry_id",
                (run_id,),
            )
        ]
        events = [
            list(r)
            for r in self.conn.execute(
                "SELECT seq, kind, old_ids, new_ids FROM cluster_events WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
        ]
        return [list(run), clusters, members, events]


class ReadOnlyDatabase(GovernanceQueries):
    """A database file opened read-only (a backup) with the governance queries, for checks and counts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> ReadOnlyDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def table_names(self) -> set[str]:
        """Return the names of the tables in the file."""
        return {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def counts(self) -> dict[str, int]:
        """Return the row count of each counted table present."""
        tables = self.table_names()
        return {
            t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in COUNTED_TABLES
            if t in tables
        }

    def fingerprint_counts(self) -> dict[str, int]:
        """Return how many vectors are stored per model fingerprint."""
        return dict(self.conn.execute("SELECT fingerprint, COUNT(*) FROM vectors GROUP BY fingerprint"))

    def schema_version(self) -> str | None:
        """Return the schema version recorded in the meta table."""
        return self.meta_value("schema_version")
