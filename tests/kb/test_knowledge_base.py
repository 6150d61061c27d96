"""The KnowledgeBase facade: add, dedup, edit, retire, chunking, index consistency after a crash."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kb.files import meta_path
from kb.knowledge_base import KnowledgeBase
from kb.models import MAX_TEXT_CHARS, KBError
from kb.retrieval.keyword_index import FORMAT
from kb.storage import schema

DEV = {
    "type": "deviation",
    "text": "Sartoclear depth filter blocked after 30 L; differential pressure reached 1.5 bar; stringy clumps seen.",
    "process": "LVV",
    "step": "clarification",
    "site": "LEI",
    "occurred_at": "2025-06-02",
}
FIX = {
    "type": "fix",
    "text": "Dosed Benzonase 50 U/mL with 2 mM MgCl2 into the harvest one hour before clarification; dP stayed flat.",
    "process": "LVV",
    "step": "clarification",
    "site": "LEI",
    "occurred_at": "2025-06-04",
}
CUE = {
    "type": "cue",
    "text": "Medium turned orange by day 5 in the G-Rex; fed early and the VCD recovered.",
    "process": "CAR-T",
    "step": "expansion",
    "site": "CAM",
    "occurred_at": "2024-05-01",
}


def test_add_stores_entry_vector_and_index(kb):
    entry = kb.add(DEV, author="ana")
    assert entry.id == "KB-000001" and entry.author == "ana"
    assert kb.store.vectors(kb.embedder.fingerprint)[0].tolist() == [1]
    assert kb.search("filter blocked")[0].entry.id == entry.id
    assert kb.verify()["ok"]


def test_identical_entry_is_refused_and_reimport_adds_nothing(kb):
    kb.add(DEV, author="ana")
    with pytest.raises(KBError, match="identical entry already exists: KB-000001"):
        kb.add(DEV, author="ben")
    result = kb.add_many([DEV, FIX, FIX], author="ana")
    assert result.summary() == {"added": 1, "updated": 0, "duplicates": 2}
    assert [k for k, _ in result.outcomes] == ["duplicate", "added", "duplicate"]


def test_changed_source_record_becomes_a_revision(kb):
    kb.add({**DEV, "ext_id": "DEV-7"}, author="ana")
    result = kb.add_many([{**DEV, "ext_id": "DEV-7", "severity": "major"}], author="ana", reason="re-import")
    assert result.summary()["updated"] == 1
    (entry,) = [e for k, e in result.outcomes]
    assert entry.id == "KB-000001" and entry.revision == 2 and entry.severity == "major"
    assert kb.history(entry.id)[-1].changes == {"severity": {"old": None, "new": "major"}}


def test_long_text_is_split_into_linked_chunks_not_cut(kb):
    paragraph = "Harvest at 48 h; check the haze in the bag and the pH drift before clarification. " * 12
    text = "\n\n".join(f"Part {i}. {paragraph}" for i in range(12))
    assert len(text) > MAX_TEXT_CHARS
    parent = kb.add({"type": "lesson", "text": text, "process": "LVV"}, author="ana")
    assert kb.get(parent.id).text == text, "the parent keeps the whole text"
    chunks = [link.source for link in kb.links(parent.id) if link.relation == "chunk_of"]
    assert len(chunks) >= 5
    assert all(kb.get(c).type == "doc_chunk" and kb.get(c).process == "LVV" for c in chunks)
    assert "Part 11." in " ".join(kb.get(c).text for c in chunks)


def test_edit_reembeds_changed_text(kb):
    e = kb.add(CUE, author="ana")
    before = kb.store.vectors_for([e.id], kb.embedder.fingerprint)[e.id].copy()
    kb.edit(
        e.id,
        {"text": "Pump on the Prodigy started knocking before the tubing kinked."},
        author="ben",
        reason="wrong note",
    )
    after = kb.store.vectors_for([e.id], kb.embedder.fingerprint)[e.id]
    assert not np.allclose(before, after)
    assert kb.search("tubing kink noise", k=1)[0].entry.id == e.id
    assert kb.verify()["ok"]


def test_retired_entries_leave_search_but_stay_in_the_record(kb):
    dev = kb.add(DEV, author="ana")
    kb.add(FIX, author="ana")
    kb.retire(dev.id, author="qa", reason="entered twice")
    assert dev.id not in [h.entry.id for h in kb.search("depth filter blocked clumps", k=10)]
    assert kb.get(dev.id).status == "retired"
    assert kb.verify()["ok"]
    kb.restore(dev.id, author="qa", reason="was not a duplicate")
    assert dev.id in [h.entry.id for h in kb.search("depth filter blocked clumps", k=10)]


@pytest.mark.parametrize("damage", ["missing", "truncated", "stale", "other_model"])
def test_index_is_repaired_from_stored_vectors_after_a_crash(tmp_path, embedder, damage, monkeypatch):
    home = tmp_path / "kb"
    with KnowledgeBase(home, embedder=embedder) as base:
        base.add_many([DEV, FIX, CUE], author="ana")
        base.ensure_index()
    path = home / "index.faiss"
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "stale":
        meta = meta_path(path).read_text().replace('"count": 3', '"count": 2')
        meta_path(path).write_text(meta)
    else:
        meta_path(path).write_text(meta_path(path).read_text().replace(embedder.fingerprint, "other:0:384"))
    with KnowledgeBase(home, embedder=embedder) as base:
        assert not base.verify()["ok"]
        calls = []
        original = embedder.encode
        monkeypatch.setattr(embedder, "encode", lambda texts: calls.append(list(texts)) or original(texts))
        hits = base.search("depth filter pressure", k=3)
        assert hits and hits[0].entry.type == "deviation"
        assert calls == [["depth filter pressure"]], (
            "repair must reuse stored vectors, encoding only the query"
        )
        assert base.last_index_repair
        assert base.verify()["ok"]


@pytest.mark.parametrize("damage", ["missing", "truncated", "stale", "old_format"])
def test_keyword_index_is_rebuilt_from_the_database_when_damaged(tmp_path, embedder, damage):
    home = tmp_path / "kb"
    with KnowledgeBase(home, embedder=embedder) as base:
        base.add_many([DEV, FIX, CUE], author="ana")
        base.ensure_index()
        expected = [h.entry.id for h in base.search("depth filter benzonase", k=3, mode="keyword")]
    path = home / "keywords.npz"
    meta = path.with_suffix(".npz.json")
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "stale":
        meta.write_text(meta.read_text().replace('"count": 3', '"count": 2'))
    else:
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "format": FORMAT - 1}))
    with KnowledgeBase(home, embedder=embedder) as base:
        assert base.verify()["keywords"]["state"] != "ok" and not base.verify()["ok"]
        assert [h.entry.id for h in base.search("depth filter benzonase", k=3, mode="keyword")] == expected
        assert base.last_index_repair and "keyword index" in base.last_index_repair
        assert base.verify()["keywords"]["state"] == "ok" and base.verify()["ok"]


def test_keyword_search_follows_edits_and_retirements(kb):
    dev = kb.add(DEV, author="ana")
    kb.add(FIX, author="ana")
    assert [h.entry.id for h in kb.search("benzonase", mode="keyword")] == ["KB-000002"]
    kb.edit(
        dev.id, {"text": "Benzonase was not dosed; the filter blocked."}, author="qa", reason="correction"
    )
    assert {h.entry.id for h in kb.search("benzonase", mode="keyword")} == {"KB-000001", "KB-000002"}
    kb.retire("KB-000002", author="qa", reason="superseded")
    assert [h.entry.id for h in kb.search("benzonase", mode="keyword")] == ["KB-000001"]
    kb.restore("KB-000002", author="qa", reason="back")
    assert len(kb.search("benzonase", mode="keyword")) == 2


def test_schema_1_database_loses_its_fts5_table_and_keeps_its_entries(tmp_path, embedder):
    import sqlite_utils

    home = tmp_path / "kb"
    with KnowledgeBase(home, embedder=embedder) as base:
        base.add_many([DEV, FIX], author="ana")
    db = sqlite_utils.Database(home / "tacitkb.db")  # what a schema-1 database had beside the entries
    db["entries"].enable_fts(
        ["title", "text", "equipment", "tags"], tokenize="porter unicode61", create_triggers=True
    )
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.conn.commit()
    db.conn.close()
    with KnowledgeBase(home, embedder=embedder) as base:
        names = {r[0] for r in base.store.conn.execute("SELECT name FROM sqlite_master")}
        assert not {"entries_fts", "entries_ai", "entries_au", "entries_ad"} & names
        assert base.store.schema_version() == schema.LATEST
        base.add(CUE, author="ana")  # writes work without the old triggers
        assert [h.entry.id for h in base.search("orange medium", k=1)] == ["KB-000003"]


def test_another_process_write_is_seen_without_reopening(tmp_path, embedder):
    home = tmp_path / "kb"
    reader = KnowledgeBase(home, embedder=embedder)
    reader.add(CUE, author="ana")
    assert len(reader.search("orange medium")) == 1
    with KnowledgeBase(home, embedder=embedder) as writer:
        new = writer.add(DEV, author="ben")
        writer.retire("KB-000001", author="qa", reason="test")
    ids = [h.entry.id for h in reader.search("filter clogged clumps orange medium", k=5)]
    assert ids == [new.id]
    assert reader.verify()["ok"]
    reader.close()


def test_similar_excludes_itself(kb):
    dev = kb.add(DEV, author="ana")
    fix = kb.add(FIX, author="ana")
    kb.add(CUE, author="ana")
    hits = kb.similar(dev.id, k=5)
    assert dev.id not in [h.entry.id for h in hits]
    assert hits[0].entry.id == fix.id


def test_stats_counts(kb):
    kb.add_many([DEV, FIX, CUE], author="ana")
    kb.link("KB-000001", "fixed_by", "KB-000002", author="ana")
    stats = kb.stats()
    assert stats["active"] == 3 and stats["links"] == 1
    assert stats["by_type"] == {"cue": 1, "deviation": 1, "fix": 1}
    assert stats["by_site"] == {"LEI": 2, "CAM": 1}


def test_reimport_with_several_texts_under_one_source_id_is_idempotent(kb):
    rows = [{**DEV, "ext_id": "EV-1"}, {**FIX, "ext_id": "EV-1"}]
    first = kb.add_many(rows, author="ana")
    again = kb.add_many(rows, author="ana")
    assert first.summary()["added"] == 2 or first.summary()["updated"] == 1
    assert again.summary() == {"added": 0, "updated": 0, "duplicates": 2}


def test_resolve_takes_an_id_a_number_or_an_ext_id(kb):
    entry = kb.add({**DEV, "ext_id": "LEI-DEV-0041"}, author="ana")
    assert kb.resolve("kb-000001").id == kb.resolve("1").id == kb.resolve(" LEI-DEV-0041 ").id == entry.id
    with pytest.raises(KBError, match="'NOPE'"):
        kb.resolve("NOPE")
    with pytest.raises(KBError, match="KB-000002"):
        kb.resolve("2")


def test_a_batch_looks_up_what_is_stored_once_not_once_per_row(kb):
    rows = [{"type": "cue", "text": f"cue number {i}", "ext_id": f"C-{i}"} for i in range(40)]
    kb.add_many(rows[:10], author="ana")
    statements: list[str] = []
    kb.store.conn.set_trace_callback(statements.append)
    result = kb.add_many(rows, author="ana")
    kb.store.conn.set_trace_callback(None)
    assert result.summary() == {"added": 30, "updated": 0, "duplicates": 10}
    lookups = [
        s for s in statements if s.startswith("SELECT") and ("ext_id IN" in s or "content_hash IN" in s)
    ]
    assert len(lookups) == 2, lookups
    assert not [s for s in statements if "ext_id = " in s or "content_hash = " in s]
