"""Migrations: a knowledge base made by the release before the Store protocol opens and upgrades in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ingest.workshops import WorkshopBook
from kb.governance.audit import verify_chain
from kb.governance.integrity import verify_knowledge_base
from kb.governance.signatures import signatures_for
from kb.governance.users import authenticate
from kb.knowledge_base import DB_NAME, KnowledgeBase
from kb.models import KBError
from kb.storage import schema
from kb.storage.sqlite import SQLiteStore

# Made by tests/kb/storage/fixtures/make_old_kb.py with the code of main at 53fc5be (schema 2, tables
# that release created lazily: users, signatures, workshops), dumped as SQL text so the diff is readable.
OLD_DUMP = Path(__file__).parent / "fixtures" / "kb_made_by_schema2.sql"


@pytest.fixture
def old_home(tmp_path: Path) -> Path:
    """A copy of the old knowledge base, restored from its SQL dump (no index files: caches rebuild)."""
    home = tmp_path / "kb"
    home.mkdir()
    conn = sqlite3.connect(home / DB_NAME)
    conn.executescript(OLD_DUMP.read_text())
    conn.close()
    return home


def test_old_knowledge_base_upgrades_in_place_and_keeps_everything(old_home, embedder, fast_hashing):
    before = sqlite3.connect(old_home / DB_NAME)
    assert before.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"
    counts = {
        t: before.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("entries", "audit_events")
    }
    before.close()

    with KnowledgeBase(old_home, embedder=embedder) as kb:
        assert kb.store.schema_version() == schema.LATEST
        assert kb.store.count(status=None) == counts["entries"] == 6
        assert len(kb.store.audit_events()) >= counts["audit_events"]
        edited = next(e for e in kb.store.iter_entries() if e.severity == "minor")
        assert [r.action for r in kb.history(edited.id)] == ["create", "edit"]
        assert kb.store.count(status="retired") == 1
        assert str(verify_chain(kb.store)) == "ok"
        # The vectors were made by the same pinned model: nothing is re-encoded, the caches are rebuilt.
        assert kb.store.missing_vectors(embedder.fingerprint) == []
        kb.ensure_index()
        assert verify_knowledge_base(kb)["ok"]
        hits = kb.search("pressure rising on the depth filter", k=3)
        assert hits[0].entry.type in ("deviation", "fix")
        # Accounts, signatures and workshops made by the old release still work.
        assert authenticate(kb, "admin1", "correct horse battery").role == "admin"
        approved = next(e for e in kb.store.iter_entries() if e.type == "know_how")
        assert [s.meaning for s in signatures_for(kb, approved.id)] == ["approved"]
        workshops = WorkshopBook(kb).list()
        assert [(w.site, w.process, w.step) for w in workshops] == [("LEI", "LVV", "harvest")]


def test_reopening_applies_nothing_twice(old_home, embedder):
    KnowledgeBase(old_home, embedder=embedder).close()
    conn = sqlite3.connect(old_home / DB_NAME)
    schema_rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    store = SQLiteStore(old_home / DB_NAME)
    assert store.schema_version() == schema.LATEST
    store.close()
    conn = sqlite3.connect(old_home / DB_NAME)
    assert conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == schema_rows


def test_a_failing_migration_leaves_the_database_as_it_was(old_home, monkeypatch):
    broken = schema.Migration(schema.LATEST + 1, "broken", ("CREATE TABLE ok_so_far (x)", "NOT SQL AT ALL"))
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken))
    monkeypatch.setattr(schema, "LATEST", broken.version)
    with pytest.raises(KBError, match="database error"):
        SQLiteStore(old_home / DB_NAME)
    conn = sqlite3.connect(old_home / DB_NAME)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "ok_so_far" not in tables


def test_migrations_are_numbered_in_order_without_gaps():
    assert [m.version for m in schema.MIGRATIONS] == list(range(1, len(schema.MIGRATIONS) + 1))
    assert schema.pending(0) == list(schema.MIGRATIONS) and schema.pending(schema.LATEST) == []
