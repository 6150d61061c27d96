"""Judgments through the KnowledgeBase: stored, audited, role-checked, and used by search (the real model)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.governance.roles import Actor, PermissionDenied
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError, NotFoundError, SearchFilters, parse_id
from kb.retrieval.learning import RECHECK_SECONDS
from kb.retrieval.search import hybrid_search

ASKED = "clarification filter keeps choking, snotty strings in the harvest bag"
REWORDED = "clarification filter keeps clogging, snotty strings in the harvest bag"
UNRELATED = "cryobag cracked in the liquid nitrogen dewar"


@pytest.fixture
def judged_kb(sample_kb_dir: Path, embedder, tmp_path: Path) -> Iterator[KnowledgeBase]:
    """A writable copy of the sample knowledge base."""
    home = tmp_path / "kb"
    shutil.copytree(sample_kb_dir, home)
    base = KnowledgeBase(home, embedder=embedder)
    yield base
    base.close()


def ranking(kb: KnowledgeBase, query: str, **options) -> list[tuple[str, float]]:
    return [(h.entry.id, h.score) for h in kb.search(query, k=10, **options)]


def test_with_no_judgments_search_is_exactly_the_default(judged_kb: KnowledgeBase):
    kb = judged_kb
    assert not kb.learned()
    for query in (ASKED, REWORDED, UNRELATED, "LOVO"):
        plain = hybrid_search(kb.store, kb.index, kb.keywords, kb.embedder, query, k=10)
        assert ranking(kb, query) == [(h.entry.id, h.score) for h in plain]
        assert ranking(kb, query) == ranking(kb, query, learn=False)
        assert all(not {"judgment_boost", "related_boost"} & set(h.explain) for h in kb.search(query))


def test_helped_lifts_an_entry_for_a_similar_query_and_not_relevant_sinks_one(judged_kb: KnowledgeBase):
    kb = judged_kb
    before = [i for i, _ in ranking(kb, REWORDED)]
    lifted, sunk = before[7], before[0]
    kb.record_feedback(ASKED, lifted, helped=True, user="ana")
    kb.record_feedback(ASKED, sunk, helped=False, user="ana")
    hits = kb.search(REWORDED, k=10)
    after = [h.entry.id for h in hits]
    assert after.index(lifted) < 7, f"{lifted} should move up from rank 8: {after}"
    assert sunk not in after[:1], "the entry judged not relevant leaves the top"
    boost = next(h for h in hits if h.entry.id == lifted).explain["judgment_boost"]
    assert boost["value"] > 0 and boost["helped"] == 1
    assert boost["because"][0]["query"] == ASKED and boost["because"][0]["similarity"] > 0.7
    assert "judgments +" in next(h for h in hits if h.entry.id == lifted).why
    assert ranking(kb, UNRELATED) == ranking(kb, UNRELATED, learn=False), "a distant query is unaffected"


def test_entries_that_helped_together_lift_each_other_for_a_query_in_other_words(judged_kb: KnowledgeBase):
    kb = judged_kb
    before = [i for i, _ in ranking(kb, UNRELATED)]
    top = before[0]
    # An entry the unrelated query does not find, judged helpful together with its top hit for ASKED
    # (whose words and meaning are far from UNRELATED's: the similarity boost cannot reach it).
    partner = next(e.id for e in kb.store.iter_entries() if e.id not in before)
    kb.record_feedback(ASKED, top, helped=True, user="ana")
    kb.record_feedback(ASKED, partner, helped=True, user="ana")
    hits = kb.search(UNRELATED, k=10)
    after = [h.entry.id for h in hits]
    assert after[0] == top, "the best match keeps its place"
    assert partner in after, f"{partner} helped together with the best match {top}: {after}"
    lifted = hits[after.index(partner)]
    assert "judgment_boost" not in lifted.explain, "the queries are too far apart for the similarity boost"
    related = lifted.explain["related_boost"]
    assert related["best_match"] == top and related["because"] == [ASKED] and related["value"] > 0
    assert f"helped together with the best match {top}" in lifted.why
    assert [i for i, _ in ranking(kb, UNRELATED, learn=False)] == before, "learn=False: as before judging"
    # Filters and exclusions hold for entries that join through a link, as for any other.
    other_site = next(s for s in ("CAM", "LEI") if s != kb.get(partner).site)
    filtered = kb.search(UNRELATED, k=10, filters=SearchFilters(site=other_site))
    assert partner not in [h.entry.id for h in filtered]
    assert partner not in [h.entry.id for h in kb.search(UNRELATED, k=10, exclude={parse_id(partner)})]


def test_links_work_in_keyword_mode_and_a_sunk_best_match_passes_none_on(judged_kb: KnowledgeBase):
    kb = judged_kb
    before = [h.entry.id for h in kb.search(UNRELATED, k=10, mode="keyword")]
    top = before[0]
    partner = next(e.id for e in kb.store.iter_entries() if e.id not in before)
    kb.record_feedback(ASKED, top, helped=True, user="ana")
    kb.record_feedback(ASKED, partner, helped=True, user="ana")
    hits = kb.search(UNRELATED, k=10, mode="keyword")
    lifted = next(h for h in hits if h.entry.id == partner)
    assert lifted.explain["related_boost"]["best_match"] == top
    # Judged not relevant for this very query, the former best match sinks and passes nothing on.
    kb.record_feedback(UNRELATED, top, helped=False, user="ana")
    hits = kb.search(UNRELATED, k=10, mode="keyword")
    assert hits[0].entry.id != top
    assert partner not in [h.entry.id for h in hits]
    assert not any("related_boost" in h.explain for h in hits)
    kb.retire(partner, author="qa", reason="superseded")
    assert partner not in [i for i, _ in ranking(kb, UNRELATED)], "a retired entry never comes back"


def test_an_entry_lists_the_entries_that_helped_together_with_it(judged_kb: KnowledgeBase):
    kb = judged_kb
    a, b, c, d = [e.id for e in list(kb.store.iter_entries())[:4]]
    for ref in (a, b, c):
        kb.record_feedback(ASKED, ref, helped=True, user="ana")
    for ref in (a, b):
        kb.record_feedback(UNRELATED, ref, helped=True, user="ana")
    kb.record_feedback(UNRELATED, d, helped=False, user="ana")  # not relevant: never together
    together = [(e.id, q) for e, q in kb.helped_together(a)]
    assert together == [(b, [ASKED, UNRELATED]), (c, [ASKED])], "most searches first"
    assert [e.id for e, _ in kb.helped_together(d)] == []
    kb.record_feedback(UNRELATED, b, helped=False, user="ana")  # a change of mind
    assert [(e.id, q) for e, q in kb.helped_together(a)][0] == (b, [ASKED])
    kb.retire(c, author="qa", reason="superseded")
    assert [e.id for e, _ in kb.helped_together(a)] == [b], "a retired entry is not offered"


def test_an_entry_that_helped_joins_the_results_even_if_neither_leg_found_it(judged_kb: KnowledgeBase):
    kb = judged_kb
    found = {i for i, _ in ranking(kb, REWORDED)}
    outsider = next(e.id for e in kb.store.iter_entries() if e.id not in found and e.step != "clarification")
    kb.record_feedback(REWORDED, outsider, helped=True, user="ana")
    assert outsider in [i for i, _ in ranking(kb, REWORDED)]
    kb.retire(outsider, author="qa", reason="superseded")
    assert outsider not in [i for i, _ in ranking(kb, REWORDED)], "a retired entry never comes back"


def test_bad_judgments_get_clear_errors(judged_kb: KnowledgeBase):
    kb = judged_kb
    entry = next(kb.store.iter_entries())
    with pytest.raises(KBError, match="query is empty"):
        kb.record_feedback("   ", entry.id, helped=True, user="ana")
    with pytest.raises(NotFoundError, match="no entry with id or ext_id 'NO-SUCH-1'"):
        kb.record_feedback(ASKED, "NO-SUCH-1", helped=True, user="ana")
    with pytest.raises(NotFoundError, match="KB-999999"):
        kb.record_feedback(ASKED, "KB-999999", helped=True, user="ana")
    assert kb.store.feedback_stamp() == (0, 0), "nothing half written"
    row = kb.record_feedback(ASKED, entry.ext_id, helped=True, user="ana")
    assert row["entry_id"] == entry.id, "an ext_id names the entry as well as its id"


def test_any_account_may_judge_and_is_recorded_as_itself(judged_kb: KnowledgeBase):
    kb = judged_kb
    entry = next(kb.store.iter_entries())
    kb.actor = Actor("olu", "operator")
    row = kb.record_feedback(ASKED, entry.id, helped=True, user="someone-else")
    assert row["user"] == "olu"
    [event] = [e for e in kb.store.audit_events(entry.id) if e["action"] == "feedback"]
    assert event["actor"] == "olu" and event["details"]["judgment"] == "helped"
    assert event["details"]["fingerprint"] == kb.embedder.fingerprint

    class Refused(Actor):
        def require(self, action: str) -> None:
            raise PermissionDenied("log in first")

    kb.actor = Refused("anonymous", "operator")
    with pytest.raises(PermissionDenied):
        kb.record_feedback(ASKED, entry.id, helped=False, user="anonymous")
    assert kb.store.feedback_stamp()[0] == 1


def test_search_without_judgments_reads_the_feedback_table_at_most_once(judged_kb: KnowledgeBase):
    kb = judged_kb
    statements: list[str] = []
    kb.store.conn.set_trace_callback(statements.append)
    started = time.monotonic()
    for query in (ASKED, REWORDED, UNRELATED) * 5:
        kb.search(query)
    elapsed = time.monotonic() - started
    kb.store.conn.set_trace_callback(None)
    # Judgments from other processes are re-read at most once per RECHECK_SECONDS (on a loaded machine
    # fifteen searches can take longer than that), never once per query.
    allowed = 1 + int(elapsed // RECHECK_SECONDS)
    reads = [s for s in statements if "feedback" in s]
    assert len(reads) <= allowed, reads


def test_every_hit_explains_itself(judged_kb: KnowledgeBase):
    hits = judged_kb.search(ASKED, k=10)
    for hit in hits:
        x = hit.to_dict()["explain"]
        assert set(x) >= {"matched_words", "semantic_similarity", "keyword_score", "fused_score"}
        if hit.keyword_rank is not None:
            assert x["matched_words"], f"{hit.entry.id} matched by keyword names its words"
        if hit.semantic_rank is not None:
            assert 0 < x["semantic_similarity"] <= 1
    assert any("filter" in h.explain["matched_words"] for h in hits)
