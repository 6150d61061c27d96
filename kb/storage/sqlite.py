"""The SQLite store: the single source of truth for entries, history, links, audit events and vectors.

Every write runs in one `BEGIN IMMEDIATE` transaction, so two processes writing at once serialise on
SQLite's lock (with a busy timeout) instead of losing rows, and a failed batch leaves nothing behind.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from kb.models import (
    Entry,
    KBError,
    Link,
    NotFoundError,
    Revision,
    SearchFilters,
    parse_id,
)
from kb.storage import schema
from kb.storage.analytics_queries import AnalyticsQueries
from kb.storage.base import (
    ENTRY_COLUMNS,
    GENESIS_HASH,
    blob_to_vector,
    event_hash,
    links_by_entry,
    vector_to_blob,
)
from kb.storage.entry_lookups import EntryLookups
from kb.storage.entry_writes import AuditEvent, EntryWrites, RevisionRow
from kb.storage.feedback_queries import FeedbackQueries
from kb.storage.governance_queries import GovernanceQueries
from kb.storage.workshop_queries import WorkshopQueries


def storage_error(exc: sqlite3.Error, path: Path) -> KBError:
    """Return a KBError saying in plain words why the database could not be used (nothing was saved)."""
    text = str(exc).lower()
    if "full" in text:
        return KBError(
            f"{path}: the disk is full; nothing from this change was saved (free some space, then retry)"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return KBError(
            f"{path}: the database is read-only or cannot be opened for writing (check the file, its folder "
            "and the disk); nothing was saved"
        )
    if "locked" in text or "busy" in text:
        return KBError(f"{path}: another process kept the database busy too long; nothing was saved (retry)")
    if "malformed" in text or "not a database" in text or "disk i/o" in text:
        return KBError(
            f"{path}: the database file is damaged or unreadable ({exc}); restore it from a backup"
        )
    return KBError(f"{path}: database error: {exc}")


class SQLiteStore(
    GovernanceQueries,
    AnalyticsQueries,
    FeedbackQueries,
    WorkshopQueries,
    EntryWrites,
    EntryLookups,
    schema.MigratedStore,
):
    """The embedded Store: one SQLite file (WAL, busy timeout, migrations); every write to entries."""

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 30_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so batches are truly atomic.
        try:
            conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
            )
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path) from exc
        self.conn = conn
        self._depth = 0
        # One connection is shared by the threads of a process (the UI); a transaction belongs to one
        # thread at a time, so other threads wait here instead of silently joining it.
        self._tx_lock = threading.RLock()
        self._migrate()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # -- schema -----------------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Apply the migrations this database has not had yet, all in one transaction."""
        with self.transaction():
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            applied = self.schema_version()
            for migration in schema.pending(applied):
                # One statement at a time: executescript() would commit our transaction early.
                for statement in migration.sqlite:
                    self.conn.execute(statement)
            if applied < schema.LATEST:
                self.set_meta("schema_version", str(schema.LATEST))

    def get_meta(self, key: str) -> str | None:
        """Return a value of the key/value meta table, or None."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str, *, overwrite: bool = True) -> str:
        """Store a meta value (or keep the existing one when overwrite is False); return the stored value."""
        with self.transaction():
            verb = "INSERT OR REPLACE" if overwrite else "INSERT OR IGNORE"
            self.conn.execute(f"{verb} INTO meta(key, value) VALUES (?, ?)", (key, value))
            return self.get_meta(key) or value

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one IMMEDIATE transaction (nested calls in the same thread join the outer one)."""
        with self._tx_lock, self._transaction():
            yield

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path) from exc
        self._depth = 1
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite may have rolled back already (e.g. SQLITE_FULL at COMMIT): roll back only what is open.
            if self.conn.in_transaction:
                with suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise storage_error(exc, self.path) from exc
            raise
        finally:
            self._depth = 0

    def _bump_version(self) -> int:
        """Increase and return the change counter that index caches compare against."""
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'")
        return self.version()

    def version(self) -> int:
        """Return the change counter: it grows with every write that affects the index."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0])

    # -- reading ----------------------------------------------------------------------------------

    @staticmethod
    def _row_to_entry(row: sqlite3.Row | tuple, columns: Sequence[str]) -> Entry:
        data = dict(zip(columns, row, strict=True))
        data.pop("seq", None)
        data.pop("changed_version", None)
        data["tags"] = json.loads(data.get("tags") or "[]")
        data["fields"] = json.loads(data.get("fields") or "{}")
        return Entry(**data)

    def get(self, entry_id: str) -> Entry:
        """Return one entry by id, or raise NotFoundError."""
        seq = parse_id(entry_id)
        cur = self.conn.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries WHERE seq = ?", (seq,))
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"no entry with id {entry_id}")
        return self._row_to_entry(row, ENTRY_COLUMNS)

    def get_many(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        """Return the entries with these ids, keyed by id (unknown ids are left out)."""
        out: dict[str, Entry] = {}
        for chunk, marks in _in_chunks(list(dict.fromkeys(entry_ids))):
            cur = self.conn.execute(
                f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries WHERE id IN ({marks})", chunk
            )
            for row in cur:
                entry = self._row_to_entry(row, ENTRY_COLUMNS)
                out[entry.id] = entry
        return out

    def get_many_with_links(self, entry_ids: Sequence[str]) -> tuple[dict[str, Entry], dict[str, list[Link]]]:
        """Return get_many(ids) and links_for(ids) together (what a search shows of its hits)."""
        return self.get_many(entry_ids), self.links_for(entry_ids)

    def find_by_ext_id(self, ext_id: str) -> Entry | None:
        """Return the newest entry carrying this source-system id, if any."""
        cur = self.conn.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries WHERE ext_id = ? ORDER BY seq DESC LIMIT 1",
            (ext_id,),
        )
        row = cur.fetchone()
        return None if row is None else self._row_to_entry(row, ENTRY_COLUMNS)

    def find_by_hash(self, content_hash: str) -> Entry | None:
        """Return an active entry with exactly this content, if any."""
        cur = self.conn.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries WHERE content_hash = ? AND status = 'active' "
            "ORDER BY seq LIMIT 1",
            (content_hash,),
        )
        row = cur.fetchone()
        return None if row is None else self._row_to_entry(row, ENTRY_COLUMNS)

    def _entries_with(self, column: str, values: list[str], *, active_only: bool = False) -> list[Entry]:
        """Return the entries whose `column` is one of `values`, chunk by chunk (SQLite's parameter limit)."""
        active = " AND status = 'active'" if active_only else ""
        out: list[Entry] = []
        for chunk, marks in _in_chunks(values):
            cur = self.conn.execute(
                f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries WHERE {column} IN ({marks}){active}", chunk
            )
            out.extend(self._row_to_entry(row, ENTRY_COLUMNS) for row in cur)
        return out

    def iter_entries(self, *, status: str | None = "active", type: str | None = None) -> Iterator[Entry]:
        """Yield entries in id order, optionally only one status and type."""
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if type:
            where.append("type = ?")
            params.append(type)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        cur = self.conn.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries {clause} ORDER BY seq", params
        )
        for row in cur:
            yield self._row_to_entry(row, ENTRY_COLUMNS)

    def count(self, *, status: str | None = "active") -> int:
        """Return how many entries there are (of one status, by default active)."""
        if status:
            return self.conn.execute("SELECT COUNT(*) FROM entries WHERE status = ?", (status,)).fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def keyword_rows(self, seqs: Sequence[int] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (seq, searchable fields) of active entries, all of them or those with these seqs."""
        columns = "seq, title, text, equipment, tags"
        if seqs is None:
            chunks: Iterable[Sequence[int] | None] = [None]
        else:
            chunks = [seqs[i : i + 500] for i in range(0, len(seqs), 500)]
        for chunk in chunks:
            where, params = "status = 'active'", list(chunk or [])
            if chunk is not None:
                where += f" AND seq IN ({','.join('?' * len(chunk))})"
            for seq, title, text, equipment, tags in self.conn.execute(
                f"SELECT {columns} FROM entries WHERE {where} ORDER BY seq", params
            ):
                yield seq, {"title": title, "text": text, "equipment": equipment, "tags": json.loads(tags)}

    def history(self, entry_id: str) -> list[Revision]:
        """Return the revisions of one entry, oldest first."""
        self.get(entry_id)
        cur = self.conn.execute(
            "SELECT entry_id, revision, action, author, at, reason, changes FROM revisions "
            "WHERE entry_id = ? ORDER BY revision",
            (entry_id,),
        )
        return [Revision(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in cur.fetchall()]

    def links(self, entry_id: str) -> list[Link]:
        """Return every link from or to an entry."""
        cur = self.conn.execute(
            "SELECT source, relation, target, author, created_at, note FROM links "
            "WHERE source = ? OR target = ? ORDER BY created_at, source, relation, target",
            (entry_id, entry_id),
        )
        return [Link(*row) for row in cur.fetchall()]

    def links_for(self, entry_ids: Sequence[str]) -> dict[str, list[Link]]:
        """Return the links of many entries at once, keyed by entry id."""
        ids = list(dict.fromkeys(entry_ids))
        rows = (
            row
            for chunk, marks in _in_chunks(ids, 400)
            for row in self.conn.execute(
                "SELECT source, relation, target, author, created_at, note FROM links "
                f"WHERE source IN ({marks}) OR target IN ({marks}) ORDER BY source, relation, target",
                chunk + chunk,
            )
        )
        return links_by_entry(ids, rows)

    def all_links(self) -> list[Link]:
        """Return every link, in a stable order."""
        cur = self.conn.execute(
            "SELECT source, relation, target, author, created_at, note FROM links ORDER BY source, relation, target"
        )
        return [Link(*row) for row in cur.fetchall()]

    def filter_seqs(self, filters: SearchFilters) -> np.ndarray:
        """Return the sequence numbers of every entry that passes the filters."""
        where, params = _filter_sql(filters)
        # One JSON array instead of a Python tuple per row: half the time for 10k rows.
        row = self.conn.execute(
            f"SELECT json_group_array(e.seq) FROM entries e WHERE {where}", params
        ).fetchone()
        return np.array(json.loads(row[0]), dtype=np.int64)

    def stats_counts(self) -> dict[str, Any]:
        """Return active counts by type, process and site, and the number of links and revisions."""

        def group(column: str) -> dict[str, int]:
            rows = self.conn.execute(
                f"SELECT COALESCE({column}, '(none)'), COUNT(*) FROM entries WHERE status = 'active' "
                f"GROUP BY 1 ORDER BY 2 DESC, 1"
            )
            return dict(rows.fetchall())

        return {
            "by_type": group("type"),
            "by_process": group("process"),
            "by_site": group("site"),
            "links": self.conn.execute("SELECT COUNT(*) FROM links").fetchone()[0],
            "revisions": self.conn.execute("SELECT COUNT(*) FROM revisions").fetchone()[0],
        }

    def integrity_check(self) -> str:
        """Return 'ok', or what SQLite's own integrity check found."""
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    # -- vectors ----------------------------------------------------------------------------------

    def vectors(self, fingerprint: str, *, status: str = "active") -> tuple[np.ndarray, np.ndarray]:
        """Return (seqs, matrix) of stored vectors of one model for entries of one status."""
        cur = self.conn.execute(
            "SELECT e.seq, v.vector, v.dim FROM vectors v JOIN entries e ON e.id = v.entry_id "
            "WHERE v.fingerprint = ? AND e.status = ? AND v.content_hash = e.content_hash ORDER BY e.seq",
            (fingerprint, status),
        )
        rows = cur.fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.vstack([blob_to_vector(r[1]) for r in rows]).astype(np.float32, copy=False)
        return seqs, matrix

    def count_vectors(self, fingerprint: str, *, status: str = "active") -> int:
        """Return how many entries of a status have a current vector for this model."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM vectors v JOIN entries e ON e.id = v.entry_id "
            "WHERE v.fingerprint = ? AND e.status = ? AND v.content_hash = e.content_hash",
            (fingerprint, status),
        ).fetchone()[0]

    def vectors_for(self, entry_ids: Sequence[str], fingerprint: str) -> dict[str, np.ndarray]:
        """Return the stored vectors of some entries (current content only), keyed by id."""
        out: dict[str, np.ndarray] = {}
        for chunk, marks in _in_chunks(list(entry_ids)):
            cur = self.conn.execute(
                "SELECT v.entry_id, v.vector FROM vectors v JOIN entries e ON e.id = v.entry_id "
                f"WHERE v.fingerprint = ? AND v.content_hash = e.content_hash AND v.entry_id IN ({marks})",
                [fingerprint, *chunk],
            )
            for entry_id, blob in cur:
                out[entry_id] = blob_to_vector(blob)
        return out

    def missing_vectors(self, fingerprint: str) -> list[Entry]:
        """Return active entries with no current vector for this model (to encode)."""
        cur = self.conn.execute(
            f"SELECT {', '.join('e.' + c for c in ENTRY_COLUMNS)} FROM entries e LEFT JOIN vectors v "
            "ON v.entry_id = e.id AND v.fingerprint = ? AND v.content_hash = e.content_hash "
            "WHERE e.status = 'active' AND v.entry_id IS NULL ORDER BY e.seq",
            (fingerprint,),
        )
        return [self._row_to_entry(r, ENTRY_COLUMNS) for r in cur.fetchall()]

    def fingerprints(self) -> dict[str, int]:
        """Return how many vectors are stored per model fingerprint."""
        cur = self.conn.execute(
            "SELECT fingerprint, COUNT(*) FROM vectors GROUP BY fingerprint ORDER BY fingerprint"
        )
        return dict(cur.fetchall())

    def put_vectors(self, items: Iterable[tuple[Entry, np.ndarray]], fingerprint: str) -> None:
        """Store vectors for entries' current content (replacing older ones of the same model)."""
        with self.transaction():
            rows = [(e.id, fingerprint, int(v.shape[0]), vector_to_blob(v), e.content_hash) for e, v in items]
            self.conn.executemany(
                "INSERT OR REPLACE INTO vectors(entry_id, fingerprint, dim, vector, content_hash) VALUES (?,?,?,?,?)",
                rows,
            )
            if rows:
                version = self._bump_version()
                self.conn.executemany(
                    "UPDATE entries SET changed_version = ? WHERE id = ?", [(version, r[0]) for r in rows]
                )

    def changes_since(self, version: int) -> list[tuple[int, str]]:
        """Return (seq, status) of entries changed after an index-cache version."""
        cur = self.conn.execute(
            "SELECT seq, status FROM entries WHERE changed_version > ? ORDER BY seq", (version,)
        )
        return cur.fetchall()

    # -- writing ----------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        # Called only inside a write transaction: BEGIN IMMEDIATE holds SQLite's single write lock, so no
        # other writer can read the same MAX before this one commits.
        row = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()
        return int(row[0]) + 1

    def append_event(
        self, actor: str | None, action: str, entry_id: str | None, details: dict[str, Any], at: str
    ) -> None:
        """Append one audit event chained by hash to the previous one (inside the caller's transaction)."""
        with self.transaction():
            self._audit(actor, action, entry_id, details, at)

    def _audit(
        self, actor: str | None, action: str, entry_id: str | None, details: dict[str, Any], at: str
    ) -> None:
        """Append one audit event chained to the previous one by hash (tamper evidence)."""
        row = self.conn.execute("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
        prev = row[0] if row else GENESIS_HASH
        digest = event_hash(at, actor, action, entry_id, details, prev)
        self.conn.execute(
            "INSERT INTO audit_events(at, actor, action, entry_id, details, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
            (
                at,
                actor,
                action,
                entry_id,
                json.dumps(details, sort_keys=True, ensure_ascii=False, default=str),
                prev,
                digest,
            ),
        )

    def audit_events(self, entry_id: str | None = None) -> list[dict[str, Any]]:
        """Return audit events (of one entry, or all), oldest first."""
        sql = "SELECT seq, at, actor, action, entry_id, details, prev_hash, hash FROM audit_events"
        params: tuple = ()
        if entry_id:
            sql += " WHERE entry_id = ?"
            params = (entry_id,)
        cur = self.conn.execute(sql + " ORDER BY seq", params)
        cols = ("seq", "at", "actor", "action", "entry_id", "details", "prev_hash", "hash")
        return [dict(zip(cols, r, strict=True)) | {"details": json.loads(r[5])} for r in cur.fetchall()]

    # -- row primitives for the shared write rules (kb/storage/entry_writes.py) ------------------------

    def _insert_entry_rows(self, rows: list[list[Any]]) -> None:
        self.conn.executemany(
            f"INSERT INTO entries({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})",
            rows,
        )

    def _update_entry_columns(self, entry_id: str, values: dict[str, Any]) -> None:
        self.conn.execute(
            f"UPDATE entries SET {', '.join(f'{c} = ?' for c in values)} WHERE id = ?",
            [*values.values(), entry_id],
        )

    def _insert_revision_rows(self, rows: list[RevisionRow]) -> None:
        self.conn.executemany(
            "INSERT INTO revisions(entry_id, revision, action, author, at, reason, changes) VALUES (?,?,?,?,?,?,?)",
            rows,
        )

    def _append_events(self, events: list[AuditEvent]) -> None:
        for event in events:
            self._audit(*event)

    def _insert_link_row(self, link: Link) -> bool:
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO links(source, relation, target, author, created_at, note) VALUES (?,?,?,?,?,?)",
            (link.source, link.relation, link.target, link.author, link.created_at, link.note),
        )
        return bool(cur.rowcount)


def _in_chunks(values: list[Any], size: int = 500) -> Iterator[tuple[list[Any], str]]:
    """Yield (chunk, '?,?,...') pieces of a list, small enough for SQLite's limit on parameters."""
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        yield chunk, ",".join("?" * len(chunk))


def _filter_sql(filters: SearchFilters) -> tuple[str, list[object]]:
    """Return a WHERE clause over table alias `e` and its parameters for a SearchFilters."""
    where: list[str] = []
    params: list[object] = []
    for kind, column, value in filters.conditions():
        if kind == "in":
            where.append(f"e.{column} IN ({','.join('?' * len(value))})")
            params.extend(value)
            continue
        if kind == "nocase":
            # COLLATE NOCASE matches the filter indexes (kb/storage/schema.py), so filters use them.
            where.append(f"e.{column} = ? COLLATE NOCASE")
        elif kind == "tag":
            where.append("EXISTS (SELECT 1 FROM json_each(e.tags) WHERE json_each.value = ?)")
        else:
            where.append(f"e.{column} {_COMPARISONS[kind]} ?")
        params.append(value)
    return " AND ".join(where), params


_COMPARISONS = {"eq": "=", "ge": ">=", "lt": "<"}

# The name the rest of the code used before the Store protocol; the class is the SQLite backend.
Store = SQLiteStore
