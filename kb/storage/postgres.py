"""The PostgreSQL store: the SQLite Store's public API on a shared database (psycopg 3, a connection pool).

Several app servers and CLI processes write to one database. Every write transaction first takes one
transaction-level advisory lock (WRITE_LOCK), so writers serialise exactly as they do on SQLite's
BEGIN IMMEDIATE, and under that lock:
- entry seqs and audit seqs are MAX(...)+1 inside the transaction: unique, and gap-free (a rolled-back
  transaction uses no number, which a sequence would burn and the audit check would then report);
- the audit chain head is read and extended by one writer at a time, so it stays one hash chain;
- the change counter (meta.version) grows in commit order. PostgreSQL makes a commit visible before it
  releases the transaction's locks, so when a reader sees version v, every change up to v is visible
  too: caches that follow `changes_since(v)` never skip a change committed out of order.
Each committed write also sends NOTIFY tacitkb_changes with the new version, for servers that LISTEN.
Reads take a pooled connection in autocommit (one snapshot per statement, as SQLite's reads do).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from kb.models import EDITABLE_FIELDS, LINK_RELATIONS, Entry, KBError, Link, NotFoundError, Revision
from kb.storage.sqlite import (
    ENTRY_COLUMNS,
    GENESIS_HASH,
    SCHEMA_VERSION,
    Store,
    blob_to_vector,
    default_title,
    event_hash,
    format_id,
    parse_id,
    utc_now,
    vector_to_blob,
)

WRITE_LOCK = 0x7AC17CB  # the advisory lock key every write transaction holds until it ends
NOTIFY_CHANNEL = "tacitkb_changes"
PAGE = 2000  # rows per round trip when a result is streamed

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

LINK_COLUMNS = "source, relation, target, author, created_at, note"
SELECT_ENTRIES = f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries"


def is_postgres_url(target: object) -> bool:
    """Return True when a --db/TACITKB_DB value names a PostgreSQL database rather than a folder."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def describe(url: str) -> str:
    """Return 'database NAME on HOST:PORT' for messages (never the password)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        return "the PostgreSQL database (unparsable URL)"
    host, port = info.get("host") or "localhost", info.get("port") or "5432"
    return f"PostgreSQL database '{info.get('dbname') or info.get('user') or '?'}' on {host}:{port}"


def pg_error(exc: Exception, where: str) -> KBError:
    """Return a KBError saying in plain words why the PostgreSQL database could not be used."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, errors.DiskFull):
        return KBError(f"{where}: the database server's disk is full; nothing from this change was saved")
    if isinstance(exc, errors.ReadOnlySqlTransaction):
        return KBError(f"{where}: the server is read-only (a replica?); point writers at the primary")
    if isinstance(exc, errors.InsufficientPrivilege):
        return KBError(f"{where}: permission denied ({text}); grant the TacitKB role access to its tables")
    if isinstance(exc, errors.LockNotAvailable | errors.QueryCanceled):
        return KBError(f"{where}: another writer kept the database busy too long; nothing was saved (retry)")
    if isinstance(exc, errors.InvalidCatalogName):
        return KBError(f"{where}: no such database ({text}); create it first (createdb)")
    if isinstance(exc, PoolTimeout | psycopg.OperationalError):
        return KBError(
            f"{where}: cannot reach the database server ({text}); if a change was being saved it was "
            "not confirmed: check whether it is there, then retry"
        )
    return KBError(f"{where}: database error: {text}")


def _editable_values(entry: Entry) -> dict[str, Any]:
    return {k: getattr(entry, k) for k in EDITABLE_FIELDS}


def _revision_row(entry_id: str, revision: int, action: str, author: str | None, at: str, reason, changes):
    return (
        entry_id,
        revision,
        action,
        author,
        at,
        reason,
        json.dumps(changes, ensure_ascii=False, default=str),
    )


class PostgresStore:
    """The Store API on PostgreSQL: a connection pool, writes serialised by one advisory lock."""

    check_entry = staticmethod(Store.check_entry)
    _row_to_entry = staticmethod(Store._row_to_entry)
    _entry_row = staticmethod(Store._entry_row)

    def __init__(self, url: str, *, max_connections: int = 8, timeout_s: float = 30.0) -> None:
        self.url = url
        self.location = describe(url)
        self.timeout_s = timeout_s
        self._local = threading.local()
        # Probe first: a wrong URL or a stopped server fails here, at once, with a clear message.
        try:
            psycopg.connect(url, connect_timeout=int(timeout_s)).close()
        except psycopg.Error as exc:
            raise pg_error(exc, self.location) from exc
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            # A pooled connection is checked when taken, so after a server restart the pool hands out
            # new connections instead of dead ones (automatic reconnect).
            check=ConnectionPool.check_connection,
            timeout=timeout_s,
            open=False,
        )
        self.pool.open(wait=True, timeout=timeout_s)
        self._migrate()

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()

    # -- connections and transactions -------------------------------------------------------------

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        """Yield this thread's transaction connection, or a pooled one for a single read."""
        tx = getattr(self._local, "conn", None)
        if tx is not None:
            yield tx
            return
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.Error, PoolTimeout) as exc:
            raise pg_error(exc, self.location) from exc

    def _all(self, sql: str, params: Sequence[Any] = (), *, binary: bool = False) -> list[tuple]:
        with self._conn() as conn, conn.cursor(binary=binary) as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        with self._conn() as conn:
            return conn.execute(sql, params).fetchone()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction holding the write lock (nested calls in a thread join it)."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        try:
            with self.pool.connection() as conn:
                self._local.conn = conn
                try:
                    with conn.transaction():
                        conn.execute(f"SET LOCAL lock_timeout = '{int(self.timeout_s * 1000)}ms'")
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                        yield
                finally:
                    self._local.conn = None
        except (psycopg.Error, PoolTimeout) as exc:
            raise pg_error(exc, self.location) from exc

    def _tx(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:  # a bug in this module, not a user error
            raise RuntimeError("a write ran outside PostgresStore.transaction()")
        return conn

    # -- schema -----------------------------------------------------------------------------------

    def _migrate(self) -> None:
        # Under the write lock: two servers opening a fresh database at once do not race the DDL.
        with self.transaction():
            conn = self._tx()
            for statement in POSTGRES_SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("INSERT INTO meta(key, value) VALUES ('version', '0') ON CONFLICT DO NOTHING")

    def _bump_version(self) -> int:
        """Increase the change counter (under the write lock) and announce it at commit."""
        conn = self._tx()
        row = conn.execute(
            "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'version' RETURNING value"
        ).fetchone()
        version = int(row[0])
        conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(version)))
        return version

    def version(self) -> int:
        """Return the change counter: it grows with every write that affects the index."""
        row = self._one("SELECT value FROM meta WHERE key = 'version'")
        return int(row[0])

    def wait_for_change(self, version: int, timeout_s: float) -> int | None:
        """Block until a write past `version` commits (LISTEN/NOTIFY); return the new counter, None on timeout."""
        if getattr(self._local, "conn", None) is not None:
            raise RuntimeError("wait_for_change() inside a transaction would wait for itself")
        with self._conn() as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            try:
                # Listening before reading the counter: a commit in between is either read or notified.
                current = int(conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])
                if current > version:
                    return current
                for note in conn.notifies(timeout=timeout_s):
                    if int(note.payload) > version:
                        return int(note.payload)
                return None
            finally:
                conn.execute(f"UNLISTEN {NOTIFY_CHANNEL}")

    # -- reading ----------------------------------------------------------------------------------

    def get(self, entry_id: str) -> Entry:
        """Return one entry by id, or raise NotFoundError."""
        row = self._one(f"{SELECT_ENTRIES} WHERE seq = %s", (parse_id(entry_id),))
        if row is None:
            raise NotFoundError(f"no entry with id {entry_id}")
        return self._row_to_entry(row, ENTRY_COLUMNS)

    def get_many(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        """Return the entries with these ids, keyed by id (unknown ids are left out)."""
        ids = list(dict.fromkeys(entry_ids))
        rows = self._all(f"{SELECT_ENTRIES} WHERE id = ANY(%s) ORDER BY seq", (ids,)) if ids else []
        return {r[1]: self._row_to_entry(r, ENTRY_COLUMNS) for r in rows}

    def find_by_ext_id(self, ext_id: str) -> Entry | None:
        """Return the newest entry carrying this source-system id, if any."""
        row = self._one(f"{SELECT_ENTRIES} WHERE ext_id = %s ORDER BY seq DESC LIMIT 1", (ext_id,))
        return None if row is None else self._row_to_entry(row, ENTRY_COLUMNS)

    def find_by_hash(self, content_hash: str) -> Entry | None:
        """Return an active entry with exactly this content, if any."""
        row = self._one(
            f"{SELECT_ENTRIES} WHERE content_hash = %s AND status = 'active' ORDER BY seq LIMIT 1",
            (content_hash,),
        )
        return None if row is None else self._row_to_entry(row, ENTRY_COLUMNS)

    def iter_entries(self, *, status: str | None = "active", type: str | None = None) -> Iterator[Entry]:
        """Yield entries in id order, optionally only one status and type."""
        where, params = ["seq > %s"], []
        if status:
            where.append("status = %s")
            params.append(status)
        if type:
            where.append("type = %s")
            params.append(type)
        last = 0
        # Keyset pages: no connection is held while the caller works on the entries.
        while True:
            rows = self._all(
                f"{SELECT_ENTRIES} WHERE {' AND '.join(where)} ORDER BY seq LIMIT {PAGE}", [last, *params]
            )
            for row in rows:
                yield self._row_to_entry(row, ENTRY_COLUMNS)
            if len(rows) < PAGE:
                return
            last = rows[-1][0]

    def count(self, *, status: str | None = "active") -> int:
        """Return how many entries there are (of one status, by default active)."""
        if status:
            return self._one("SELECT COUNT(*) FROM entries WHERE status = %s", (status,))[0]
        return self._one("SELECT COUNT(*) FROM entries")[0]

    def keyword_rows(self, seqs: Sequence[int] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (seq, searchable fields) of active entries, all of them or those with these seqs."""
        sql = "SELECT seq, title, text, equipment, tags FROM entries WHERE status = 'active'"
        rows = (
            self._all(sql + " ORDER BY seq")
            if seqs is None
            else self._all(sql + " AND seq = ANY(%s) ORDER BY seq", (list(map(int, seqs)),))
        )
        for seq, title, text, equipment, tags in rows:
            yield seq, {"title": title, "text": text, "equipment": equipment, "tags": json.loads(tags)}

    def history(self, entry_id: str) -> list[Revision]:
        """Return the revisions of one entry, oldest first."""
        self.get(entry_id)
        rows = self._all(
            "SELECT entry_id, revision, action, author, at, reason, changes FROM revisions "
            "WHERE entry_id = %s ORDER BY revision",
            (entry_id,),
        )
        return [Revision(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    def links(self, entry_id: str) -> list[Link]:
        """Return every link from or to an entry."""
        rows = self._all(
            f"SELECT {LINK_COLUMNS} FROM links WHERE source = %s OR target = %s "
            "ORDER BY created_at, source, relation, target",
            (entry_id, entry_id),
        )
        return [Link(*row) for row in rows]

    def links_for(self, entry_ids: Sequence[str]) -> dict[str, list[Link]]:
        """Return the links of many entries at once, keyed by entry id."""
        out: dict[str, list[Link]] = {i: [] for i in entry_ids}
        ids = list(out)
        if not ids:
            return out
        rows = self._all(
            f"SELECT {LINK_COLUMNS} FROM links WHERE source = ANY(%s) OR target = ANY(%s) "
            "ORDER BY source, relation, target",
            (ids, ids),
        )
        for row in rows:
            link = Link(*row)
            for key in (link.source, link.target):
                if key in out and link not in out[key]:
                    out[key].append(link)
        return out

    def all_links(self) -> list[Link]:
        """Return every link, in a stable order."""
        return [
            Link(*r) for r in self._all(f"SELECT {LINK_COLUMNS} FROM links ORDER BY source, relation, target")
        ]

    # -- vectors ----------------------------------------------------------------------------------

    def vectors(self, fingerprint: str, *, status: str = "active") -> tuple[np.ndarray, np.ndarray]:
        """Return (seqs, matrix) of stored vectors of one model for entries of one status."""
        # Binary transfer: bytea arrives as raw bytes instead of hex text (half the bytes, no decoding).
        rows = self._all(
            "SELECT e.seq, v.vector FROM vectors v JOIN entries e ON e.id = v.entry_id "
            "WHERE v.fingerprint = %s AND e.status = %s AND v.content_hash = e.content_hash ORDER BY e.seq",
            (fingerprint, status),
            binary=True,
        )
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.vstack([blob_to_vector(bytes(r[1])) for r in rows]).astype(np.float32, copy=False)
        return seqs, matrix

    def count_vectors(self, fingerprint: str, *, status: str = "active") -> int:
        """Return how many entries of a status have a current vector for this model."""
        return self._one(
            "SELECT COUNT(*) FROM vectors v JOIN entries e ON e.id = v.entry_id "
            "WHERE v.fingerprint = %s AND e.status = %s AND v.content_hash = e.content_hash",
            (fingerprint, status),
        )[0]

    def vectors_for(self, entry_ids: Sequence[str], fingerprint: str) -> dict[str, np.ndarray]:
        """Return the stored vectors of some entries (current content only), keyed by id."""
        ids = list(entry_ids)
        if not ids:
            return {}
        rows = self._all(
            "SELECT v.entry_id, v.vector FROM vectors v JOIN entries e ON e.id = v.entry_id "
            "WHERE v.fingerprint = %s AND v.content_hash = e.content_hash AND v.entry_id = ANY(%s)",
            (fingerprint, ids),
            binary=True,
        )
        return {entry_id: blob_to_vector(bytes(blob)) for entry_id, blob in rows}

    def missing_vectors(self, fingerprint: str) -> list[Entry]:
        """Return active entries with no current vector for this model (to encode)."""
        rows = self._all(
            f"SELECT {', '.join('e.' + c for c in ENTRY_COLUMNS)} FROM entries e LEFT JOIN vectors v "
            "ON v.entry_id = e.id AND v.fingerprint = %s AND v.content_hash = e.content_hash "
            "WHERE e.status = 'active' AND v.entry_id IS NULL ORDER BY e.seq",
            (fingerprint,),
        )
        return [self._row_to_entry(r, ENTRY_COLUMNS) for r in rows]

    def fingerprints(self) -> dict[str, int]:
        """Return how many vectors are stored per model fingerprint."""
        return dict(
            self._all("SELECT fingerprint, COUNT(*) FROM vectors GROUP BY fingerprint ORDER BY fingerprint")
        )

    def put_vectors(self, items: Iterable[tuple[Entry, np.ndarray]], fingerprint: str) -> None:
        """Store vectors for entries' current content (replacing older ones of the same model)."""
        rows = [(e.id, fingerprint, int(v.shape[0]), vector_to_blob(v), e.content_hash) for e, v in items]
        with self.transaction():
            if not rows:
                return
            conn = self._tx()
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO vectors(entry_id, fingerprint, dim, vector, content_hash) VALUES (%s,%s,%s,%s,%s) "
                    "ON CONFLICT (entry_id, fingerprint) DO UPDATE SET dim = EXCLUDED.dim, "
                    "vector = EXCLUDED.vector, content_hash = EXCLUDED.content_hash",
                    rows,
                )
            version = self._bump_version()
            conn.execute(
                "UPDATE entries SET changed_version = %s WHERE id = ANY(%s)", (version, [r[0] for r in rows])
            )

    def changes_since(self, version: int) -> list[tuple[int, str]]:
        """Return (seq, status) of entries changed after an index-cache version."""
        rows = self._all(
            "SELECT seq, status FROM entries WHERE changed_version > %s ORDER BY seq", (version,)
        )
        return [(int(s), st) for s, st in rows]

    # -- audit ------------------------------------------------------------------------------------

    def _audit_many(self, events: Sequence[tuple[str | None, str, str | None, dict[str, Any], str]]) -> None:
        """Append audit events (actor, action, entry_id, details, at) to the one hash chain."""
        conn = self._tx()
        row = conn.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (int(row[0]), row[1]) if row else (0, GENESIS_HASH)
        rows = []
        for actor, action, entry_id, details, at in events:
            digest = event_hash(at, actor, action, entry_id, details, prev)
            seq += 1
            details_text = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)
            rows.append((seq, at, actor, action, entry_id, details_text, prev, digest))
            prev = digest
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit_events(seq, at, actor, action, entry_id, details, prev_hash, hash) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                rows,
            )

    def audit_events(self, entry_id: str | None = None) -> list[dict[str, Any]]:
        """Return audit events (of one entry, or all), oldest first."""
        sql = "SELECT seq, at, actor, action, entry_id, details, prev_hash, hash FROM audit_events"
        rows = (
            self._all(sql + " WHERE entry_id = %s ORDER BY seq", (entry_id,))
            if entry_id
            else self._all(sql + " ORDER BY seq")
        )
        cols = ("seq", "at", "actor", "action", "entry_id", "details", "prev_hash", "hash")
        return [dict(zip(cols, r, strict=True)) | {"details": json.loads(r[5])} for r in rows]

    # -- writing ----------------------------------------------------------------------------------

    def insert(
        self, entries: Sequence[Entry], *, author: str | None, reason: str | None = None
    ) -> list[Entry]:
        """Insert new entries in one transaction, with revision 1 and an audit event each."""
        for entry in entries:
            self.check_entry(entry)
        now = utc_now()
        with self.transaction():
            conn = self._tx()
            seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()[0]) + 1
            version = self._bump_version()
            rows, revisions, events = [], [], []
            for entry in entries:
                entry.id = format_id(seq)
                entry.title = entry.title or default_title(entry.text)
                entry.author = entry.author or author
                entry.created_at = entry.updated_at = now
                entry.status = "active"
                entry.revision = 1
                entry.content_hash = entry.compute_hash()
                rows.append(self._entry_row(entry, seq, version))
                changes = {
                    k: {"old": None, "new": v}
                    for k, v in _editable_values(entry).items()
                    if v not in (None, "", [], {})
                }
                revisions.append(_revision_row(entry.id, 1, "create", author, now, reason, changes))
                events.append((author, "create", entry.id, {"revision": 1, "reason": reason}, now))
                seq += 1
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO entries({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})",
                    rows,
                )
                self._write_revisions(cur, revisions)
            self._audit_many(events)
        return list(entries)

    @staticmethod
    def _write_revisions(cur: psycopg.Cursor, rows: list[tuple]) -> None:
        cur.executemany(
            "INSERT INTO revisions(entry_id, revision, action, author, at, reason, changes) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s)",
            rows,
        )

    def update(self, entry_id: str, changes: dict[str, Any], *, author: str | None, reason: str) -> Entry:
        """Apply field changes to an entry as a new revision (old and new values recorded)."""
        if not reason or not reason.strip():
            raise KBError("argument 'reason': a reason is required for every edit")
        unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
        if unknown:
            raise KBError(
                f"field '{unknown[0]}': not an editable field (editable: {', '.join(EDITABLE_FIELDS)})"
            )
        with self.transaction():
            entry = self.get(entry_id)
            if entry.status != "active":
                raise KBError(f"{entry_id} is retired; it cannot be edited")
            before = _editable_values(entry)
            for key, value in changes.items():
                setattr(entry, key, value)
            self.check_entry(entry)
            after = _editable_values(entry)
            diff = {k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k]}
            if not diff:
                return entry
            now = utc_now()
            entry.revision += 1
            entry.updated_at = now
            entry.content_hash = entry.compute_hash()
            version = self._bump_version()
            pairs = [
                (c, v)
                for c, v in zip(
                    ENTRY_COLUMNS, self._entry_row(entry, parse_id(entry.id), version), strict=True
                )
                if c not in ("id", "seq")
            ]
            conn = self._tx()
            conn.execute(
                f"UPDATE entries SET {', '.join(f'{c} = %s' for c, _ in pairs)} WHERE id = %s",
                [v for _, v in pairs] + [entry.id],
            )
            with conn.cursor() as cur:
                self._write_revisions(
                    cur, [_revision_row(entry.id, entry.revision, "edit", author, now, reason, diff)]
                )
            details = {"revision": entry.revision, "reason": reason, "fields": sorted(diff)}
            self._audit_many([(author, "edit", entry.id, details, now)])
        return entry

    def set_status(self, entry_id: str, status: str, *, author: str | None, reason: str) -> Entry:
        """Retire (or restore) an entry with a reason; nothing is ever hard-deleted."""
        if not reason or not reason.strip():
            raise KBError("argument 'reason': a reason is required to retire or restore an entry")
        with self.transaction():
            entry = self.get(entry_id)
            if entry.status == status:
                raise KBError(f"{entry_id} is already {status}")
            now = utc_now()
            old = entry.status
            entry.status = status
            entry.revision += 1
            entry.updated_at = now
            version = self._bump_version()
            conn = self._tx()
            conn.execute(
                "UPDATE entries SET status = %s, revision = %s, updated_at = %s, changed_version = %s WHERE id = %s",
                (status, entry.revision, now, version, entry.id),
            )
            action = "retire" if status == "retired" else "restore"
            change = {"status": {"old": old, "new": status}}
            with conn.cursor() as cur:
                self._write_revisions(
                    cur, [_revision_row(entry.id, entry.revision, action, author, now, reason, change)]
                )
            self._audit_many(
                [(author, action, entry.id, {"revision": entry.revision, "reason": reason}, now)]
            )
        return entry

    def add_link(self, link: Link) -> Link:
        """Store a link between two existing entries (idempotent)."""
        if link.relation not in LINK_RELATIONS:
            raise KBError(
                f"argument 'relation': unknown relation '{link.relation}' (expected one of {', '.join(LINK_RELATIONS)})"
            )
        if link.source == link.target:
            raise KBError(f"an entry cannot be linked to itself ({link.source})")
        with self.transaction():
            self.get(link.source)
            self.get(link.target)
            link.created_at = link.created_at or utc_now()
            cur = self._tx().execute(
                f"INSERT INTO links({LINK_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                (link.source, link.relation, link.target, link.author, link.created_at, link.note),
            )
            if cur.rowcount:
                details = {"relation": link.relation, "target": link.target}
                self._audit_many([(link.author, "link", link.source, details, link.created_at)])
        return link
