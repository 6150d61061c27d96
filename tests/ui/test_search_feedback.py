"""Search page: every hit explains itself and can be judged; the judgment is stored, attributed and used."""

from __future__ import annotations

from tests.ui.conftest import assert_clean, texts, unescape

QUERY = "clarification filter keeps choking, snotty strings in the harvest bag"


def shown(at) -> list[str]:
    """Return the entry ids of the hits shown, in order."""
    return [
        b.label.split()[1]
        for b in at.button
        if b.key and b.key.startswith("s-hit") and b.key.endswith("-open")
    ]


def test_a_hit_judged_helpful_is_stored_as_the_user_and_explained(open_app, check_kb):
    at = open_app("search", user=("Olu Bello", "operator"))
    at.text_input(key="s_query").input(QUERY).run()
    assert_clean(at)
    page = unescape(texts(at))
    assert "matched words: " in page and "semantic similarity 0." in page
    before = shown(at)
    target = before[5]
    at.button(key="s-hit-5-helped").click().run()
    assert_clean(at)
    assert f"{target} helped for this search" in unescape(texts(at))
    [row] = check_kb.store.feedback_rows()
    assert (row["entry_id"], row["query"], row["user"], row["judgment"]) == (
        target,
        QUERY,
        "Olu.Bello",
        "helped",
    )
    after = shown(at)
    assert after.index(target) < 5, f"the judged entry moves up for the same query: {before} -> {after}"
    assert "earlier judgments +" in unescape(texts(at))
    at.button(key=f"s-hit-{after.index(target)}-not-relevant").click().run()
    assert [r["judgment"] for r in check_kb.store.feedback_rows()] == ["helped", "not_relevant"]
