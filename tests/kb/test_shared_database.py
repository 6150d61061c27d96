"""Two app servers (two KnowledgeBase folders, each with its own caches) on one PostgreSQL database."""

from __future__ import annotations

import pytest

from kb.knowledge_base import KnowledgeBase
from kb.models import SearchFilters


@pytest.fixture
def servers(tmp_path, pg_cluster, embedder):
    url = pg_cluster.new_database()
    made = []

    def open_server(name: str) -> KnowledgeBase:
        base = KnowledgeBase(tmp_path / name, embedder=embedder, db=url)
        made.append(base)
        return base

    yield open_server
    for base in made:
        base.close()


def test_a_cue_saved_on_one_server_is_found_on_the_other(servers):
    a, b = servers("a"), servers("b")
    a.add_many(
        [
            {"type": "deviation", "text": "Harvest filter clogged; turbidity high after the nuclease step",
             "site": "LEI", "process": "LVV"},
            {"type": "cue", "text": "Medium turns orange-yellow on day 5 before glucose runs out", "site": "CAM"},
        ],
        author="ana",
    )  # fmt: skip
    assert [h.entry.site for h in b.search("clogged filter at harvest", k=1)] == ["LEI"]
    cue = a.add(
        {"type": "cue", "text": "Zebra-striped foam on the bag means the antifoam pump stalled"}, author="ana"
    )
    hits = b.search("striped foam on the harvest bag", k=1)
    assert [h.entry.id for h in hits] == [cue.id], "server B did not catch up with server A's write"
    assert cue.id not in [
        h.entry.id for h in b.search("striped foam", k=5, filters=SearchFilters(site="CAM"))
    ]
    a.retire(cue.id, author="qa", reason="duplicate")
    assert cue.id not in [h.entry.id for h in b.search("striped foam on the harvest bag", k=3)]
    assert b.verify()["ok"]


def test_a_server_restarts_from_its_caches_or_rebuilds_them(servers, tmp_path):
    a = servers("a")
    a.add(
        {"type": "cue", "text": "Cells clump when the shaker stops for more than ten minutes"}, author="ana"
    )
    b = servers("b")
    assert b.search("cells clumping after the shaker stopped", k=1)[0].entry.text.startswith("Cells clump")
    b.close()
    caches = sorted(p.name for p in (tmp_path / "b").iterdir() if p.suffix in (".faiss", ".npz"))
    assert caches, "server B kept no cache files"
    a.add({"type": "cue", "text": "A sweet smell at thaw means the bag leaked"}, author="ana")
    again = servers("b")  # same folder: loads its caches, then catches up from the change log
    assert again.search("sweet smell when thawing", k=1)[0].entry.text.startswith("A sweet smell")
    again.close()
    for name in caches:
        (tmp_path / "b" / name).unlink()
    rebuilt = servers("b")  # caches gone: rebuilt from the database
    assert rebuilt.search("sweet smell when thawing", k=1)[0].entry.text.startswith("A sweet smell")


def test_a_search_asks_the_database_one_statement_per_step(servers, monkeypatch):
    """The caches' version check, the filter, the hits with their links: on a server, each is a round trip."""
    a = servers("a")
    a.add_many(
        [
            {"type": "deviation", "text": "Harvest filter clogged after the nuclease step", "site": "LEI"},
            {"type": "fix", "text": "Swap the depth filter and slow the feed", "site": "CAM"},
        ],
        author="ana",
    )
    assert a.search("clogged filter", k=2)  # opens both caches
    reads = []
    read = a.store._read
    monkeypatch.setattr(a.store, "_read", lambda work: (reads.append(work), read(work))[1])
    assert len(a.search("clogged filter", k=2, learn=False)) == 2
    assert len(reads) == 2, "expected: the version (both caches), the hits with their links"
    reads.clear()
    hits = a.search("clogged filter", k=2, learn=False, filters=SearchFilters(site="lei"))
    assert [h.entry.site for h in hits] == ["LEI"] and len(reads) == 3, "and the seqs passing the filter"


def test_catching_up_with_another_server_rewrites_no_file_until_close(servers, tmp_path):
    from kb.retrieval.vector_index import VectorIndex

    a, b = servers("a"), servers("b")
    a.add({"type": "cue", "text": "Foam on the harvest bag means the antifoam pump stalled"}, author="ana")
    b.search("foam on the bag", k=1)  # B builds and saves its caches
    files = [tmp_path / "b" / "index.faiss", tmp_path / "b" / "keywords.npz"]
    before = [f.stat().st_mtime_ns for f in files]
    cue = a.add({"type": "cue", "text": "A sweet smell at thaw means the bag leaked"}, author="ana")
    assert b.search("sweet smell when thawing", k=1)[0].entry.id == cue.id  # caught up in memory
    assert [f.stat().st_mtime_ns for f in files] == before, "a search rewrote the cache files"
    b.close()
    assert [f.stat().st_mtime_ns for f in files] != before
    assert VectorIndex.load(files[0]).meta.version == a.store.version()  # saved as caught up
