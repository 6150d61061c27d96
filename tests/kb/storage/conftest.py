"""Backend fixtures: every contract test runs on SQLite and on a real PostgreSQL the session starts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kb.storage.factory import open_store
from tests.pg import PgCluster, PgStartError, start_cluster

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL 15 cluster for the session; failing to start it fails the tests using it."""
    try:
        cluster = start_cluster()
    except PgStartError as exc:
        pytest.fail(f"could not start the test PostgreSQL server: {exc}", pytrace=False)
    yield cluster
    cluster.destroy()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name of this run of a contract test."""
    return request.param


@pytest.fixture
def store_target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh, empty store lives: a SQLite file, or a new database on the session's cluster."""
    if backend == "postgres":
        return request.getfixturevalue("pg_cluster").new_database()
    return str(tmp_path / "contract.db")


@pytest.fixture
def open_target(store_target: str) -> Iterator[Callable]:
    """A function opening another store on the same database (closed at the end of the test)."""
    opened = []

    def opener():
        s = open_store(store_target)
        opened.append(s)
        return s

    yield opener
    for s in opened:
        s.close()


@pytest.fixture
def store(open_target: Callable):
    """A fresh store of the backend under test."""
    return open_target()
