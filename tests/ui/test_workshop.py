"""Workshop: probe by probe, drafts saved on the server at every change, resumable, validated, committed."""

from __future__ import annotations

from ingest.workshops import WorkshopBook
from tests.ui.conftest import assert_clean, texts, unescape

ASPECT = "On day 2 the HEK293T suspension looked grainy under the scope before the count dropped"
CUES = "Grainy look, small clumps on the flask wall, medium a shade more orange than usual"


def start(at, template="acta_knowledge_audit", process="LVV", step="transfection", site="LEI") -> str:
    """Fill and submit the start form; return the new workshop id."""
    at.selectbox(key="ws_new_template").select(template)
    at.selectbox(key="ws_new_process").select(process)
    at.selectbox(key="ws_new_step").select(step)
    at.selectbox(key="ws_new_site").select(site)
    at.text_area(key="ws_new_participants").input("J. de Vries: lead operator\nA. Chen: MSAT")
    at.button(key="FormSubmitter:ws-start-Start workshop").click().run()
    assert_clean(at)
    return at.session_state["ws_current"]


def draft(check_kb, ws_id: str):
    return WorkshopBook(check_kb).get(ws_id)


def test_walk_save_resume_validate_commit(open_app, check_kb):
    at = open_app("workshop", user=("Mia Facilitator", "workshop facilitator"))
    ws_id = start(at)
    assert at.query_params["ws"] in (ws_id, [ws_id]), "the URL names the workshop, so a reload resumes it"
    ws = draft(check_kb, ws_id)
    assert (ws.process, ws.step, ws.site, ws.facilitator) == ("LVV", "transfection", "LEI", "Mia Facilitator")
    assert [p.role for p in ws.participants] == ["lead operator", "MSAT"]

    # Step 1: the session fields, pre-filled from the workshop; a bad number is flagged at once.
    assert at.selectbox(key=f"ws:{ws_id}:process").value == "LVV"
    at.text_input(key=f"ws:{ws_id}:years_experience").input("many").run()
    assert any("Hands-on experience" in e.value and "number" in e.value for e in at.error)
    assert draft(check_kb, ws_id).answers["years_experience"] == "many", "saved although not valid"
    at.text_input(key=f"ws:{ws_id}:years_experience").input("12").run()
    at.button(key=f"ws-next-{ws_id}-0").click().run()
    assert_clean(at)

    # Step 2: the first probe, with its question and follow-ups; each change is a draft revision.
    page = unescape(texts(at))
    assert "Ask:" in page and "Follow-up:" in page
    revision = draft(check_kb, ws_id).draft_revision
    at.text_area(key=f"ws:{ws_id}:probes.past_and_future.aspect").input(ASPECT).run()
    saved = draft(check_kb, ws_id)
    assert saved.draft_revision == revision + 1
    assert saved.answers["probes"]["past_and_future"]["aspect"] == ASPECT
    at.button(key=f"ws-next-{ws_id}-1").click().run()
    at.button(key=f"ws-back-{ws_id}-2").click().run()
    assert any("Cues and strategies" in e.value and "required" in e.value for e in at.error)

    # The tab is closed; a new session resumes the workshop from the list of open ones.
    again = open_app("workshop", user=("Mia Facilitator", "workshop facilitator"))
    assert ws_id in unescape(texts(again))
    again.button(key=f"ws-resume-{ws_id}").click().run()
    assert_clean(again)
    again.selectbox(key=f"ws-jump-{ws_id}-0").select(1).run()
    assert again.text_area(key=f"ws:{ws_id}:probes.past_and_future.aspect").value == ASPECT
    again.text_area(key=f"ws:{ws_id}:probes.past_and_future.cues").input(CUES).run()

    # Review lists the answers and commits them as searchable know-how entries.
    last = len(again.selectbox(key=f"ws-jump-{ws_id}-1").options) - 1
    again.selectbox(key=f"ws-jump-{ws_id}-1").select(last).run()
    assert_clean(again)
    assert any("All answers fit" in s.value for s in again.success)
    again.button(key=f"ws-commit-{ws_id}").click().run()
    assert_clean(again)
    done = draft(check_kb, ws_id)
    assert done.status == "committed" and len(done.entry_ids) == 1
    entry = check_kb.get(done.entry_ids[0])
    assert entry.type == "know_how" and entry.fields["acta_category"] == "past_and_future"
    assert entry.author == "Mia.Facilitator" and entry.fields["workshop_id"] == ws_id
    assert entry.site == "LEI" and entry.step == "transfection"
    hits = check_kb.search("HEK cells look grainy before the cell count falls", k=5)
    assert entry.id in [h.entry.id for h in hits]
    assert any(ws_id in unescape(s.value) and entry.id in unescape(s.value) for s in again.success)


def test_template_without_probes_and_commit_errors_keep_the_draft(open_app, check_kb):
    at = open_app("workshop", user=("Mia Facilitator", "workshop facilitator"))
    ws_id = start(
        at, template="troubleshooting_fix_note", process="CAR-T", step="cryopreservation", site="CAM"
    )
    at.text_area(key=f"ws:{ws_id}:symptom").input("Post-thaw viability 62 % on two bags in a row").run()
    at.button(key=f"ws-next-{ws_id}-0").click().run()  # straight to review: action_taken is missing
    assert_clean(at)
    assert any("problem(s) before this workshop can be committed" in e.value for e in at.error)
    at.button(key=f"ws-commit-{ws_id}").click().run()
    assert any("Not committed; the draft is kept" in e.value for e in at.error)
    assert draft(check_kb, ws_id).status == "open"
    assert draft(check_kb, ws_id).answers["symptom"].startswith("Post-thaw viability")

    at.button(key=f"ws-back-{ws_id}-review").click().run()
    at.text_area(key=f"ws:{ws_id}:action_taken").input(
        "Re-trained on the thaw bath timing; added a timer"
    ).run()
    at.selectbox(key=f"ws:{ws_id}:held").select("yes").run()
    at.button(key=f"ws-next-{ws_id}-0").click().run()
    at.button(key=f"ws-commit-{ws_id}").click().run()
    assert_clean(at)
    done = draft(check_kb, ws_id)
    assert done.status == "committed"
    fix = check_kb.get(done.entry_ids[0])
    assert fix.type == "fix" and fix.step == "cryopreservation" and fix.fields["held"] is True


def test_starting_needs_a_role_that_may_run_workshops(open_app):
    at = open_app("workshop", user=("Otto", "operator"))
    at.selectbox(key="ws_new_template").select("acta_knowledge_audit")
    at.button(key="FormSubmitter:ws-start-Start workshop").click().run()
    assert_clean(at)
    assert any("your role (operator) may not run workshops" in w.value for w in at.warning)
    assert "ws_current" not in at.session_state or not at.session_state["ws_current"]
