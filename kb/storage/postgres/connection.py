"""PostgreSQL connections: the pool, the write transaction and its lock, the change counter, errors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from kb.models import KBError
from kb.storage import schema

T = TypeVar("T")

WRITE_LOCK = 0x7AC17CB  # the advisory lock key every write transaction holds until it ends
NOTIFY_CHANNEL = "tacitkb_changes"


def describe(url: str) -> str:
    """Return 'database NAME on HOST:PORT' for messages (never the password)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        return "the PostgreSQL database (unparsable URL)"
    host, port = info.get("host") or "localhost", info.get("port") or "5432"
    return f"PostgreSQL database '{info.get('dbname') or info.get('user') or '?'}' on {host}:{port}"


def pg_error(exc: Exception, where: str) -> KBError:
    """Return a KBError saying in plain words why the PostgreSQL database could not be used."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, errors.DiskFull):
        return KBError(f"{where}: the database server's disk is full; nothing from this change was saved")
    if isinstance(exc, errors.ReadOnlySqlTransaction):
        return KBError(f"{where}: the server is read-only (a replica?); point writers at the primary")
    if isinstance(exc, errors.InsufficientPrivilege):
        return KBError(f"{where}: permission denied ({text}); grant the TacitKB role access to its tables")
    if isinstance(exc, errors.LockNotAvailable | errors.QueryCanceled):
        return KBError(f"{where}: another writer kept the database busy too long; nothing was saved (retry)")
    if isinstance(exc, errors.InvalidCatalogName):
        return KBError(f"{where}: no such database ({text}); create it first (createdb)")
    if isinstance(exc, PoolTimeout | psycopg.OperationalError):
        return KBError(
            f"{where}: cannot reach the database server ({text}); if a change was being saved it was "
            "not confirmed: check whether it is there, then retry"
        )
    return KBError(f"{where}: database error: {text}")


class PgConnections:
    """The pool, the per-thread write transaction holding WRITE_LOCK, migrations and the change counter."""

    def __init__(self, url: str, *, max_connections: int = 8, timeout_s: float = 30.0) -> None:
        self.url = url
        self.location = describe(url)
        self.timeout_s = timeout_s
        self._local = threading.local()
        # Probe first: a wrong URL or a stopped server fails here, at once, with a clear message.
        try:
            psycopg.connect(url, connect_timeout=int(timeout_s)).close()
        except psycopg.Error as exc:
            raise pg_error(exc, self.location) from exc
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            # Connections are not checked by the pool when taken: that is one more round trip per read,
            # and a search makes several. A write checks its connection first (_checked_connection);
            # a read on a connection that died idle (a server restart) is retried once (_read). Either
            # way, after a restart the same store serves again on new connections.
            timeout=timeout_s,
            open=False,
        )
        self.pool.open(wait=True, timeout=timeout_s)
        self._migrate()

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()

    # -- connections and transactions -------------------------------------------------------------

    @contextmanager
    def _checked_connection(self) -> Iterator[psycopg.Connection]:
        """Yield a pooled connection that answers (checked with an empty statement when taken)."""
        conn = self.pool.getconn()
        try:
            try:
                ConnectionPool.check_connection(conn)
            except psycopg.Error:
                self.pool.putconn(conn)  # broken: the pool discards it and opens a replacement
                conn = None
                self.pool.check()  # its idle siblings died with it when the server restarted
                conn = self.pool.getconn()
            yield conn
        finally:
            if conn is not None:
                self.pool.putconn(conn)

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        """Yield this thread's transaction connection, or a checked pooled one (statements of any kind)."""
        tx = getattr(self._local, "conn", None)
        if tx is not None:
            yield tx
            return
        try:
            with self._checked_connection() as conn:
                yield conn
        except (psycopg.Error, PoolTimeout) as exc:
            raise pg_error(exc, self.location) from exc

    def _read(self, work: Callable[[psycopg.Connection], T]) -> T:
        """Run a read-only `work(conn)` on this thread's transaction connection, else on a pooled one.

        The pooled connection is not checked first (a search would pay a round trip per read for it):
        when it turns out broken (the server restarted since it was last used), the pool's idle
        connections are checked and the read runs once more, which is safe because it only reads.
        """
        tx = getattr(self._local, "conn", None)
        if tx is not None:
            return work(tx)
        for attempt in (1, 2):
            conn = None
            try:
                with self.pool.connection() as conn:
                    return work(conn)
            except (psycopg.Error, PoolTimeout) as exc:
                if attempt == 1 and conn is not None and conn.broken:
                    self.pool.check()
                    continue
                raise pg_error(exc, self.location) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _all(self, sql: str, params: Sequence[Any] = (), *, binary: bool = False) -> list[tuple]:
        def work(conn: psycopg.Connection) -> list[tuple]:
            with conn.cursor(binary=binary) as cur:
                cur.execute(sql, params)
                return cur.fetchall()

        return self._read(work)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        return self._read(lambda conn: conn.execute(sql, params).fetchone())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction holding the write lock (nested calls in a thread join it)."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        try:
            with self._checked_connection() as conn:
                self._local.conn = conn
                try:
                    with conn.transaction():
                        conn.execute(f"SET LOCAL lock_timeout = '{int(self.timeout_s * 1000)}ms'")
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                        yield
                finally:
                    self._local.conn = None
        except (psycopg.Error, PoolTimeout) as exc:
            raise pg_error(exc, self.location) from exc

    def _tx(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:  # a bug in this module, not a user error
            raise RuntimeError("a write ran outside PostgresStore.transaction()")
        return conn

    # -- schema -----------------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Apply the PostgreSQL statements of the migrations this database has not had yet, in one transaction."""
        # Under the write lock: two servers opening a fresh database at once do not race the DDL.
        with self.transaction():
            conn = self._tx()
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            applied = self.schema_version()
            for migration in schema.pending(applied):
                if not migration.postgres:
                    raise KBError(
                        f"{self.location}: migration {migration.version} ({migration.name}) has no PostgreSQL "
                        "statements; this release cannot open a PostgreSQL database"
                    )
                for statement in migration.postgres:
                    conn.execute(statement)
            if applied < schema.LATEST:
                self.set_meta("schema_version", str(schema.LATEST))

    def get_meta(self, key: str) -> str | None:
        """Return a value of the key/value meta table, or None."""
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str, *, overwrite: bool = True) -> str:
        """Store a meta value (or keep the existing one when overwrite is False); return the stored value."""
        with self.transaction():
            action = "DO UPDATE SET value = EXCLUDED.value" if overwrite else "DO NOTHING"
            self._tx().execute(
                f"INSERT INTO meta(key, value) VALUES (%s, %s) ON CONFLICT (key) {action}", (key, value)
            )
            return self.get_meta(key) or value

    def _bump_version(self) -> int:
        """Increase the change counter (under the write lock) and announce it at commit."""
        conn = self._tx()
        row = conn.execute(
            "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'version' RETURNING value"
        ).fetchone()
        version = int(row[0])
        conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(version)))
        return version

    def version(self) -> int:
        """Return the change counter: it grows with every write that affects the index."""
        row = self._one("SELECT value FROM meta WHERE key = 'version'")
        return int(row[0])

    def wait_for_change(self, version: int, timeout_s: float) -> int | None:
        """Block until a write past `version` commits (LISTEN/NOTIFY); return the new counter, None on timeout."""
        if getattr(self._local, "conn", None) is not None:
            raise RuntimeError("wait_for_change() inside a transaction would wait for itself")
        with self._conn() as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            try:
                # Listening before reading the counter: a commit in between is either read or notified.
                current = int(conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])
                if current > version:
                    return current
                for note in conn.notifies(timeout=timeout_s):
                    if int(note.payload) > version:
                        return int(note.payload)
                return None
            finally:
                conn.execute(f"UNLISTEN {NOTIFY_CHANNEL}")
