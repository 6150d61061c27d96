"""Hybrid search: meaning over words, complete filters, inert query syntax, explained and deterministic hits."""

from __future__ import annotations

import pytest

from kb.models import KBError
from kb.retrieval import learning, search
from kb.retrieval.search import SearchFilters, best_sentence, fuse, highlight, normalise, query_terms


@pytest.fixture
def filled(kb):
    rows = []
    # 60 near-identical TFF notes at CAM, then 3 LEI entries that rank low for the query.
    for i in range(60):
        rows.append(
            {
                "type": "cue",
                "text": f"TFF run {i}: transmembrane pressure crept up near the end of diafiltration.",
                "process": "LVV",
                "step": "tff",
                "site": "CAM",
                "occurred_at": f"2024-{1 + i % 12:02d}-10",
            }
        )
    rows += [
        {
            "type": "deviation",
            "text": "Label printer jammed; vial labels reprinted and reconciled.",
            "process": "CAR-T",
            "step": "formulation",
            "site": "LEI",
            "occurred_at": "2025-03-01",
        },
        {
            "type": "fix",
            "text": "Replaced the printer ribbon and added a line-clearance check.",
            "process": "CAR-T",
            "step": "formulation",
            "site": "LEI",
            "occurred_at": "2025-03-05",
        },
        {
            "type": "cue",
            "text": "Cells looked grainy under the microscope after thaw; viability 68 %.",
            "process": "CAR-T",
            "step": "cryopreservation",
            "site": "LEI",
            "occurred_at": "2025-07-20",
        },
    ]
    kb.add_many(rows, author="ana")
    return kb


def test_a_symptom_in_other_words_finds_the_entry(kb):
    kb.add_many(
        [
            {
                "type": "deviation",
                "text": "Sartoclear depth filter blocked after 30 L; dP 1.5 bar; stringy clumps in harvest.",
            },
            {"type": "cue", "text": "Medium turned orange by day 5 in the G-Rex; fed early."},
            {"type": "fix", "text": "Recalibrated the pH probe against a fresh buffer before inoculation."},
        ],
        author="ana",
    )
    hit = kb.search("the clarification filter clogged and pressure went up", k=1)[0]
    assert hit.entry.type == "deviation"
    hit = kb.search("culture media changed colour", k=1)[0]
    assert hit.entry.type == "cue" and hit.keyword_rank is None and hit.semantic_rank == 1


def test_selective_filter_returns_every_matching_entry(filled):
    hits = filled.search("transmembrane pressure diafiltration", k=10, filters=SearchFilters(site="LEI"))
    assert sorted(h.entry.id for h in hits) == ["KB-000061", "KB-000062", "KB-000063"]
    assert all(h.entry.site == "LEI" for h in hits)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(types=["fix"]), {"KB-000062"}),
        (SearchFilters(step="cryopreservation"), {"KB-000063"}),
        (SearchFilters(process="CAR-T", since="2025-03-02"), {"KB-000062", "KB-000063"}),
        (SearchFilters(process="CAR-T", until="2025-03-01"), {"KB-000061"}),
        (SearchFilters(site="LEI", since="2025-03-01", until="2025-03-05"), {"KB-000061", "KB-000062"}),
    ],
)
def test_each_filter_narrows_before_ranking(filled, filters, expected):
    hits = filled.search("pressure", k=20, filters=filters)
    assert {h.entry.id for h in hits} == expected


def test_bad_filter_values_name_the_argument(filled):
    with pytest.raises(KBError, match="--since"):
        filled.search("x", filters=SearchFilters(since="last tuesday"))
    with pytest.raises(KBError, match="--type"):
        filled.search("x", filters=SearchFilters(types=["banana"]))
    with pytest.raises(KBError, match="-k"):
        filled.search("x", k=0)


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "pressure*",
        "NEAR(pressure tff)",
        "-pressure",
        "(pressure OR",
        "'; DROP TABLE entries; --",
        "a AND OR NOT",
        "title:pressure",
        "%_\\",
        "   ",
        "",
    ],
)
def test_query_syntax_is_plain_text(filled, query):
    hits = filled.search(query, k=5)
    assert isinstance(hits, list)
    assert filled.store.count() == 63


def test_query_terms_are_plain_stemmed_words():
    assert query_terms('NEAR(a "b") -c*') == ["near", "b", "c"]
    assert query_terms(" ;-- ") == []
    assert query_terms("the pumps are in the bags") == ["pump", "bag"]
    assert query_terms("what is it") == ["what", "i", "it"], "a query of only function words still searches"
    assert query_terms("Filtering, filters; FILTER") == ["filter"]


def test_highlight_marks_words_sharing_a_stem_with_the_query():
    text = "The filters clogged; filtering slowed and the pump stopped."
    assert (
        highlight(text, "filter pump")
        == "The **filters** clogged; **filtering** slowed and the **pump** stopped."
    )
    assert highlight(text, "the") == "**The** filters clogged; filtering slowed and **the** pump stopped."


def test_same_query_same_order(filled):
    first = [h.entry.id for h in filled.search("pressure near the end", k=30)]
    second = [h.entry.id for h in filled.search("pressure near the end", k=30)]
    assert first == second and len(first) == 30


def test_hits_explain_themselves(filled):
    hit = filled.search("printer jammed labels", k=1)[0]
    assert hit.entry.id == "KB-000061"
    assert hit.keyword_rank == 1 and hit.semantic_rank == 1
    assert "keyword rank 1" in hit.why and "semantic rank 1" in hit.why
    assert "**" in hit.snippet
    data = hit.to_dict()
    for key in ("id", "ext_id", "type", "title", "score", "step", "site", "occurred_at", "snippet"):
        assert key in data


def test_modes_and_fusions(filled):
    assert all(h.semantic_rank is None for h in filled.search("printer", mode="keyword"))
    assert all(h.keyword_rank is None for h in filled.search("printer", mode="dense"))
    linear = filled.search("printer ribbon", k=3, fusion="linear")
    assert linear[0].entry.id == "KB-000062"
    with pytest.raises(KBError, match="mode"):
        filled.search("x", mode="magic")


def test_the_default_fusion_is_the_one_chosen_on_the_labelled_sets(filled):
    # docs/benchmarks.md section 3: convex fusion, scores divided by each leg's largest, dense share 0.4.
    assert (search.DEFAULT_FUSION, search.DEFAULT_NORM, search.DEFAULT_ALPHA) == ("linear", "max", 0.4)
    assert learning.DEFAULT_ALPHA == search.DEFAULT_ALPHA  # alpha tuning starts from the search's default
    hits = filled.search("printer ribbon", k=3)
    assert [(h.entry.id, h.score) for h in hits] == [
        (h.entry.id, h.score)
        for h in filled.search("printer ribbon", k=3, fusion="linear", alpha=0.4, norm="max")
    ]
    assert hits[0].entry.id == "KB-000062"


def test_scaling_by_the_largest_keeps_the_order_of_negative_similarities():
    # A query unlike every entry a filter leaves: all cosines negative. Dividing by the (negative)
    # maximum would put the least similar first.
    scaled = normalise({1: -0.05, 2: -0.2, 3: -0.4}, "max")
    assert sorted(scaled, key=lambda s: -scaled[s]) == [1, 2, 3]
    assert scaled[3] == pytest.approx(-1.0)
    assert normalise({1: 2.0, 2: 1.0}, "max") == {1: 1.0, 2: 0.5}
    fused = fuse({}, {}, {1: 1, 2: 2, 3: 3}, {1: -0.05, 2: -0.2, 3: -0.4})
    assert sorted(fused, key=lambda s: -fused[s]) == [1, 2, 3]


def test_links_come_with_hits(filled):
    filled.link("KB-000061", "fixed_by", "KB-000062", author="ana")
    hit = filled.search("printer jammed", k=1)[0]
    assert [(x.relation, x.target) for x in hit.links] == [("fixed_by", "KB-000062")]


def test_best_sentence_picks_the_matching_sentence():
    filler = "Nothing else of note happened during the rest of this long and uneventful shift at the site" * 2
    text = f"Vials were thawed at 37 C and {filler}. The pump sounded different before the kink. {filler}."
    assert best_sentence(text, "pump noise") == "The pump sounded different before the kink."
    # Function words in the query do not decide; word starts match other forms ("clarify").
    text = f"It was the end of the shift and {filler}. Pump noise before kink. {filler}."
    assert best_sentence(text, "the pump") == "Pump noise before kink."
    text = f"It was the end of {filler}. We clarify the harvest twice. {filler}."
    assert best_sentence(text, "clarification") == "We clarify the harvest twice."


def test_best_sentence_keeps_short_neighbours_for_context():
    text = "Two early blockages in Feb. Both harvests had long DNA strings. We now add Benzonase."
    assert best_sentence(text, "strings") == text
