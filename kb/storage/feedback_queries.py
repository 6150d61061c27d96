"""The store's judgments ("this helped" / "not relevant" on a search hit): one row each, audited.

Written once for both stores ("user" quoted: a reserved word in PostgreSQL; RETURNING for the new id).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kb.models import KBError

FEEDBACK_SCHEMA: list[str] = [
    """CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT, query TEXT NOT NULL,
    entry_id TEXT NOT NULL, judgment TEXT NOT NULL CHECK (judgment IN ('helped', 'not_relevant')),
    fingerprint TEXT NOT NULL, vector BLOB
)""",
    "CREATE INDEX IF NOT EXISTS feedback_entry ON feedback(entry_id)",
]
JUDGMENTS = ("helped", "not_relevant")


def checked_judgment(judgment: str, vector: np.ndarray | None) -> bytes | None:
    """Refuse an unknown judgment; return the query vector as stored bytes (both backends store these)."""
    if judgment not in JUDGMENTS:
        raise KBError(f"argument 'judgment': '{judgment}' is not one of {', '.join(JUDGMENTS)}")
    return None if vector is None else np.asarray(vector, dtype="<f4").tobytes()


class FeedbackQueries:
    """Judgments on search hits: stored with the query, user, time and model fingerprint; each audited."""

    conn: Any

    def add_feedback(
        self,
        query: str,
        entry_id: str,
        judgment: str,
        *,
        user: str | None,
        fingerprint: str,
        vector: np.ndarray | None,
        at: str,
    ) -> dict[str, Any]:
        """Store one judgment and its audit event in one transaction; return it as stored."""
        blob = checked_judgment(judgment, vector)
        with self.transaction():  # type: ignore[attr-defined]
            cur = self.conn.execute(
                'INSERT INTO feedback(at, "user", query, entry_id, judgment, fingerprint, vector) '
                "VALUES (?,?,?,?,?,?,?) RETURNING id",
                (at, user, query, entry_id, judgment, fingerprint, blob),
            )
            row = {
                "id": int(cur.fetchone()[0]),
                "at": at,
                "user": user,
                "query": query,
                "entry_id": entry_id,
                "judgment": judgment,
                "fingerprint": fingerprint,
            }
            details = {k: row[k] for k in ("id", "query", "judgment", "fingerprint")}
            self._audit(user, "feedback", entry_id, details, at)  # type: ignore[attr-defined]
        return row

    def feedback_stamp(self) -> tuple[int, int]:
        """Return (number of judgments, highest id): it changes whenever a judgment is stored."""
        row = self.conn.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM feedback").fetchone()
        return (int(row[0]), int(row[1]))

    def feedback_rows(self, entry_id: str | None = None) -> list[dict[str, Any]]:
        """Return the judgments (of one entry, or all), oldest first, with seq and the query's vector."""
        sql = 'SELECT id, at, "user", query, entry_id, judgment, fingerprint, vector FROM feedback'
        params: tuple[str, ...] = ()
        if entry_id:
            sql += " WHERE entry_id = ?"
            params = (entry_id,)
        cols = ("id", "at", "user", "query", "entry_id", "judgment", "fingerprint", "vector")
        out = []
        for r in self.conn.execute(sql + " ORDER BY id", params):
            row = dict(zip(cols, r, strict=True))
            row["seq"] = int(row["entry_id"][3:])
            row["vector"] = (
                None if row["vector"] is None else np.frombuffer(bytes(row["vector"]), dtype="<f4")
            )
            out.append(row)
        return out
