"""PostgreSQL reads: entries, history, links, vectors, the change log and audit events."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from kb.models import Entry, Link, NotFoundError, Revision, SearchFilters, parse_id
from kb.storage.base import ENTRY_COLUMNS, blob_to_vector, links_by_entry
from kb.storage.entry_lookups import EntryLookups
from kb.storage.sqlite import SQLiteStore

PAGE = 2000  # rows per round trip when a result is streamed
LINK_COLUMNS = "source, relation, target, author, created_at, note"
SELECT_ENTRIES = f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries"
_LINKS_OF = f"SELECT {LINK_COLUMNS} FROM links WHERE source = ANY(%s) OR target = ANY(%s) ORDER BY source, relation, target"


class PgReads(EntryLookups):
    """The Store's read methods on PostgreSQL (mixed into PostgresStore, which supplies _all/_one)."""

    _row_to_entry = staticmethod(SQLiteStore._row_to_entry)

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

    def get_many_with_links(self, entry_ids: Sequence[str]) -> tuple[dict[str, Entry], dict[str, list[Link]]]:
        """Return get_many(ids) and links_for(ids) together: one round trip (a pipeline), one snapshot."""
        ids = list(dict.fromkeys(entry_ids))
        if not ids:
            return {}, {}

        def work(conn: Any) -> tuple[list[tuple], list[tuple]]:
            with conn.pipeline():  # both statements go out together; one Sync: one implicit transaction
                entries = conn.execute(f"{SELECT_ENTRIES} WHERE id = ANY(%s) ORDER BY seq", (ids,))
                links = conn.execute(_LINKS_OF, (ids, ids))
            return entries.fetchall(), links.fetchall()

        entry_rows, link_rows = self._read(work)
        return (
            {r[1]: self._row_to_entry(r, ENTRY_COLUMNS) for r in entry_rows},
            links_by_entry(ids, link_rows),
        )

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

    def _entries_with(self, column: str, values: list[str], *, active_only: bool = False) -> list[Entry]:
        """Return the entries whose `column` is one of `values`: one round trip."""
        active = " AND status = 'active'" if active_only else ""
        rows = self._all(f"{SELECT_ENTRIES} WHERE {column} = ANY(%s){active}", (values,)) if values else []
        return [self._row_to_entry(r, ENTRY_COLUMNS) for r in rows]

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
        ids = list(dict.fromkeys(entry_ids))
        if not ids:
            return {}
        return links_by_entry(ids, self._all(_LINKS_OF, (ids, ids)))

    def all_links(self) -> list[Link]:
        """Return every link, in a stable order."""
        return [
            Link(*r) for r in self._all(f"SELECT {LINK_COLUMNS} FROM links ORDER BY source, relation, target")
        ]

    def filter_seqs(self, filters: SearchFilters) -> np.ndarray:
        """Return the sequence numbers of every entry that passes the filters, in id order."""
        where, params = _filter_sql(filters)
        # One array value instead of a row per entry: a broad filter (50k of 100k entries) takes 12 ms, not 41.
        ((seqs,),) = self._all(
            f"SELECT array_agg(seq ORDER BY seq) FROM entries WHERE {where}", params, binary=True
        )
        return np.array(seqs or [], dtype=np.int64)

    def stats_counts(self) -> dict[str, Any]:
        """Return active counts by type, process and site, and the number of links and revisions."""

        def group(column: str) -> dict[str, int]:
            return dict(
                self._all(
                    f"SELECT COALESCE({column}, '(none)'), COUNT(*) FROM entries WHERE status = 'active' "
                    "GROUP BY 1 ORDER BY 2 DESC, 1"
                )
            )

        return {
            "by_type": group("type"),
            "by_process": group("process"),
            "by_site": group("site"),
            "links": self._one("SELECT COUNT(*) FROM links")[0],
            "revisions": self._one("SELECT COUNT(*) FROM revisions")[0],
        }

    def integrity_check(self) -> str:
        """Return 'ok' when the server answers and every core table is there, else what is missing."""
        # PostgreSQL has no whole-database check like SQLite's PRAGMA integrity_check; on-disk checks are
        # the operator's (data checksums, amcheck), see docs/deployment.md.
        names = ("meta", "entries", "revisions", "links", "vectors", "audit_events")
        rows = self._all(
            "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL", (list(names),)
        )
        return "ok" if not rows else "missing tables: " + ", ".join(r[0] for r in rows)

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

    def changes_since(self, version: int) -> list[tuple[int, str]]:
        """Return (seq, status) of entries changed after an index-cache version."""
        rows = self._all(
            "SELECT seq, status FROM entries WHERE changed_version > %s ORDER BY seq", (version,)
        )
        return [(int(s), st) for s, st in rows]

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


def _filter_sql(filters: SearchFilters) -> tuple[str, list[object]]:
    """Return a WHERE clause over entries and its parameters for a SearchFilters (PostgreSQL dialect)."""
    where: list[str] = []
    params: list[object] = []
    for kind, column, value in filters.conditions():
        if kind == "in":
            where.append(f"{column} = ANY(%s)")
        elif kind == "nocase":
            # lower() on both sides matches the lower(...) filter indexes, as COLLATE NOCASE does on SQLite.
            where.append(f"lower({column}) = lower(%s)")
        elif kind == "tag":
            where.append("tags::jsonb ? %s")  # jsonb `?`: the array holds this string
        else:
            where.append(f"{column} {_COMPARISONS[kind]} %s")
        params.append(value)
    return " AND ".join(where), params


_COMPARISONS = {"eq": "=", "ge": ">=", "lt": "<"}
