"""SQL of the QA analytics: text-only vectors for clustering and the audited cluster curation log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

# Clustering runs (append-only): a run, its clusters, every member (cluster_id NULL = unclustered), events.
CLUSTER_RUN_SCHEMA: list[str] = [
    """CREATE TABLE IF NOT EXISTS cluster_runs (
        run_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        entry_type TEXT,
        fingerprint TEXT,
        n_items INTEGER NOT NULL,
        n_clusters INTEGER NOT NULL,
        params TEXT NOT NULL,
        diagnostics TEXT NOT NULL,
        timings TEXT NOT NULL,
        last_id_number INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS clusters (
        run_id TEXT NOT NULL REFERENCES cluster_runs(run_id),
        cluster_id TEXT NOT NULL,
        label TEXT NOT NULL,
        size INTEGER NOT NULL,
        centroid BLOB,
        PRIMARY KEY (run_id, cluster_id)
    )""",
    """CREATE TABLE IF NOT EXISTS cluster_members (
        run_id TEXT NOT NULL REFERENCES cluster_runs(run_id),
        cluster_id TEXT,
        entry_id TEXT NOT NULL,
        is_representative INTEGER NOT NULL DEFAULT 0,
        rep_rank INTEGER,
        PRIMARY KEY (run_id, entry_id)
    )""",
    """CREATE TABLE IF NOT EXISTS cluster_events (
        run_id TEXT NOT NULL REFERENCES cluster_runs(run_id),
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        old_ids TEXT NOT NULL,
        new_ids TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    )""",
    "CREATE INDEX IF NOT EXISTS idx_cluster_members_entry ON cluster_members(entry_id)",
    "CREATE INDEX IF NOT EXISTS idx_cluster_runs_created ON cluster_runs(created_at)",
]

ANALYTICS_SCHEMA: list[str] = [
    *CLUSTER_RUN_SCHEMA,
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


class ClusterRunQueries:
    """The queries of stored clustering runs (needs self.conn and self.transaction())."""

    conn: Any

    def insert_cluster_run(
        self,
        run: dict[str, Any],
        clusters: list[dict[str, Any]],
        members: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> None:
        """Write one run with its clusters, members and events in one transaction."""
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                f"INSERT INTO cluster_runs({', '.join(run)}) VALUES ({', '.join('?' * len(run))})",
                list(run.values()),
            )
            for table, rows in (
                ("clusters", clusters),
                ("cluster_members", members),
                ("cluster_events", events),
            ):
                if rows:
                    cols = list(rows[0])
                    self.conn.executemany(
                        f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [[r[c] for c in cols] for r in rows],
                    )

    def cluster_run_summaries(self, entry_type: str | None) -> list[tuple[Any, ...]]:
        """Return (run_id, created_at, entry_type, fingerprint, n_items, n_clusters, diagnostics, timings,
        last_id_number) per run, newest first."""
        where, args = ("WHERE entry_type = ?", [entry_type]) if entry_type is not None else ("", [])
        return self.conn.execute(
            "SELECT run_id, created_at, entry_type, fingerprint, n_items, n_clusters, diagnostics, timings, "
            f"last_id_number FROM cluster_runs {where} ORDER BY created_at DESC, last_id_number DESC, run_id DESC",
            args,
        ).fetchall()

    def cluster_run_row(self, run_id: str | None, entry_type: str | None) -> tuple[Any, ...] | None:
        """Return (run_id, created_at, entry_type, fingerprint, params, diagnostics, timings, last_id_number)
        of a run, or of the latest (of a type) when run_id is None."""
        cols = "run_id, created_at, entry_type, fingerprint, params, diagnostics, timings, last_id_number"
        if run_id is not None:
            return self.conn.execute(f"SELECT {cols} FROM cluster_runs WHERE run_id = ?", [run_id]).fetchone()
        where, args = ("WHERE entry_type = ?", [entry_type]) if entry_type is not None else ("", [])
        return self.conn.execute(
            f"SELECT {cols} FROM cluster_runs {where} ORDER BY created_at DESC, last_id_number DESC, run_id DESC LIMIT 1",
            args,
        ).fetchone()

    def cluster_run_members(self, run_id: str) -> list[tuple[Any, ...]]:
        """Return (cluster_id, entry_id, rep_rank) of a run's members, by entry id."""
        return self.conn.execute(
            "SELECT cluster_id, entry_id, rep_rank FROM cluster_members WHERE run_id = ? ORDER BY entry_id",
            [run_id],
        ).fetchall()

    def cluster_run_clusters(self, run_id: str) -> list[tuple[Any, ...]]:
        """Return (cluster_id, label, size, centroid) of a run's clusters."""
        return self.conn.execute(
            "SELECT cluster_id, label, size, centroid FROM clusters WHERE run_id = ?", [run_id]
        ).fetchall()

    def cluster_run_events(self, run_id: str) -> list[tuple[Any, ...]]:
        """Return (kind, old_ids, new_ids) of a run's events, in order."""
        return self.conn.execute(
            "SELECT kind, old_ids, new_ids FROM cluster_events WHERE run_id = ? ORDER BY seq", [run_id]
        ).fetchall()


class AnalyticsQueries(ClusterRunQueries):
    """Store methods for clustering input and curation (mixed into Store)."""

    # Provided by Store: the connection, transaction() and _audit() (the hash-chained audit trail).
    conn: Any

    def text_vectors(self, texts: dict[str, str], fingerprint: str) -> dict[str, np.ndarray]:
        """Return cached text-only vectors of entries whose text is unchanged, keyed by id."""
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
        rows = [
            (eid, fingerprint, text_hash(text), np.asarray(vec, dtype="<f4").tobytes())
            for eid, text, vec in items
        ]
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO cluster_text_vectors(entry_id, fingerprint, text_hash, vector) VALUES (?,?,?,?) "
                "ON CONFLICT (entry_id, fingerprint) DO UPDATE SET text_hash = excluded.text_hash, "
                "vector = excluded.vector",
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
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO cluster_curation(at, actor, entry_type, action, cluster_id, details, run_id) "
                "VALUES (?,?,?,?,?,?,?) RETURNING seq",
                (at, actor, entry_type, action, cluster_id, json.dumps(details, sort_keys=True), run_id),
            )
            seq = int(cur.fetchone()[0])
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
