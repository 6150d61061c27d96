"""PostgresStore: the SQLite Store's public API on PostgreSQL (the writes live here)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import psycopg

from kb.models import EDITABLE_FIELDS, LINK_RELATIONS, Entry, KBError, Link, format_id, parse_id, utc_now
from kb.storage.base import ENTRY_COLUMNS, GENESIS_HASH, event_hash, vector_to_blob
from kb.storage.postgres.connection import PgConnections
from kb.storage.postgres.feedback import PgFeedback
from kb.storage.postgres.reads import LINK_COLUMNS, PgReads
from kb.storage.sqlite import SQLiteStore, default_title
from kb.storage.sqlite_governance import bound_state, revision_digest


def _editable_values(entry: Entry) -> dict[str, Any]:
    return {k: getattr(entry, k) for k in EDITABLE_FIELDS}


def _revision_row(
    entry_id: str, revision: int, action: str, author: str | None, at: str, reason: str | None, changes: dict
) -> tuple[tuple, str]:
    """Return a revisions row and its digest (which the audit event of the write binds)."""
    changes_text = json.dumps(changes, ensure_ascii=False, default=str)
    row = (entry_id, revision, action, author, at, reason, changes_text)
    return row, revision_digest(*row)


class PostgresStore(PgFeedback, PgReads, PgConnections):
    """The Store API on PostgreSQL: a connection pool, writes serialised by one advisory lock."""

    check_entry = staticmethod(SQLiteStore.check_entry)
    _entry_row = staticmethod(SQLiteStore._entry_row)

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

    def append_event(
        self, actor: str | None, action: str, entry_id: str | None, details: dict[str, Any], at: str
    ) -> None:
        """Append one audit event chained by hash to the previous one (inside the caller's transaction)."""
        with self.transaction():
            self._audit_many([(actor, action, entry_id, details, at)])

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
                revision_row, digest = _revision_row(entry.id, 1, "create", author, now, reason, changes)
                revisions.append(revision_row)
                details = {"revision": 1, "reason": reason, **bound_state(entry, digest)}
                events.append((author, "create", entry.id, details, now))
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
            if "author" in changes and changes["author"] != entry.author:
                # Who wrote an entry is fixed at creation: changing it would let a signer disown it.
                raise KBError("field 'author': read-only after creation (the history names every editor)")
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
            revision_row, digest = _revision_row(entry.id, entry.revision, "edit", author, now, reason, diff)
            with conn.cursor() as cur:
                self._write_revisions(cur, [revision_row])
            details = {
                "revision": entry.revision,
                "reason": reason,
                "fields": sorted(diff),
                **bound_state(entry, digest),
            }
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
            revision_row, digest = _revision_row(
                entry.id, entry.revision, action, author, now, reason, change
            )
            with conn.cursor() as cur:
                self._write_revisions(cur, [revision_row])
            details = {"revision": entry.revision, "reason": reason, **bound_state(entry, digest)}
            self._audit_many([(author, action, entry.id, details, now)])
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
