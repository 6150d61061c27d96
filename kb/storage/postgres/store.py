"""PostgresStore: the SQLite Store's public API on PostgreSQL (the writes live here)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from kb.models import Entry, Link
from kb.storage.analytics_queries import AnalyticsQueries
from kb.storage.base import ENTRY_COLUMNS, GENESIS_HASH, event_hash, vector_to_blob
from kb.storage.entry_writes import AuditEvent, EntryWrites, RevisionRow
from kb.storage.feedback_queries import FeedbackQueries
from kb.storage.governance_queries import GovernanceQueries
from kb.storage.postgres.connection import PgConnections
from kb.storage.postgres.reads import LINK_COLUMNS, PgReads
from kb.storage.postgres.shared_queries import PgQueryOverrides
from kb.storage.schema import MigratedStore
from kb.storage.workshop_queries import WorkshopQueries


class PostgresStore(
    PgQueryOverrides,
    PgReads,
    PgConnections,
    GovernanceQueries,
    AnalyticsQueries,
    FeedbackQueries,
    WorkshopQueries,
    EntryWrites,
    MigratedStore,
):
    """The Store API on PostgreSQL: a connection pool, writes serialised by one advisory lock.

    Accounts, signatures, transfers, clustering runs and workshops are the shared query mixins, run
    through PgQueryOverrides (kb/storage/postgres/shared_queries.py)."""

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
        # The last seq ever issued, as SQLite's sqlite_sequence keeps it: deleting the newest events
        # then shows as a gap at the end of the trail instead of going unnoticed.
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('audit_last_seq', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (str(seq),),
        )

    # -- row primitives for the shared write rules (kb/storage/entry_writes.py) ------------------------

    def _next_seq(self) -> int:
        # Under the advisory write lock every writer takes first: no two writers read the same MAX.
        return int(self._tx().execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()[0]) + 1

    def _insert_entry_rows(self, rows: list[list[Any]]) -> None:
        with self._tx().cursor() as cur:
            cur.executemany(
                f"INSERT INTO entries({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})",
                rows,
            )

    def _update_entry_columns(self, entry_id: str, values: dict[str, Any]) -> None:
        self._tx().execute(
            f"UPDATE entries SET {', '.join(f'{c} = %s' for c in values)} WHERE id = %s",
            [*values.values(), entry_id],
        )

    def _insert_revision_rows(self, rows: list[RevisionRow]) -> None:
        with self._tx().cursor() as cur:
            cur.executemany(
                "INSERT INTO revisions(entry_id, revision, action, author, at, reason, changes) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s)",
                rows,
            )

    def _append_events(self, events: list[AuditEvent]) -> None:
        self._audit_many(events)

    def _insert_link_row(self, link: Link) -> bool:
        cur = self._tx().execute(
            f"INSERT INTO links({LINK_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            (link.source, link.relation, link.target, link.author, link.created_at, link.note),
        )
        return bool(cur.rowcount)
