"""Search page: entries judged helpful for the same search lift each other for a search in other words."""

from __future__ import annotations

from tests.ui.conftest import assert_clean, texts, unescape
from tests.ui.test_search_feedback import shown

JUDGED = "filter clogs with snotty strings at harvest"


def test_an_entry_that_helped_together_with_the_best_match_says_so(open_app, check_kb):
    # Judged by another app server before this one's first search (its own module: a fresh server).
    for ref in ("CAM-FIX-0010", "LEI-DEV-0062"):
        check_kb.record_feedback(JUDGED, ref, helped=True, user="ana")
    at = open_app("search", user=("Olu Bello", "operator"))
    # Other words: the deviation comes first, and the fix that helped together with it follows.
    at.text_input(key="s_query").input("harvest hold ran over while we swapped the depth filters").run()
    assert_clean(at)
    assert shown(at)[:2] == ["KB-000392", "KB-000071"]
    assert f"helped together with the best match KB-000392 +0.30 (for '{JUDGED}')" in unescape(texts(at))


def test_the_entry_page_lists_what_helped_together_with_it(open_app, check_kb):
    for ref in ("CAM-FIX-0010", "LEI-DEV-0062"):  # as in the test above (judging again changes nothing)
        check_kb.record_feedback(JUDGED, ref, helped=True, user="ana")
    at = open_app("entry", user=("Olu Bello", "operator"), id="KB-000392")
    page = unescape(texts(at))
    assert "Helped together with" in page and "KB-000071" in page and f"for '{JUDGED}'" in page
