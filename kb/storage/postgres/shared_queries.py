"""The shared query mixins (governance, transfer, analytics, workshops) on PostgreSQL.

Those mixins are written once, in SQL both databases accept (`ON CONFLICT`, `RETURNING`, `lower(name)`)
with `?` placeholders, against `self.conn.execute(...)`. Here `conn` is `PgStatements`, which runs each
statement on this thread's write transaction (or a pooled connection for a read) with psycopg's `%s`
placeholders; `PgQueryOverrides` replaces the few queries that must differ (catalog, JSON).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

_PLACEHOLDER = re.compile(r"'[^']*'|\?")


def to_psycopg(sql: str) -> str:
    """Return a `?`-placeholder statement with psycopg's `%s` placeholders (quoted text left as it is)."""
    sql = sql.replace("%", "%%")
    return _PLACEHOLDER.sub(lambda m: "%s" if m.group(0) == "?" else m.group(0), sql)


class PgResult:
    """What a statement returned, read at once: the part of sqlite3's cursor the query mixins use."""

    def __init__(self, rows: list[tuple], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> tuple | None:
        """Return the next row, or None."""
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple]:
        """Return the remaining rows."""
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())


class PgStatements:
    """`conn` for the shared query mixins: execute/executemany on the store's current connection."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgResult:
        """Run one statement and return its rows (bytea comes back as bytes)."""
        with self._store._conn() as conn, conn.cursor() as cur:
            cur.execute(to_psycopg(sql), list(params))
            rows = (
                [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in cur.fetchall()]
                if (cur.description)
                else []
            )
            return PgResult(rows, cur.rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""
        with self._store._conn() as conn, conn.cursor() as cur:
            cur.executemany(to_psycopg(sql), [list(r) for r in rows])


class PgQueryOverrides:
    """The shared queries that PostgreSQL spells differently (listed before the shared mixins)."""

    # _one and _all come from PgConnections (later in PostgresStore's bases).
    _one: Any
    _all: Any

    @property
    def conn(self) -> PgStatements:
        """The statement runner the shared query mixins call."""
        return PgStatements(self)

    def table_exists(self, name: str) -> bool:
        """Return True when a table of this name exists (in the search path)."""
        return self._one("SELECT to_regclass(%s) IS NOT NULL", (name,))[0]

    def _audit(
        self, actor: str | None, action: str, entry_id: str | None, details: dict[str, Any], at: str
    ) -> None:
        """Append one audit event to the hash chain (inside the caller's transaction)."""
        self._audit_many([(actor, action, entry_id, details, at)])  # type: ignore[attr-defined]

    def highest_issued_audit_seq(self) -> int | None:
        """Return the last audit seq ever issued (kept in meta by every append), None when none was."""
        row = self._one("SELECT value FROM meta WHERE key = 'audit_last_seq'")
        return None if row is None else int(row[0])

    @staticmethod
    def _json_text(column: str, key: str) -> str:
        """Return SQL reading one key of a JSON text column (every stored one is JSON the store wrote)."""
        return f"({column}::jsonb ->> '{key}')"

    def database_integrity(self) -> str:
        """Return 'ok': PostgreSQL checks its own pages (data checksums, amcheck); there is no PRAGMA."""
        return "ok"
