"""Copying a SQLite store into PostgreSQL: everything arrives as it was, or nothing does."""

from __future__ import annotations

import numpy as np
import pytest

from kb.models import Entry, KBError, Link
from kb.storage.migrate import copy_sqlite_to_postgres
from kb.storage.postgres import PostgresStore
from kb.storage.sqlite import SQLiteStore


@pytest.fixture
def source(tmp_path):
    s = SQLiteStore(tmp_path / "src.db")
    dev, fix, cue = s.insert(
        [
            Entry(type="deviation", text="dP rose at 40 L", site="CAM", tags=["tff"], fields={"lot": 7}),
            Entry(type="fix", text="add nuclease before TFF"),
            Entry(type="cue", text="medium turns orange on day 5", ext_id="SRC-1"),
        ],
        author="ana",
    )
    s.add_link(Link(dev.id, "fixed_by", fix.id, author="ana"))
    s.update(cue.id, {"text": "medium turns orange-yellow on day 5"}, author="ben", reason="precise colour")
    s.set_status(fix.id, "retired", author="qa", reason="superseded")
    s.put_vectors([(s.get(dev.id), np.arange(384, dtype=np.float32) / 7)], "model-a")
    s.add_feedback("dP at 40 L", dev.id, "helped", user="ana", fingerprint="model-a",
                   vector=np.ones(384, dtype=np.float32), at="2026-12-04T10:00:00.000000Z")  # fmt: skip
    yield s
    s.close()


@pytest.fixture
def target(pg_cluster):
    s = PostgresStore(pg_cluster.new_database())
    yield s
    s.close()


def test_everything_arrives_identical_and_verified(source, target):
    report = copy_sqlite_to_postgres(source, target)
    assert report.to_dict()["ok"] and [t.table for t in report.tables] == [
        "entries", "revisions", "links", "vectors", "audit_events", "feedback"
    ]  # fmt: skip
    assert {t.table: t.target_rows for t in report.tables}["audit_events"] == 7
    for entry in source.iter_entries(status=None):
        assert target.get(entry.id) == entry
        assert target.history(entry.id) == source.history(entry.id)
    assert target.all_links() == source.all_links()
    assert target.audit_events() == source.audit_events()
    assert report.audit_head == source.audit_events()[-1]["hash"]
    assert target.version() == source.version()
    moved, kept = target.feedback_rows(), source.feedback_rows()
    assert [{k: v for k, v in r.items() if k != "vector"} for r in moved] == [
        {k: v for k, v in r.items() if k != "vector"} for r in kept
    ]
    assert np.array_equal(moved[0]["vector"], kept[0]["vector"])
    assert np.array_equal(target.vectors("model-a")[1], source.vectors("model-a")[1])
    (new,) = target.insert([Entry(type="cue", text="written after the move")], author="cy")
    assert new.id == "KB-000004" and target.audit_events()[-1]["prev_hash"] == report.audit_head


def test_a_target_that_is_not_empty_is_refused(source, target):
    target.insert([Entry(type="cue", text="already here")], author="x")
    with pytest.raises(KBError, match="already holds a knowledge base"):
        copy_sqlite_to_postgres(source, target)
    assert target.count(status=None) == 1 and len(target.audit_events()) == 1


def test_a_broken_source_chain_or_an_unknown_table_copies_nothing(source, target):
    source.conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    with pytest.raises(KBError, match="audit event 2: its hash does not match"):
        copy_sqlite_to_postgres(source, target)
    source.conn.execute("UPDATE audit_events SET actor = 'ana' WHERE seq = 2")
    # A table no migration made (someone's own, added by hand) has nowhere to go: refused, not dropped.
    source.conn.execute("CREATE TABLE local_notes (note TEXT)")
    source.conn.execute("INSERT INTO local_notes VALUES ('keep me')")
    with pytest.raises(KBError, match=r"no counterpart in the PostgreSQL store: local_notes \(1 rows\)"):
        copy_sqlite_to_postgres(source, target)
    assert target.count(status=None) == 0 and target.audit_events() == []
