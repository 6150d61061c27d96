"""SQL of the QA analytics: text-only vectors for clustering and the audited cluster curation log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

ANALYTICS_SCHEMA: list[str] = [
    # What happened (the entry's text) embedded alone: clustering must not be decided by a title that
    # only names a product, lot or batch. Keyed by a hash of the text, so an edit re-encodes it.
    """CREATE TABLE IF NOT EXISTS cluster_text_vectors (
        entry_id TEXT NOT NULL, fingerprint TEXT NOT NULL, text_hash TEXT NOT NULL,
        vector BLOB NOT NULL, PRIMARY KEY (entry_id, fingerprint)
    )""",
    # QA's curation (rename, merge, split), replayed on every re-clustering; append-only.
    """CREATE TABLE IF NOT EXISTS cluster_curation (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT, entry_type TEXT NOT NULL,
        action TEXT NOT NULL, cluster_id TEXT NOT NULL, details TEXT NOT NULL, run_id TEXT
    )""",
]


def text_hash(text: str) -> str:
    """Return the sha256 of a text (what the cached text-only vector was computed from)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AnalyticsQueries:
    """Store methods for clustering input and curation (mixed into Store)."""

    # Provided by Store: the connection, transaction() and _audit() (the hash-chained audit trail).
    conn: Any

    def ensure_analytics_schema(self) -> None:
        """Create the analytics tables if they are missing (idempotent; once per connection)."""
        if getattr(self, "_analytics_schema_ready", False):
            return
        with self.transaction():
            for stmt in ANALYTICS_SCHEMA:
                self.conn.execute(stmt)
        self._analytics_schema_ready = True

    def text_vectors(self, texts: dict[str, str], fingerprint: str) -> dict[str, np.ndarray]:
        """Return cached text-only vectors of entries whose text is unchanged, keyed by id."""
        self.ensure_analytics_schema()
        out: dict[str, np.ndarray] = {}
        ids = list(texts)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            cur = self.conn.execute(
                "SELECT entry_id, text_hash, vector FROM cluster_text_vectors "
                f"WHERE fingerprint = ? AND entry_id IN ({marks})",
                [fingerprint, *chunk],
            )
            for entry_id, digest, blob in cur:
                if digest == text_hash(texts[entry_id]):
                    out[entry_id] = np.frombuffer(blob, dtype="<f4")
        return out

    def put_text_vectors(self, items: Iterable[tuple[str, str, np.ndarray]], fingerprint: str) -> None:
        """Store text-only vectors as (entry id, text, vector), replacing older ones."""
        self.ensure_analytics_schema()
        rows = [
            (eid, fingerprint, text_hash(text), np.asarray(vec, dtype="<f4").tobytes())
            for eid, text, vec in items
        ]
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO cluster_text_vectors(entry_id, fingerprint, text_hash, vector) "
                "VALUES (?,?,?,?)",
                rows,
            )

    def add_curation(
        self,
        *,
        at: str,
        actor: str | None,
        entry_type: str,
        action: str,
        cluster_id: str,
        details: dict[str, Any],
        run_id: str | None,
    ) -> int:
        """Record one curation step and its audit event in the caller's transaction; return its seq."""
        self.ensure_analytics_schema()
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO cluster_curation(at, actor, entry_type, action, cluster_id, details, run_id) "
                "VALUES (?,?,?,?,?,?,?)",
                (at, actor, entry_type, action, cluster_id, json.dumps(details, sort_keys=True), run_id),
            )
            seq = int(cur.lastrowid)
            self._audit(
                actor,
                f"cluster_{action}",
                None,
                {"cluster_id": cluster_id, "curation_seq": seq, **details},
                at,
            )
        return seq

    def curations(self, entry_type: str) -> list[dict[str, Any]]:
        """Return the curation steps of an entry type, oldest first."""
        self.ensure_analytics_schema()
        cur = self.conn.execute(
            "SELECT seq, at, actor, action, cluster_id, details, run_id FROM cluster_curation "
            "WHERE entry_type = ? ORDER BY seq",
            (entry_type,),
        )
        cols = ("seq", "at", "actor", "action", "cluster_id", "details", "run_id")
        return [dict(zip(cols, r, strict=True)) | {"details": json.loads(r[5])} for r in cur.fetchall()]

    def iter_curated_ids(self, entry_type: str) -> Iterator[str]:
        """Yield the cluster ids QA has curated, in order of first curation."""
        seen: set[str] = set()
        for row in self.curations(entry_type):
            if row["cluster_id"] not in seen:
                seen.add(row["cluster_id"])
                yield row["cluster_id"]
