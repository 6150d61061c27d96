"""Quick log: validation per field, live similar entries with their fixes, one-click save, searchable at once."""

from __future__ import annotations

from kb.governance import users
from kb.governance.roles import Actor
from tests.ui.conftest import ADMIN, assert_clean, texts, unescape

CUE = "Depth filter pressure shot up within minutes and the harvest had slimy DNA strings"


def fill(at, *, process="LVV", site="LEI", step="clarification", batch="LV-25-061", noticed=CUE, action=""):
    """Fill the quick log fields (each change reruns the page, as in the browser)."""
    if process:
        at.selectbox(key="ql_process").select(process).run()
    if site:
        at.selectbox(key="ql_site").select(site).run()
    if step:
        at.selectbox(key="ql_step").select(step).run()
    at.text_input(key="ql_batch").input(batch).run()
    at.text_input(key="ql_noticed").input(noticed).run()
    if action:
        at.text_area(key="ql_action").input(action).run()
    assert_clean(at)
    return at


def test_similar_entries_and_their_fixes_show_before_saving(open_app, check_kb):
    before = check_kb.store.count()
    at = fill(open_app("quick_log"))
    page = unescape(texts(at))
    assert "Similar known entries" in page
    assert "Why it matched" in page
    fixed = [i.value for i in at.info if "fixed by" in i.value]
    assert fixed, "a similar deviation shows the fix linked to it"
    assert fixed[0].startswith("Looks like KB-")
    assert check_kb.store.count() == before, "nothing is saved while typing"


def test_empty_save_names_each_missing_field_and_keeps_what_was_typed(open_app, check_kb):
    before = check_kb.store.count()
    at = open_app("quick_log")
    at.selectbox(key="ql_process").select("LVV").run()
    at.text_area(key="ql_action").input("Stopped the pump").run()
    at.button(key="ql_save").click().run()
    assert_clean(at)
    errors = "\n".join(e.value for e in at.error)
    assert "not saved" in errors
    for label in ("Step", "Site", "What I noticed"):
        assert f"{label} (" in errors, f"no message for {label}: {errors}"
    assert "Process (" not in errors
    assert at.text_area(key="ql_action").value == "Stopped the pump"
    assert at.selectbox(key="ql_process").value == "LVV"
    assert check_kb.store.count() == before


def test_bad_batch_id_is_reported_on_its_field(open_app):
    at = fill(open_app("quick_log"), batch="x!")
    at.button(key="ql_save").click().run()
    assert any("Batch (batch)" in e.value and "batch id" in e.value for e in at.error)
    assert at.text_input(key="ql_noticed").value == CUE


def test_save_requires_an_active_account(open_app, check_kb):
    before = check_kb.store.count()
    at = fill(open_app("quick_log", user=("Dora", "operator")))
    users.disable(check_kb, "Dora", by=Actor(ADMIN, "admin"), reason="left the site")  # while logged in
    at.button(key="ql_save").click().run()
    assert_clean(at)
    assert any("account 'Dora' is disabled" in unescape(e.value) for e in at.error), [
        e.value for e in at.error
    ]
    assert at.text_input(key="ql_noticed").value == CUE
    assert check_kb.store.count() == before


def test_saved_cue_is_attributed_and_searchable_in_another_session(open_app, check_kb):
    noticed = "Pump made a ticking noise and the tubing jumped out of the roller head twice"
    at = fill(
        open_app("quick_log", user=("Ana de Wit", "operator")),
        process="CAR-T",
        step="tcell_selection",
        site="LEI",
        batch="CT-25-101",
        noticed=noticed,
        action="Re-seated the tubing, logged it",
    )
    at.button(key="ql_save").click().run()
    assert_clean(at)
    saved = at.session_state["ql_last_saved"]
    assert any(saved["id"] in unescape(s.value) for s in at.success)
    assert at.text_input(key="ql_noticed").value == "", "cleared for the next cue"
    assert at.selectbox(key="ql_process").value == "CAR-T", "context is kept for the next cue"

    entry = check_kb.get(saved["id"])
    assert entry.type == "cue" and entry.site == "LEI" and entry.step == "tcell_selection"
    assert entry.batch == "CT-25-101" and entry.author == "Ana.de.Wit"
    assert entry.fields["template_id"] == "quick_cue_log"
    assert check_kb.history(entry.id)[0].author == "Ana.de.Wit"

    other = open_app("search", user=("Ben", "receiving-site staff"))  # another tab, at once
    other.text_input(key="s_query").input("peristaltic pump clicking, tube popping out of the roller").run()
    assert_clean(other)
    assert saved["id"] in unescape(texts(other))


def test_state_card_is_one_click_away(open_app):
    at = fill(
        open_app("quick_log"), process="CAR-T", step="expansion", batch="CT-25-102", noticed="medium orange"
    )
    at.toggle(key="ql_show_card").set_value(True).run()
    assert_clean(at)
    page = unescape(texts(at))
    assert "Readiness" in page or "readiness" in page
    assert "CAM" in page and "LEI" in page
