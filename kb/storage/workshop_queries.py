"""Workshop drafts in SQLite: one row per workshop, JSON for its participants, answers and entries."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

WORKSHOP_COLUMNS: tuple[str, ...] = (
    "id", "seq", "template_id", "template_version", "facilitator", "participants", "site", "process", "step",
    "held_on", "status", "answers", "draft_revision", "entry_ids", "created_at", "updated_at",
)  # fmt: skip
_JSON_COLUMNS = ("participants", "answers", "entry_ids")


class WorkshopQueries:
    """Store methods for workshop drafts (mixed into the SQLite store)."""

    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]: ...

    def next_workshop_seq(self) -> int:
        """Return the next workshop number; call inside a write transaction (which holds the lock)."""
        return self.conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM workshops").fetchone()[0]

    def put_workshop(self, row: dict[str, Any]) -> None:
        """Insert or replace one workshop row (JSON columns given as Python values)."""
        values = [
            json.dumps(row[c], ensure_ascii=False, default=str) if c in _JSON_COLUMNS else row[c]
            for c in WORKSHOP_COLUMNS
        ]
        with self.transaction():
            updates = ", ".join(f"{c} = excluded.{c}" for c in WORKSHOP_COLUMNS if c != "id")
            self.conn.execute(
                f"INSERT INTO workshops({', '.join(WORKSHOP_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(WORKSHOP_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET {updates}",
                values,
            )

    def get_workshop(self, workshop_id: str) -> dict[str, Any] | None:
        """Return one workshop row by id (JSON columns decoded), or None."""
        row = self.conn.execute(
            f"SELECT {', '.join(WORKSHOP_COLUMNS)} FROM workshops WHERE id = ?", (workshop_id,)
        ).fetchone()
        if row is None:
            return None
        data = dict(zip(WORKSHOP_COLUMNS, row, strict=True))
        return data | {c: json.loads(data[c]) for c in _JSON_COLUMNS}

    def workshop_ids(self, status: str | None = None) -> Iterator[str]:
        """Yield workshop ids, newest first, optionally of one status."""
        sql = "SELECT id FROM workshops" + (" WHERE status = ?" if status else "") + " ORDER BY seq DESC"
        for (workshop_id,) in self.conn.execute(sql, (status,) if status else ()).fetchall():
            yield workshop_id
