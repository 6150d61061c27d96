"""Copy a SQLite knowledge base into an empty PostgreSQL database, verified table by table, row by row.

Rows are copied as they are (ids, revisions, audit events with their hashes, vectors as bytes), in one
PostgreSQL transaction holding the write lock. Before that transaction commits, every table is read
back and compared with the source by row count and by a sha256 over its rows in key order, each entry's
content hash is recomputed and the audit chain is re-checked; any difference rolls everything back.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kb.models import KBError
from kb.storage.base import ENTRY_COLUMNS, GENESIS_HASH, event_hash
from kb.storage.postgres import PostgresStore
from kb.storage.sqlite import SQLiteStore

# Each table the PostgreSQL store carries today: its columns and the key that orders it.
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "entries": (ENTRY_COLUMNS, "seq"),
    "revisions": (
        ("entry_id", "revision", "action", "author", "at", "reason", "changes"),
        "entry_id, revision",
    ),
    "links": (("source", "relation", "target", "author", "created_at", "note"), "source, relation, target"),
    "vectors": (("entry_id", "fingerprint", "dim", "vector", "content_hash"), "entry_id, fingerprint"),
    "audit_events": (
        ("seq", "at", "actor", "action", "entry_id", "details", "prev_hash", "hash"),
        "seq",
    ),
}
# Tables a knowledge base has only once used (created on first use): copied when the source has them.
OPTIONAL_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "feedback": (("id", "at", '"user"', "query", "entry_id", "judgment", "fingerprint", "vector"), "id"),
}
# SQLite bookkeeping that has no PostgreSQL counterpart to copy (meta's change counter is set apart).
NOT_COPIED = {"meta", "sqlite_sequence"}
BATCH = 1000


@dataclass
class TableCheck:
    """One table's row count and content digest on both sides."""

    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def ok(self) -> bool:
        """True when counts and digests agree."""
        return self.source_rows == self.target_rows and self.source_sha256 == self.target_sha256


@dataclass
class MigrationReport:
    """What was copied and how it was verified."""

    target: str
    tables: list[TableCheck] = field(default_factory=list)
    version: int = 0
    audit_head: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return asdict(self) | {"ok": all(t.ok for t in self.tables)}


def _digest(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """Return (count, sha256) over rows, with bytes and ints written the same way on both backends."""
    h, n = hashlib.sha256(), 0
    for row in rows:
        norm = [bytes(v).hex() if isinstance(v, bytes | memoryview | bytearray) else v for v in row]
        h.update(json.dumps(norm, ensure_ascii=False, default=str).encode("utf-8"))
        h.update(b"\n")
        n += 1
    return n, h.hexdigest()


def _sqlite_tables(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}


def _chain_problem(rows: list[tuple]) -> str | None:
    prev = GENESIS_HASH
    for expected, (seq, at, actor, action, entry_id, details, prev_hash, digest) in enumerate(rows, start=1):
        if seq != expected or prev_hash != prev:
            return (
                f"audit event {seq}: the chain is broken (expected event {expected} after hash {prev[:12]})"
            )
        if event_hash(at, actor, action, entry_id, json.loads(details), prev_hash) != digest:
            return f"audit event {seq}: its hash does not match its content"
        prev = digest
    return None


def copy_sqlite_to_postgres(source: SQLiteStore, target: PostgresStore) -> MigrationReport:
    """Copy every row of a SQLite store into an empty PostgreSQL store; verify it all before committing."""
    counts = _sqlite_tables(source.conn)
    carried = {**TABLES, **{t: spec for t, spec in OPTIONAL_TABLES.items() if t in counts}}
    extra = {t: n for t, n in counts.items() if t not in carried and t not in NOT_COPIED and n}
    if extra:
        listed = ", ".join(f"{t} ({n} rows)" for t, n in sorted(extra.items()))
        raise KBError(
            f"{source.path}: these tables are not carried by the PostgreSQL store yet: {listed}; "
            "nothing was copied"
        )
    source_problem = _chain_problem(
        source.conn.execute(
            f"SELECT {', '.join(TABLES['audit_events'][0])} FROM audit_events ORDER BY seq"
        ).fetchall()
    )
    if source_problem:
        raise KBError(f"{source.path}: {source_problem}; fix the source first (nothing was copied)")
    report = MigrationReport(target=target.location, version=source.version())
    with target.transaction():
        conn = target._tx()
        if conn.execute(
            "SELECT (SELECT COUNT(*) FROM entries) + (SELECT COUNT(*) FROM audit_events)"
        ).fetchone()[0]:
            raise KBError(
                f"{target.location}: the database already holds a knowledge base; migrate into an empty one"
            )
        for table, (columns, order) in carried.items():
            select = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"
            cursor = source.conn.execute(select)
            insert = f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
            with conn.cursor() as cur:
                while rows := cursor.fetchmany(BATCH):
                    cur.executemany(insert, rows)
            src_n, src_sha = _digest(source.conn.execute(select))
            with conn.cursor(binary=True) as cur:
                cur.execute(select)
                dst_n, dst_sha = _digest(cur)
            check = TableCheck(table, src_n, dst_n, src_sha, dst_sha)
            report.tables.append(check)
            if not check.ok:
                raise KBError(
                    f"{target.location}: table {table} differs after copying ({src_n} rows / {dst_n} rows, "
                    f"sha256 {src_sha[:12]} / {dst_sha[:12]}); nothing was saved"
                )
        conn.execute("UPDATE meta SET value = %s WHERE key = 'version'", (str(report.version),))
        _verify_target(conn, target.location)
        head = conn.execute("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
        report.audit_head = head[0] if head else None
    return report


def _verify_target(conn: Any, where: str) -> None:
    """Recompute every entry's content hash and the audit chain inside the copying transaction."""
    for row in conn.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries ORDER BY seq"):
        entry = SQLiteStore._row_to_entry(row, ENTRY_COLUMNS)
        if entry.compute_hash() != entry.content_hash:
            raise KBError(f"{where}: {entry.id}'s content does not match its content hash; nothing was saved")
    problem = _chain_problem(
        conn.execute(
            f"SELECT {', '.join(TABLES['audit_events'][0])} FROM audit_events ORDER BY seq"
        ).fetchall()
    )
    if problem:
        raise KBError(f"{where}: {problem}; nothing was saved")
