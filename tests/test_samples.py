"""The shipped sample data set loads cleanly and supports the product's main stories."""

from __future__ import annotations

import json

from kb.retrieval.search import SearchFilters
from tests.conftest import SAMPLES


def test_samples_load_without_rejects_and_links_resolve(sample_kb):
    lines = [json.loads(x) for x in (SAMPLES / "entries.jsonl").read_text().splitlines() if x.strip()]
    assert sample_kb.store.count() == len(lines) >= 300
    n_links = sum(1 for _ in (SAMPLES / "links.csv").open()) - 1
    assert len(sample_kb.store.all_links()) == n_links
    stats = sample_kb.stats()
    assert set(stats["by_site"]) == {"CAM", "LEI"} and set(stats["by_process"]) == {"CAR-T", "LVV"}
    assert {"cue", "know_how", "deviation", "fix", "lesson"} <= set(stats["by_type"])
    dates = sorted(e.occurred_at for e in sample_kb.store.iter_entries() if e.occurred_at)
    assert dates[0][:7] <= "2024-01" and dates[-1][:7] >= "2025-06", "at least 18 months"


def test_a_receiving_site_symptom_in_other_words_finds_the_sending_site_fix(sample_kb):
    hits = sample_kb.search("clarification filter keeps choking, snotty strings in the harvest bag", k=10)
    assert hits[0].entry.step == "clarification"
    fixes = sample_kb.search(
        "clarification filter keeps choking, snotty strings in the harvest bag",
        k=5,
        filters=SearchFilters(types=["fix"]),
    )
    assert any("nuclease" in h.entry.text.lower() or "benzonase" in h.entry.text.lower() for h in fixes)
