"""The SQLite store: ids, revisions, no hard delete, links, audit chain, atomic batches, concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3

import numpy as np
import pytest

from kb.governance.audit import verify_chain
from kb.models import Entry, KBError, Link, NotFoundError
from kb.storage.sqlite import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    yield s
    s.close()


def cue(text: str, **kw) -> Entry:
    return Entry(type="cue", text=text, **kw)


def test_ids_are_stable_and_human_friendly(store):
    a, b = store.insert([cue("first"), cue("second")], author="ana")
    assert (a.id, b.id) == ("KB-000001", "KB-000002")
    assert store.get("kb-000002").text == "second"
    assert a.revision == 1 and a.status == "active" and a.created_at.endswith("Z")
    assert a.content_hash == a.compute_hash()


def test_database_is_in_wal_mode_with_busy_timeout(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_edit_writes_revision_with_old_and_new_values(store):
    (e,) = store.insert([cue("medium orange on day 5", site="CAM")], author="ana")
    store.update(
        e.id, {"text": "medium orange-yellow on day 5", "site": "LEI"}, author="ben", reason="corrected site"
    )
    history = store.history(e.id)
    assert [r.action for r in history] == ["create", "edit"]
    assert history[1].author == "ben" and history[1].reason == "corrected site"
    assert history[1].changes == {
        "text": {"old": "medium orange on day 5", "new": "medium orange-yellow on day 5"},
        "site": {"old": "CAM", "new": "LEI"},
    }
    assert store.get(e.id).revision == 2


def test_edit_needs_a_reason_and_a_known_field(store):
    (e,) = store.insert([cue("x")], author="ana")
    with pytest.raises(KBError, match="reason"):
        store.update(e.id, {"text": "y"}, author="ana", reason=" ")
    with pytest.raises(KBError, match="field 'colour'"):
        store.update(e.id, {"colour": "y"}, author="ana", reason="r")
    with pytest.raises(KBError, match="field 'type'"):
        store.update(e.id, {"type": "banana"}, author="ana", reason="r")
    assert store.get(e.id).revision == 1


def test_retire_keeps_the_row_and_its_history(store):
    (e,) = store.insert([cue("x")], author="ana")
    store.set_status(e.id, "retired", author="qa", reason="duplicate of KB-000009")
    kept = store.get(e.id)
    assert kept.status == "retired" and kept.text == "x"
    assert store.history(e.id)[-1].changes == {"status": {"old": "active", "new": "retired"}}
    assert store.count() == 0 and store.count(status=None) == 1
    with pytest.raises(KBError, match="retired"):
        store.update(e.id, {"text": "y"}, author="ana", reason="r")


def test_unknown_ids_name_the_id(store):
    with pytest.raises(NotFoundError, match="KB-000042"):
        store.get("KB-000042")
    with pytest.raises(NotFoundError, match="'banana'"):
        store.get("banana")


def test_a_batch_with_one_bad_entry_writes_nothing(store):
    with pytest.raises(KBError, match="field 'text'"):
        store.insert([cue("good"), cue("   ")], author="ana")
    assert store.count(status=None) == 0
    assert store.conn.execute("SELECT COUNT(*) FROM revisions").fetchone()[0] == 0


def test_links_are_typed_checked_and_idempotent(store):
    dev, fix = store.insert(
        [Entry(type="deviation", text="dP high"), Entry(type="fix", text="add nuclease")], author="a"
    )
    store.add_link(Link(dev.id, "fixed_by", fix.id, author="a"))
    store.add_link(Link(dev.id, "fixed_by", fix.id, author="a"))
    assert [(x.source, x.relation, x.target) for x in store.links(fix.id)] == [(dev.id, "fixed_by", fix.id)]
    with pytest.raises(KBError, match="unknown relation"):
        store.add_link(Link(dev.id, "causes", fix.id))
    with pytest.raises(NotFoundError):
        store.add_link(Link(dev.id, "related", "KB-000099"))
    with pytest.raises(KBError, match="itself"):
        store.add_link(Link(dev.id, "related", dev.id))


def test_audit_chain_detects_an_edited_event(store):
    store.insert([cue("a"), cue("b")], author="ana")
    assert verify_chain(store).ok
    store.conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1")
    check = verify_chain(store)
    assert not check.ok and check.first_bad_seq == 1


def test_vectors_are_stored_per_fingerprint_and_current_content(store):
    (e,) = store.insert([cue("x")], author="a")
    store.put_vectors([(e, np.ones(4, dtype=np.float32))], "m1")
    seqs, matrix = store.vectors("m1")
    assert list(seqs) == [1] and matrix.shape == (1, 4)
    assert store.vectors("m2")[0].size == 0
    store.update(e.id, {"text": "changed"}, author="a", reason="r")
    assert store.vectors("m1")[0].size == 0, "a vector of old content must not be served"
    assert [x.id for x in store.missing_vectors("m1")] == [e.id]


def _writer(path: str, name: str, n: int) -> None:
    s = Store(path)
    for i in range(n):
        s.insert([Entry(type="cue", text=f"{name} note {i}")], author=name)
    s.close()


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "c.db")
    Store(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, name, 60)) for name in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM entries").fetchone() == (120, 120)
    assert conn.execute("SELECT COUNT(*) FROM revisions").fetchone()[0] == 120


def test_threads_sharing_one_store_do_not_join_each_others_transactions(store):
    import threading

    def writer(name: str) -> None:
        for i in range(40):
            store.insert([cue(f"{name} note {i}")], author=name)

    threads = [threading.Thread(target=writer, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 160
    assert store.conn.execute("SELECT COUNT(DISTINCT entry_id) FROM revisions").fetchone()[0] == 160
