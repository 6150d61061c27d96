"""Governance tests run on both stores: the SQLite file and a real PostgreSQL database (tests/pg.py).

`store_target` is where the test's store lives; tests that drive the CLI pass `cli_db_args(...)` so the
command opens the same database (a folder still holds the PostgreSQL server's caches and key files).
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def store_target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: the SQLite file of a knowledge base folder, or a new PostgreSQL database."""
    if backend == "postgres":
        return request.getfixturevalue("pg_cluster").new_database()
    return str(tmp_path / "kb" / "tacitkb.db")


def cli_db_args(target: str, home: Path) -> list[str]:
    """Return the global CLI options that open `target`: --kb for the folder, plus --db for a server."""
    args = ["--kb", str(home)]
    return args + ["--db", target] if target.startswith("postgresql://") else args
