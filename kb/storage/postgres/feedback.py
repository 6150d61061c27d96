"""PostgreSQL judgments on search hits ("helped" / "not relevant"): the SQLite FeedbackQueries' API."""

from __future__ import annotations

from typing import Any

import numpy as np

from kb.storage.sqlite_feedback import checked_judgment

# "user" is a reserved word in PostgreSQL, hence the quotes; the table is migration 6 (kb/storage/schema.py).
COLUMNS = ("id", "at", "user", "query", "entry_id", "judgment", "fingerprint", "vector")


class PgFeedback:
    """Judgments on search hits, stored with query, user, time and model fingerprint; each audited."""

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
            conn = self._tx()  # type: ignore[attr-defined]
            new_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM feedback").fetchone()[0])
            conn.execute(
                'INSERT INTO feedback(id, at, "user", query, entry_id, judgment, fingerprint, vector) '
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                (new_id, at, user, query, entry_id, judgment, fingerprint, blob),
            )
            row = {"id": new_id, "at": at, "user": user, "query": query, "entry_id": entry_id,
                   "judgment": judgment, "fingerprint": fingerprint}  # fmt: skip
            details = {k: row[k] for k in ("id", "query", "judgment", "fingerprint")}
            self._audit_many([(user, "feedback", entry_id, details, at)])  # type: ignore[attr-defined]
        return row

    def feedback_stamp(self) -> tuple[int, int]:
        """Return (number of judgments, highest id): it changes whenever a judgment is stored."""
        if self._one("SELECT to_regclass('feedback')")[0] is None:  # type: ignore[attr-defined]
            return (0, 0)
        row = self._one("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM feedback")  # type: ignore[attr-defined]
        return (int(row[0]), int(row[1]))

    def feedback_rows(self, entry_id: str | None = None) -> list[dict[str, Any]]:
        """Return the judgments (of one entry, or all), oldest first, with seq and the query's vector."""
        if self.feedback_stamp() == (0, 0):
            return []
        sql = 'SELECT id, at, "user", query, entry_id, judgment, fingerprint, vector FROM feedback'
        rows = (
            self._all(sql + " WHERE entry_id = %s ORDER BY id", (entry_id,), binary=True)  # type: ignore[attr-defined]
            if entry_id
            else self._all(sql + " ORDER BY id", binary=True)  # type: ignore[attr-defined]
        )
        out = []
        for r in rows:
            row = dict(zip(COLUMNS, r, strict=True))
            row["seq"] = int(row["entry_id"][3:])
            row["vector"] = (
                None if row["vector"] is None else np.frombuffer(bytes(row["vector"]), dtype="<f4")
            )
            out.append(row)
        return out
