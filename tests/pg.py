"""A throwaway PostgreSQL 15 cluster for the tests: initdb + pg_ctl in a temp folder on a free port.

When the tests run as root, the server runs as the `postgres` OS user (PostgreSQL refuses to run as
root), in a folder chowned to it. A failure to start raises PgStartError carrying the server's log, so
a broken server is a test failure with the reason in the message, never a skip.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"),)


class PgStartError(RuntimeError):
    """The test cluster could not be created or started (the message carries the server log)."""


def pg_bin(name: str) -> str:
    """Return the path of a PostgreSQL 15 program (initdb, pg_ctl...), or raise PgStartError."""
    for folder in PG_BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found:
        return found
    raise PgStartError(
        f"PostgreSQL program '{name}' not found in {', '.join(map(str, PG_BIN_DIRS))} or on PATH: "
        "install the Debian package postgresql-15 (`make test` does it)"
    )


def free_port() -> int:
    """Return a localhost TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PgCluster:
    """A running throwaway cluster; `url(db)` gives a connection URL, `new_database()` a fresh database."""

    folder: Path
    port: int
    as_user: str | None
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def data(self) -> Path:
        """The data directory."""
        return self.folder / "data"

    @property
    def log(self) -> Path:
        """The server log file."""
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        """Return a postgresql:// URL for a database of this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def log_text(self) -> str:
        """Return the server log (or a note that there is none)."""
        try:
            return self.log.read_text(errors="replace")[-6000:]
        except OSError as exc:
            return f"(no server log: {exc})"

    def start(self) -> None:
        """Start the server and wait until it accepts connections, or raise PgStartError with the log."""
        result = self._run(
            pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if result.returncode != 0:
            raise PgStartError(
                f"pg_ctl start failed (exit {result.returncode}): {result.stdout}{result.stderr}\n"
                f"--- server log ({self.log}) ---\n{self.log_text()}"
            )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (mode fast or immediate)."""
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        """Stop and start the server (connections are cut; committed data stays)."""
        self.stop()
        self.start()

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with self._lock:
            name = f"t{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        """Stop the server and delete its folder."""
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster() -> PgCluster:
    """Create and start a throwaway cluster, or raise PgStartError (with the server log when there is one)."""
    as_user = "postgres" if os.geteuid() == 0 else None
    # Not under pytest's tmp_path: /tmp/pytest-of-root is mode 700, which the postgres user cannot enter.
    folder = Path(tempfile.mkdtemp(prefix="tacitkb-pg-"))
    if as_user:
        try:
            record = pwd.getpwnam(as_user)
        except KeyError as exc:
            raise PgStartError(
                "the tests run as root and there is no 'postgres' OS user to run the server as "
                "(install the Debian package postgresql-15, which creates it)"
            ) from exc
        os.chown(folder, record.pw_uid, record.pw_gid)
    cluster = PgCluster(folder=folder, port=free_port(), as_user=as_user)
    init = cluster._run(
        pg_bin("initdb"),
        "-D",
        str(cluster.data),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        check=False,
    )
    if init.returncode != 0:
        raise PgStartError(f"initdb failed (exit {init.returncode}): {init.stdout}{init.stderr}")
    # Local throwaway settings: localhost only, sockets in our folder, no fsync (a crash loses the
    # cluster, which we throw away anyway); synchronous_commit stays on so commits mean what they say.
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {cluster.port}\n"
            f"unix_socket_directories = '{folder}'\nfsync = off\nfull_page_writes = off\n"
            "max_connections = 200\nshared_buffers = 64MB\n"
        )
    cluster.start()
    return cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL 15 cluster for the session; failing to start it fails the tests using it."""
    try:
        cluster = start_cluster()
    except PgStartError as exc:
        pytest.fail(f"could not start the test PostgreSQL server: {exc}", pytrace=False)
    yield cluster
    cluster.destroy()
