"""Open the store a --db / TACITKB_DB value names: a PostgreSQL URL, a SQLite file, or a knowledge-base folder."""

from __future__ import annotations

from pathlib import Path

from kb.models import KBError
from kb.storage.base import Store
from kb.storage.sqlite import SQLiteStore

# The database file inside a knowledge-base folder.
DB_FILE = "tacitkb.db"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def is_postgres_url(target: object) -> bool:
    """Return True when a --db/TACITKB_DB value names a PostgreSQL database rather than a folder."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def open_store(target: str | Path) -> Store:
    """Return the store for a postgresql:// URL, a SQLite file path, or a folder holding tacitkb.db."""
    if is_postgres_url(target):
        from kb.storage.postgres import PostgresStore  # psycopg loads only when a server is named

        return PostgresStore(str(target))
    text = str(target)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise KBError(
            f"argument '--db': unsupported database URL scheme '{scheme}://' (use postgresql://...)"
        )
    path = Path(target)
    if path.is_dir():  # a knowledge-base folder, whatever its name
        return SQLiteStore(path / DB_FILE)
    if path.suffix.lower() in SQLITE_SUFFIXES or path.is_file():
        return SQLiteStore(path)
    return SQLiteStore(path / DB_FILE)
