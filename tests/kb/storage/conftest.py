"""Backend fixtures: every contract test runs on SQLite and on a real PostgreSQL (tests/pg.py's pg_cluster)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kb.storage.factory import open_store


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
