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

# The audit trail is checked link by link; its columns in order.
AUDIT_COLUMNS = ("seq", "at", "actor", "action", "entry_id", "details", "prev_hash", "hash")
# SQLite bookkeeping: the change counter and schema version are the target's own, sqlite_sequence has no
# table to go to (its audit_events value becomes meta 'audit_last_seq').
NOT_COPIED = {"meta", "sqlite_sequence"}
META_NOT_COPIED = {"version", "schema_version"}
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
    """Return (count, sha256) over rows in any order, bytes and ints written the same way on both backends.

    Order-free (the sorted digests of the rows), because the two databases sort text differently.
    """
    digests, n = [], 0
    for row in rows:
        norm = [bytes(v).hex() if isinstance(v, bytes | memoryview | bytearray) else v for v in row]
        digests.append(hashlib.sha256(json.dumps(norm, ensure_ascii=False, default=str).encode()).digest())
        n += 1
    return n, hashlib.sha256(b"".join(sorted(digests))).hexdigest()


def _sqlite_tables(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Return a SQLite table's column names, quoted (a name like "user" is reserved in PostgreSQL)."""
    return [f'"{r[1]}"' for r in conn.execute(f'PRAGMA table_info("{table}")')]


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
    tables = [t for t in counts if t not in NOT_COPIED]
    unknown = [t for t in tables if not target.table_exists(t) and counts[t]]
    if unknown:
        listed = ", ".join(f"{t} ({counts[t]} rows)" for t in sorted(unknown))
        raise KBError(
            f"{source.path}: these tables have no counterpart in the PostgreSQL store: {listed}; "
            "nothing was copied"
        )
    audit_select = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_events ORDER BY seq"
    source_problem = _chain_problem(source.conn.execute(audit_select).fetchall())
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
        # Core tables first, in the order the source wrote them, then the rest by name.
        core = ["entries", "revisions", "links", "vectors", "audit_events"]
        for table in [t for t in core if t in counts] + sorted(
            t for t in tables if t not in core and counts[t]
        ):
            report.tables.append(_copy_table(source.conn, conn, table, target.location))
        _copy_meta(source.conn, conn)
        conn.execute("UPDATE meta SET value = %s WHERE key = 'version'", (str(report.version),))
        _verify_target(conn, target.location)
        head = conn.execute("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
        report.audit_head = head[0] if head else None
    return report


def _copy_table(source: sqlite3.Connection, conn: Any, table: str, where: str) -> TableCheck:
    """Copy one table's rows, read them back and compare; raise (rolling back) on any difference."""
    columns = _columns(source, table)
    select = f'SELECT {", ".join(columns)} FROM "{table}"'
    cursor = source.execute(select)
    insert = f'INSERT INTO "{table}"({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})'
    with conn.cursor() as cur:
        while rows := cursor.fetchmany(BATCH):
            cur.executemany(insert, rows)
    # Identity columns (signature ids, curation seqs) continue after the copied rows, not at 1.
    for (column,) in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_identity = 'YES'",
        (table,),
    ).fetchall():
        conn.execute(
            f'SELECT setval(pg_get_serial_sequence(%s, %s), (SELECT MAX("{column}") FROM "{table}"))',
            (table, column),
        )
    src_n, src_sha = _digest(source.execute(select))
    with conn.cursor(binary=True) as cur:
        cur.execute(select)
        dst_n, dst_sha = _digest(cur)
    check = TableCheck(table, src_n, dst_n, src_sha, dst_sha)
    if not check.ok:
        raise KBError(
            f"{where}: table {table} differs after copying ({src_n} rows / {dst_n} rows, "
            f"sha256 {src_sha[:12]} / {dst_sha[:12]}); nothing was saved"
        )
    return check


def _copy_meta(source: sqlite3.Connection, conn: Any) -> None:
    """Carry the knowledge base's own meta values (its id...) and the last audit seq SQLite issued."""
    rows = [r for r in source.execute("SELECT key, value FROM meta") if r[0] not in META_NOT_COPIED]
    has_sequence = source.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone()
    issued = (
        has_sequence
        and source.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'").fetchone()
    )
    if issued:
        rows.append(("audit_last_seq", str(issued[0])))
    for key, value in rows:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value),
        )


def _verify_target(conn: Any, where: str) -> None:
    """Recompute every entry's content hash and the audit chain inside the copying transaction."""
    for row in conn.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries ORDER BY seq"):
        entry = SQLiteStore._row_to_entry(row, ENTRY_COLUMNS)
        if entry.compute_hash() != entry.content_hash:
            raise KBError(f"{where}: {entry.id}'s content does not match its content hash; nothing was saved")
    problem = _chain_problem(
        conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_events ORDER BY seq").fetchall()
    )
    if problem:
        raise KBError(f"{where}: {problem}; nothing was saved")
