"""open_store(): a PostgreSQL URL, a SQLite file or a knowledge-base folder."""

from __future__ import annotations

from kb.models import Entry
from kb.storage.factory import open_store
from kb.storage.postgres import PostgresStore
from kb.storage.sqlite import SQLiteStore


def test_a_folder_opens_its_tacitkb_db_and_a_file_opens_itself(tmp_path):
    folder_store = open_store(tmp_path / "home")
    folder_store.insert([Entry(type="cue", text="x")], author="a")
    folder_store.close()
    assert isinstance(folder_store, SQLiteStore) and (tmp_path / "home" / "tacitkb.db").is_file()
    file_store = open_store(str(tmp_path / "home" / "tacitkb.db"))
    assert file_store.count() == 1
    file_store.close()


def test_a_postgresql_url_opens_the_postgres_store(pg_cluster):
    # Trust authentication ignores the password, which lets us check it never reaches messages.
    url = pg_cluster.new_database().replace("postgres@", "postgres:s3cret@", 1)
    for spelling in (url, url.replace("postgresql://", "postgres://", 1)):
        store = open_store(spelling)
        assert isinstance(store, PostgresStore) and store.count() == 0
        assert "s3cret" not in store.location and "127.0.0.1" in store.location
        store.close()
