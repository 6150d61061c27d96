"""The store contract: every test runs against SQLite and against a real PostgreSQL server.

Only the public store API is used here (no SQL), so a backend passes by behaving, not by its schema.
"""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

from kb.models import Entry, KBError, Link, NotFoundError, SearchFilters
from kb.storage import schema
from kb.storage.base import GENESIS_HASH, event_hash
from kb.storage.factory import open_store


def cue(text: str, **kw) -> Entry:
    return Entry(type="cue", text=text, **kw)


def chain_problems(store) -> list[str]:
    """Recompute the audit chain from the public API; return what is wrong with it (empty when intact)."""
    problems, prev = [], GENESIS_HASH
    for expected_seq, event in enumerate(store.audit_events(), start=1):
        if event["seq"] != expected_seq:
            problems.append(f"seq {event['seq']} where {expected_seq} was expected")
        if event["prev_hash"] != prev:
            problems.append(f"event {event['seq']} does not point at the previous hash")
        body = (event["at"], event["actor"], event["action"], event["entry_id"], event["details"])
        if event_hash(*body, event["prev_hash"]) != event["hash"]:
            problems.append(f"event {event['seq']} does not match its hash")
        prev = event["hash"]
    return problems


# -- ids, revisions, retire ----------------------------------------------------------------------


def test_ids_are_sequential_and_revisions_record_old_and_new(store):
    a, b = store.insert([cue("first", site="CAM"), cue("second")], author="ana")
    assert (a.id, b.id) == ("KB-000001", "KB-000002")
    assert store.get("kb-000002").text == "second"
    assert a.revision == 1 and a.created_at.endswith("Z") and a.content_hash == a.compute_hash()
    store.update(a.id, {"text": "first, corrected", "site": "LEI"}, author="ben", reason="typo")
    history = store.history(a.id)
    assert [(r.revision, r.action, r.author) for r in history] == [(1, "create", "ana"), (2, "edit", "ben")]
    assert history[1].changes == {
        "text": {"old": "first", "new": "first, corrected"},
        "site": {"old": "CAM", "new": "LEI"},
    }
    stored = store.get(a.id)
    assert stored.revision == 2 and stored.content_hash == stored.compute_hash()


def test_an_edit_that_changes_nothing_writes_no_revision(store):
    (e,) = store.insert([cue("same")], author="ana")
    version = store.version()
    store.update(e.id, {"text": "same"}, author="ana", reason="no-op")
    assert store.get(e.id).revision == 1 and len(store.history(e.id)) == 1
    assert store.version() == version


def test_retire_and_restore_keep_the_row_and_its_history(store):
    (e,) = store.insert([cue("x")], author="ana")
    store.set_status(e.id, "retired", author="qa", reason="duplicate")
    assert store.get(e.id).status == "retired"
    assert store.count() == 0 and store.count(status=None) == 1 and store.count(status="retired") == 1
    assert [x.id for x in store.iter_entries()] == []
    assert [x.id for x in store.iter_entries(status=None)] == [e.id]
    store.set_status(e.id, "active", author="qa", reason="not a duplicate after all")
    assert [r.action for r in store.history(e.id)] == ["create", "retire", "restore"]
    assert store.get(e.id).revision == 3


def test_lookups_by_ext_id_hash_and_many_ids(store):
    a, b, c = store.insert(
        [cue("one", ext_id="SRC-1"), Entry(type="fix", text="two"), cue("three", ext_id="SRC-1")], author="a"
    )
    assert store.find_by_ext_id("SRC-1").id == c.id
    assert store.find_by_ext_id("nope") is None
    assert store.find_by_hash(b.content_hash).id == b.id
    assert list(store.get_many([c.id, a.id, "KB-000099", a.id])) == [a.id, c.id]
    assert [e.id for e in store.iter_entries(type="fix")] == [b.id]
    rows = dict(store.keyword_rows([1, 3]))
    assert sorted(rows) == [1, 3] and rows[3]["text"] == "three" and rows[1]["tags"] == []


def test_bulk_lookups_answer_as_the_single_ones_do(store):
    a, b, c, d, e = store.insert(
        [
            cue("one", ext_id="SRC-1"),
            cue("two"),
            cue("three", ext_id="SRC-1"),
            cue("two"),
            cue("four", ext_id="SRC-2"),
        ],
        author="a",
    )
    store.set_status(b.id, "retired", author="qa", reason="duplicate")
    assert b.content_hash == d.content_hash
    many = store.insert([cue(f"bulk {i}", ext_id=f"B-{i}") for i in range(1203)], author="bulk")
    ext_ids = ["SRC-1", "SRC-2", "nope", "SRC-1", *(f"B-{i}" for i in range(1203))]
    found = store.find_by_ext_ids(ext_ids)
    assert found["SRC-1"].id == c.id, "the newest entry of an ext_id, as find_by_ext_id"
    assert found["SRC-2"].id == e.id and "nope" not in found and len(found) == 2 + 1203
    assert {k: v.id for k, v in found.items()} == {k: store.find_by_ext_id(k).id for k in found}
    assert found["B-1202"].id == many[-1].id, "past SQLite's chunk of 500 parameters"
    hashes = [a.content_hash, b.content_hash, "0" * 64, *(e.content_hash for e in many[:600])]
    by_hash = store.find_by_hashes(hashes)
    assert by_hash[b.content_hash].id == d.id, "the retired copy is left out; the active one answers"
    assert "0" * 64 not in by_hash and len(by_hash) == 2 + 600
    assert {k: v.id for k, v in by_hash.items()} == {k: store.find_by_hash(k).id for k in by_hash}
    assert store.find_by_ext_ids([]) == {} and store.find_by_hashes([]) == {}
    assert set(store.find_by_ext_ids([None, "SRC-2"])) == {"SRC-2"}, "no ext_id: nothing to find"
    assert store.find_by_hashes([None]) == {}


def test_iter_entries_streams_past_one_page(store):
    store.insert([cue(f"note {i}") for i in range(2105)], author="bulk")
    ids = [e.id for e in store.iter_entries()]
    assert len(ids) == 2105 and ids == sorted(ids) and len(set(ids)) == 2105


def test_links_are_typed_idempotent_and_listed_both_ways(store):
    dev, fix, other = store.insert(
        [Entry(type="deviation", text="dP high"), Entry(type="fix", text="nuclease"), cue("c")], author="a"
    )
    store.add_link(Link(dev.id, "fixed_by", fix.id, author="a"))
    store.add_link(Link(dev.id, "fixed_by", fix.id, author="a"))
    assert [(x.source, x.target) for x in store.links(fix.id)] == [(dev.id, fix.id)]
    by_id = store.links_for([dev.id, fix.id, other.id])
    assert len(by_id[dev.id]) == len(by_id[fix.id]) == 1 and by_id[other.id] == []
    assert len(store.all_links()) == 1
    assert [e["action"] for e in store.audit_events(dev.id)] == ["create", "link"]
    # What a search fetches for its hits: both answers at once, the same as asked one by one.
    ids = [other.id, dev.id, "KB-000099", dev.id]
    entries, links = store.get_many_with_links(ids)
    assert list(entries) == [dev.id, other.id] and entries == store.get_many(ids)
    assert links == store.links_for(ids) and links[dev.id] == by_id[dev.id] and links["KB-000099"] == []
    assert store.get_many_with_links([]) == ({}, {})


# -- bad input -------------------------------------------------------------------------------------


def test_bad_input_names_the_field_and_writes_nothing(store):
    version = store.version()
    with pytest.raises(KBError, match="field 'text'"):
        store.insert([cue("good"), cue("   ")], author="ana")
    with pytest.raises(KBError, match="field 'type'"):
        store.insert([Entry(type="banana", text="x")], author="ana")
    with pytest.raises(KBError, match="field 'tags'"):
        store.insert([cue("x", tags="not-a-list")], author="ana")
    assert store.count(status=None) == 0 and store.audit_events() == [] and store.version() == version
    (e,) = store.insert([cue("x")], author="ana")
    with pytest.raises(KBError, match="argument 'reason'"):
        store.update(e.id, {"text": "y"}, author="ana", reason=" ")
    with pytest.raises(KBError, match="field 'colour'"):
        store.update(e.id, {"colour": "y"}, author="ana", reason="r")
    with pytest.raises(KBError, match="field 'type'"):
        store.update(e.id, {"type": "banana"}, author="ana", reason="r")
    with pytest.raises(KBError, match="unknown relation 'causes'"):
        store.add_link(Link(e.id, "causes", e.id))
    with pytest.raises(KBError, match="itself"):
        store.add_link(Link(e.id, "related", e.id))
    with pytest.raises(NotFoundError, match="KB-000042"):
        store.add_link(Link(e.id, "related", "KB-000042"))
    with pytest.raises(NotFoundError, match="'banana'"):
        store.get("banana")
    with pytest.raises(KBError, match="already active"):
        store.set_status(e.id, "active", author="a", reason="r")
    assert store.get(e.id).revision == 1 and len(store.audit_events()) == 1


def test_a_failed_transaction_leaves_nothing_behind(store):
    (a,) = store.insert([cue("kept")], author="a")
    version = store.version()
    with pytest.raises(RuntimeError, match="boom"), store.transaction():
        (b,) = store.insert([cue("lost")], author="a")
        store.add_link(Link(b.id, "related", a.id))
        store.update(a.id, {"text": "changed"}, author="a", reason="r")
        raise RuntimeError("boom")
    assert store.count() == 1 and store.get(a.id).text == "kept" and store.all_links() == []
    assert store.version() == version and len(store.audit_events()) == 1
    (c,) = store.insert([cue("next")], author="a")
    assert c.id == "KB-000002", "a rolled-back id is reused, so ids stay gap-free"
    assert chain_problems(store) == []


def test_unreachable_or_unknown_databases_are_named(tmp_path):
    with pytest.raises(KBError, match=r"127\.0\.0\.1:1\b.*cannot reach"):
        open_store("postgresql://postgres@127.0.0.1:1/kb")
    with pytest.raises(KBError, match="argument '--db'.*mysql://"):
        open_store("mysql://db/kb")


# -- vectors ---------------------------------------------------------------------------------------


def test_vectors_round_trip_per_model_and_current_content_only(store):
    a, b = store.insert([cue("x"), cue("y")], author="a")
    va = np.random.default_rng(1).standard_normal(384).astype(np.float32)
    store.put_vectors([(a, va), (b, va * 2)], "m1")
    store.put_vectors([(a, np.ones(8, dtype=np.float32))], "m2")
    seqs, matrix = store.vectors("m1")
    assert list(seqs) == [1, 2] and matrix.dtype == np.float32 and np.array_equal(matrix[0], va)
    assert store.fingerprints() == {"m1": 2, "m2": 1} and store.count_vectors("m1") == 2
    store.update(a.id, {"text": "x changed"}, author="a", reason="r")
    assert list(store.vectors("m1")[0]) == [2], "a vector of old content must not be served"
    assert list(store.vectors_for([a.id, b.id], "m1")) == [b.id]
    assert [e.id for e in store.missing_vectors("m1")] == [a.id]
    store.put_vectors([(store.get(a.id), va)], "m1")
    assert store.missing_vectors("m1") == [] and store.count_vectors("m1") == 2


# -- change log ------------------------------------------------------------------------------------


def test_change_log_lists_what_changed_after_a_version(store):
    a, b, c = store.insert([cue("a"), cue("b"), cue("c")], author="x")
    v1 = store.version()
    assert store.changes_since(0) == [(1, "active"), (2, "active"), (3, "active")]
    assert store.changes_since(v1) == []
    store.set_status(b.id, "retired", author="x", reason="r")
    store.update(c.id, {"text": "c2"}, author="x", reason="r")
    v2 = store.version()
    assert v2 > v1 and store.changes_since(v1) == [(2, "retired"), (3, "active")]
    store.put_vectors([(a, np.ones(4, dtype=np.float32))], "m")
    assert store.changes_since(v2) == [(1, "active")]


def _follow(store, stop: threading.Event, seen: dict[int, str], errors: list) -> None:
    """Follow the change log as an index cache does: read the version, then what changed since the last."""
    try:
        last = 0
        while True:
            done = stop.is_set()
            version = store.version()
            for seq, status in store.changes_since(last):
                seen[seq] = status
            # Everything up to `version` must be visible now: a change committed out of order and
            # shown later with a lower version would be skipped forever by this follower.
            last = version
            if done:
                return
    except Exception as exc:  # reported by the test thread
        errors.append(repr(exc))


def test_concurrent_writers_keep_ids_unique_the_change_log_gap_free_and_the_chain_intact(open_target):
    writers, per_writer = 4, 25
    follower_store = open_target()
    stop, seen, errors = threading.Event(), {}, []
    follower = threading.Thread(target=_follow, args=(follower_store, stop, seen, errors))
    follower.start()

    def write(name: str) -> None:
        s = open_target()  # its own store, as a second app server would have
        try:
            for i in range(per_writer):
                (e,) = s.insert([cue(f"{name} note {i}")], author=name)
                if i % 5 == 0:
                    s.update(e.id, {"text": f"{name} note {i} (edited)"}, author=name, reason="edit")
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    follower.join(60)
    assert errors == []
    store = open_target()
    entries = list(store.iter_entries())
    assert len(entries) == writers * per_writer == len({e.id for e in entries})
    assert [e.id for e in entries] == [f"KB-{n:06d}" for n in range(1, writers * per_writer + 1)]
    assert sorted(seen) == list(range(1, writers * per_writer + 1)), "the follower missed a change"
    assert len(store.audit_events()) == writers * per_writer + writers * per_writer // 5
    assert chain_problems(store) == []


def _process_writer(target: str, name: str, n: int) -> None:
    s = open_store(target)
    for i in range(n):
        s.insert([Entry(type="cue", text=f"{name} note {i}")], author=name)
    s.close()


def test_two_processes_writing_at_once_lose_nothing(store, store_target):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer, args=(store_target, name, 30)) for name in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
        assert p.exitcode == 0
    texts = sorted(e.text for e in store.iter_entries())
    assert texts == sorted(f"{p} note {i}" for p in ("p1", "p2") for i in range(30))
    assert len(store.audit_events()) == 60 and chain_problems(store) == []


# -- reopen and migrations -------------------------------------------------------------------------


def test_reopening_keeps_everything_and_migrations_are_idempotent(open_target):
    first = open_target()
    (e,) = first.insert([cue("persist me", tags=["a", "b"], fields={"k": 1})], author="a")
    first.put_vectors([(e, np.ones(4, dtype=np.float32))], "m")
    version = first.version()
    first.close()
    # Two stores opening the same existing database at once both run the migrations.
    opened: list = []
    threads = [threading.Thread(target=lambda: opened.append(open_target())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(opened) == 2
    for s in opened:
        got = s.get(e.id)
        assert (got.text, got.tags, got.fields) == ("persist me", ["a", "b"], {"k": 1})
        assert s.version() == version and s.count_vectors("m") == 1
    assert chain_problems(opened[0]) == []


def test_nested_transactions_join_the_outer_one(store):
    with store.transaction():
        a, b = store.insert([Entry(type="deviation", text="d"), Entry(type="fix", text="f")], author="a")
        store.add_link(Link(a.id, "fixed_by", b.id, author="a"))
        with store.transaction():
            store.update(a.id, {"site": "CAM"}, author="a", reason="r")
    assert store.get(a.id).site == "CAM" and len(store.links(a.id)) == 1
    assert [e["action"] for e in store.audit_events()] == ["create", "create", "link", "edit"]
    assert chain_problems(store) == []


def test_both_backends_implement_the_store_protocol_with_its_signatures(store):
    import inspect

    from kb.storage import base

    def shape(function) -> list[tuple]:
        """Parameter names, kinds and defaults: what a caller relies on."""
        return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]

    assert isinstance(store, base.Store)
    for name, member in inspect.getmembers(base.Store, inspect.isfunction):
        if name.startswith("_"):
            continue
        assert shape(getattr(type(store), name)) == shape(member), name


def test_filters_stats_and_housekeeping(store):
    store.insert(
        [
            Entry(type="deviation", text="dP high", process="LVV", site="CAM", occurred_at="2026-03-02",
                  tags=["tff", "filter"]),
            Entry(type="fix", text="nuclease", process="lvv", site="LEI", occurred_at="2026-03-05T10:00:00Z"),
            cue("orange medium", process="CAR-T", site="cam", tags=["colour"]),
        ],
        author="a",
    )  # fmt: skip
    store.set_status("KB-000003", "retired", author="a", reason="r")
    assert list(store.filter_seqs(SearchFilters())) == [1, 2]
    assert list(store.filter_seqs(SearchFilters(process="lvv"))) == [1, 2], "filters ignore case"
    assert list(store.filter_seqs(SearchFilters(site="CAM", status="retired"))) == [3]
    assert list(store.filter_seqs(SearchFilters(types=["fix"]))) == [2]
    assert list(store.filter_seqs(SearchFilters(until="2026-03-05"))) == [1, 2], "until includes its day"
    assert list(store.filter_seqs(SearchFilters(since="2026-03-03"))) == [2]
    assert list(store.filter_seqs(SearchFilters(tags=["tff"]))) == [1]
    assert list(store.filter_seqs(SearchFilters(tags=["tf"]))) == [], "a tag matches whole"
    stats = store.stats_counts()
    assert stats["by_type"] == {"deviation": 1, "fix": 1} and stats["revisions"] == 4
    assert stats["by_process"] == {"LVV": 1, "lvv": 1} and stats["links"] == 0
    assert store.integrity_check() == "ok"
    assert store.schema_version() == schema.LATEST
    assert store.get_meta("nope") is None
    assert store.set_meta("site_name", "LEI") == "LEI"
    assert store.set_meta("site_name", "CAM", overwrite=False) == "LEI"
    assert store.set_meta("site_name", "CAM") == "CAM" and store.get_meta("site_name") == "CAM"


def test_append_event_extends_the_one_chain_and_authors_are_fixed(store):
    (e,) = store.insert([cue("x", author="ana")], author="ana")
    with store.transaction():
        store.append_event("qa", "export", None, {"process": "LVV"}, "2026-12-04T10:00:00.000000Z")
    assert [ev["action"] for ev in store.audit_events()] == ["create", "export"]
    assert store.audit_events()[0]["details"]["content_hash"] == e.content_hash
    assert chain_problems(store) == []
    with pytest.raises(KBError, match="field 'author': read-only"):
        store.update(e.id, {"author": "mallory"}, author="mallory", reason="r")


def test_search_feedback_is_stored_audited_and_checked(store):
    (e,) = store.insert([cue("x")], author="a")
    assert store.feedback_stamp() == (0, 0) and store.feedback_rows() == []
    vec = np.arange(4, dtype=np.float32)
    row = store.add_feedback("why orange", e.id, "helped", user="ana", fingerprint="m", vector=vec,
                             at="2026-12-04T10:00:00.000000Z")  # fmt: skip
    store.add_feedback(
        "x", e.id, "not_relevant", user=None, fingerprint="m", vector=None, at="2026-12-04T10:01:00Z"
    )
    assert row["id"] == 1 and store.feedback_stamp() == (2, 2)
    rows = store.feedback_rows(e.id)
    assert [(r["judgment"], r["user"], r["seq"]) for r in rows] == [
        ("helped", "ana", 1),
        ("not_relevant", None, 1),
    ]
    assert np.array_equal(rows[0]["vector"], vec) and rows[1]["vector"] is None
    with pytest.raises(KBError, match="argument 'judgment'"):
        store.add_feedback("x", e.id, "meh", user=None, fingerprint="m", vector=None, at="t")
    assert [ev["action"] for ev in store.audit_events()] == ["create", "feedback", "feedback"]
    assert chain_problems(store) == []
