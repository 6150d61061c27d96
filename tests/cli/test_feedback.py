"""`tacitkb feedback` and `tacitkb search --explain`: judgments from the CLI, and what they change."""

from __future__ import annotations

import json

import pytest

CSV = (
    "ext_id,type,text,process,step,site\n"
    'D1,deviation,"Depth filter blocked after 30 L, dP 1.5 bar, stringy clumps",LVV,clarification,LEI\n'
    'F1,fix,"Benzonase 50 U/mL dosed 1 h before clarification; dP flat",LVV,clarification,LEI\n'
    'C1,cue,"Medium orange on day 5 in the G-Rex; fed early",CAR-T,expansion,CAM\n'
)


@pytest.fixture
def run(run, tmp_path):
    """The CLI against a knowledge base holding three entries."""
    (tmp_path / "x.csv").write_text(CSV)
    assert run("import", str(tmp_path / "x.csv"))[0] == 0
    return run


def test_feedback_is_recorded_and_search_explain_shows_what_it_did(run):
    code, out = run("search", "filter clogging with strings", "--explain")
    assert code == 0 and "learning: no judgments yet" in out and "matched words: filter" in out

    code, out = run("feedback", "filter clogging with strings", "F1", "--helped")
    assert code == 0 and out.startswith(
        "recorded: KB-000002 helped for 'filter clogging with strings' (by tester"
    )
    # D1 tops both legs (fused score 1.0 under the default fusion): one "helped" (+0.7 of the top score)
    # lifts F1 but not past it; the same user judging D1 not relevant sinks it.
    code, out = run("search", "filters clogging with strings", "--json")
    hits = json.loads(out)
    assert [h["id"] for h in hits[:2]] == ["KB-000001", "KB-000002"] and hits[1]["score"] > 0.5
    code, out = run("feedback", "filter clogging with strings", "D1", "--not-relevant")
    assert code == 0

    code, out = run("search", "filters clogging with strings", "--explain", "--json")
    data = json.loads(out)
    assert data["learning"]["judgments"] == 2 and data["learning"]["queries"] == 1
    first = data["hits"][0]
    assert first["id"] == "KB-000002", "the fix that helped for a similar query comes first"
    boost = first["explain"]["judgment_boost"]
    assert boost["helped"] == 1 and boost["because"][0]["query"] == "filter clogging with strings"
    sunk = next(h for h in data["hits"] if h["id"] == "KB-000001")["explain"]["judgment_boost"]
    assert sunk["not_relevant"] == 1 and sunk["value"] < 0

    code, out = run("search", "filters clogging with strings", "--explain")
    assert "learning: 2 judgments for 1 query" in out
    assert "helped for 'filter clogging with strings'" in out


def test_entries_judged_helpful_together_are_explained_for_a_query_in_other_words(run):
    for ref in ("D1", "F1"):
        assert run("feedback", "filter clogging with strings", ref, "--helped")[0] == 0
    # Other words, same problem: D1 comes first; F1 helped together with it, so it follows with a boost.
    code, out = run("search", "dP 1.5 bar after 30 L", "--explain", "--json")
    data = json.loads(out)
    assert code == 0 and data["learning"]["linked_pairs"] == 1
    assert [h["id"] for h in data["hits"][:2]] == ["KB-000001", "KB-000002"]
    lifted, top_score = data["hits"][1], data["hits"][0]["explain"]["fused_score"]
    related = lifted["explain"]["related_boost"]
    assert lifted["score"] == pytest.approx(
        lifted["explain"]["fused_score"] + related["value"] * top_score, abs=1e-4
    )
    assert related == {
        "value": pytest.approx(0.3046, abs=1e-4),  # 0.4 * tanh(1): one earlier query
        "best_match": "KB-000001",
        "judged_together": 1,
        "because": ["filter clogging with strings"],
    }
    code, out = run("search", "dP 1.5 bar after 30 L", "--explain")
    assert "1 pair of entries helped together" in out
    assert "helped together with the best match KB-000001: +0.305 (1 earlier query)" in out
    assert "both helped for 'filter clogging with strings'" in out

    code, out = run("show", "D1")
    assert code == 0 and "helped together with (judged helpful for the same searches):" in out
    assert "KB-000002  " in out and "(1 search: 'filter clogging with strings')" in out
    code, out = run("show", "D1", "--json")
    assert json.loads(out)["helped_together"] == [
        {
            "id": "KB-000002",
            "title": json.loads(run("show", "F1", "--json")[1])["title"],
            "searches": ["filter clogging with strings"],
        }
    ]
    code, out = run("show", "C1", "--json")
    assert json.loads(out)["helped_together"] == []


def test_feedback_errors_name_the_problem(run):
    code, out = run("feedback", "  ", "D1", "--helped")
    assert code == 1 and "error: argument 'QUERY': the query is empty" in out
    code, out = run("feedback", "filter", "NOPE-9", "--not-relevant")
    assert code == 1 and "error: no entry with id or ext_id 'NOPE-9'" in out
    code, out = run("feedback", "filter", "D1")
    assert code == 2 and "--helped or --not-relevant" in out
    code, out = run("feedback", "filter", "D1", "--not-relevant", "--json")
    assert code == 0 and json.loads(out)["judgment"] == "not_relevant"
