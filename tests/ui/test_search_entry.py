"""Search (query, filters, why, links, more like this) and Entry (record, links, history, edit, retire)."""

from __future__ import annotations

from datetime import date

from tests.ui.conftest import assert_clean, texts, unescape

QUERY = "clarification filter keeps choking, snotty strings in the harvest bag"


def hit_ids(at) -> list[str]:
    """Return the entry ids of the hits shown, in order."""
    return [
        b.label.split()[1]
        for b in at.button
        if b.key and b.key.endswith("-open") and b.key.startswith("s-hit")
    ]


def test_search_finds_the_fix_in_other_words_with_why_and_links(open_app, check_kb):
    at = open_app("search")
    at.text_input(key="s_query").input(QUERY).run()
    assert_clean(at)
    assert len(hit_ids(at)) == 10
    assert check_kb.get(hit_ids(at)[0]).step == "clarification"
    at.multiselect(key="s_types").select("fix").run()
    fix = check_kb.store.find_by_ext_id("CAM-FIX-0010")
    assert fix.id in hit_ids(at)[:3], (
        "the sending site's Benzonase fix is found from the receiving site's words"
    )
    page = unescape(texts(at))
    assert "Why it matched: keyword rank" in page and "semantic rank" in page
    assert "is the fix for KB-" in page and "fixes **KB-" in page, (
        "links between deviations and fixes are shown"
    )


def test_filters_narrow_the_results(open_app, check_kb):
    at = open_app("search")
    at.text_input(key="s_query").input(QUERY).run()
    at.multiselect(key="s_types").select("fix").run()
    at.selectbox(key="s_site").select("LEI").run()
    at.date_input(key="s_since").set_value(date(2025, 1, 1)).run()
    at.date_input(key="s_until").set_value(date(2025, 8, 31)).run()
    assert_clean(at)
    ids = hit_ids(at)
    assert ids
    for entry_id in ids:
        e = check_kb.get(entry_id)
        assert e.type == "fix" and e.site == "LEI" and "2025-01-01" <= e.occurred_at[:10] <= "2025-08-31"
    at.selectbox(key="s_process").select("CAR-T").run()
    at.selectbox(key="s_step").select("cryopreservation").run()
    assert all(check_kb.get(i).step == "cryopreservation" for i in hit_ids(at))


def test_more_like_this_then_open(open_app):
    at = open_app("search")
    at.text_input(key="s_query").input(QUERY).run()
    first = hit_ids(at)[0]
    at.button(key="s-hit-0-more").click().run()
    assert_clean(at)
    assert f"More like {first}" in unescape(texts(at))
    assert first not in hit_ids(at), "the source itself is not among its neighbours"
    target = hit_ids(at)[0]
    at.button(key="s-hit-0-open").click().run()
    assert_clean(at)
    assert at.query_params["id"] == [target] or at.query_params["id"] == target
    assert at.title[0].value == target


def test_entry_page_by_query_param_shows_record_links_similar_history(open_app, check_kb):
    deviation = check_kb.store.find_by_ext_id("LEI-DEV-0031")
    at = open_app(id=deviation.id)
    at.switch_page("pages/entry.py").run()
    assert_clean(at)
    page = unescape(texts(at))
    assert at.title[0].value == deviation.id
    assert deviation.title in page
    assert "fixed by" in page, "the deviation's fix is linked"
    assert "Similar entries" in page and "similarity" in page
    assert "History" in page


def test_edit_needs_a_reason_and_is_kept_in_history(open_app, check_kb):
    entry = check_kb.store.find_by_ext_id("LEI-CUE-0005")
    at = open_app("entry", user=("Cas QA", "QA"))
    at.text_input(key="e_open_ref").input("LEI-CUE-0005").run()
    assert at.title[0].value == entry.id
    prefix = f"edit_{entry.id}_"
    at.text_input(key=prefix + "title").input("Corrected title for the cue")  # a form: sent on submit
    at.button(key=f"FormSubmitter:edit-{entry.id}-Save changes").click().run()
    assert any("reason is required" in e.value for e in at.error)
    assert check_kb.get(entry.id).revision == entry.revision
    assert at.text_input(key=prefix + "title").value == "Corrected title for the cue", "nothing typed is lost"

    at.text_input(key=prefix + "reason").input("title did not say what was seen")
    at.button(key=f"FormSubmitter:edit-{entry.id}-Save changes").click().run()
    assert_clean(at)
    after = check_kb.get(entry.id)
    assert after.title == "Corrected title for the cue" and after.revision == entry.revision + 1
    last = check_kb.history(entry.id)[-1]
    assert (last.action, last.author, last.reason) == (
        "edit",
        "Cas.QA",
        "title did not say what was seen",
    )
    assert last.changes["title"]["old"] == entry.title
    assert set(last.changes) == {"title"}, "the preset select boxes keep the entry's own values"
    assert any("Saved revision" in s.value for s in at.success)


def test_retire_needs_a_reason_and_takes_the_entry_out_of_search(open_app, check_kb):
    entry = check_kb.store.find_by_ext_id("CAM-CUE-0003")
    at = open_app("entry", user=("Cas QA", "QA"), id=entry.id)
    at.switch_page("pages/entry.py").run()
    at.button(key=f"status_btn_{entry.id}").click().run()
    assert any("reason is required" in e.value for e in at.error)
    assert check_kb.get(entry.id).status == "active"
    at.text_input(key=f"status_reason_{entry.id}").input("duplicate of a better cue")
    at.button(key=f"status_btn_{entry.id}").click().run()
    assert_clean(at)
    assert check_kb.get(entry.id).status == "retired"
    assert "retired" in unescape(texts(at))
    hits = check_kb.search(entry.title, k=20)
    assert entry.id not in [h.entry.id for h in hits]
    # ...and back, again with a reason.
    at.text_input(key=f"status_reason_{entry.id}").input("retired by mistake")
    at.button(key=f"status_btn_{entry.id}").click().run()
    assert check_kb.get(entry.id).status == "active"
    assert [r.action for r in check_kb.history(entry.id)][-2:] == ["retire", "restore"]


def test_link_two_entries(open_app, check_kb):
    deviation = check_kb.store.find_by_ext_id("CAM-DEV-0002")
    fix = check_kb.store.find_by_ext_id("CAM-FIX-0010")
    at = open_app("entry", id=deviation.id)
    at.switch_page("pages/entry.py").run()
    at.text_input(key=f"link_target_{deviation.id}").input("CAM-FIX-0010")
    at.button(key=f"link_btn_{deviation.id}").click().run()
    assert_clean(at)
    assert any(lk.target == fix.id and lk.relation == "fixed_by" for lk in check_kb.links(deviation.id))


def test_unknown_entry_id_is_a_message(open_app):
    at = open_app("entry", id="KB-999999")
    at.switch_page("pages/entry.py").run()
    assert_clean(at)
    assert any("KB-999999" in unescape(e.value) for e in at.error)
