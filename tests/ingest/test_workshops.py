"""Workshop sessions: drafts survive invalid answers and restarts; commit makes searchable entries."""

from __future__ import annotations

import pytest

from ingest.templates import TemplateValidationError, load_templates
from ingest.vocabulary import load_vocabulary
from ingest.workshops import Participant, WorkshopBook, merge_answers, parse_participant
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError

ANSWERS = {
    "probes": {
        "noticing": {
            "aspect": "A faint haze in the PEI/DNA complex bag after 20 minutes means it sat too long.",
            "cues": "Hold the bag to the light: opalescent instead of clear. Titer drops about 30 % next batch.",
            "why_difficult": "The SOP allows 10-20 min, so a novice thinks 20 is fine.",
        },
        "equipment_difficulties": {
            "aspect": "The Vi-CELL reads viability 5 points high on clumpy HEK293 suspension.",
            "cues": "Check a trypan blue count by hand when the sample looks grainy.",
        },
    }
}


@pytest.fixture(scope="module")
def catalogue():
    vocabulary = load_vocabulary()
    templates, _ = load_templates(vocabulary=vocabulary)
    return templates, vocabulary


def test_acta_workshop_for_lvv_transfection_end_to_end(kb, catalogue, tmp_path, embedder):
    templates, vocabulary = catalogue
    acta = templates["acta_knowledge_audit"]
    book = WorkshopBook(kb)
    ws = book.start(
        acta,
        facilitator="M. Rossi",
        participants=[Participant("J. de Vries", "lead operator")],
        site="LEI",
        process="LVV",
        step="transfection",
        held_on="2025-05-14",
    )
    assert ws.id == "WS-0001" and ws.status == "open"

    # Half an answer: saved anyway, with the problem named.
    ws, problems = book.save_draft(
        ws.id, {"probes": {"job_smarts": {"aspect": "feed trick"}}}, acta, vocabulary
    )
    assert ws.draft_revision == 1 and [p.field for p in problems] == ["probes.job_smarts.cues"]
    with pytest.raises(TemplateValidationError):
        book.commit(ws.id, acta, vocabulary, author="M. Rossi")

    # Resume from another process: the draft is there.
    with KnowledgeBase(kb.home, embedder=embedder) as other:
        again = WorkshopBook(other).get("ws-0001")
        assert again.answers["probes"]["job_smarts"] == {"aspect": "feed trick"}

    book.save_draft(ws.id, {"probes": {"job_smarts": None, **ANSWERS["probes"]}}, acta, vocabulary)
    ws, ids = book.commit(ws.id, acta, vocabulary, author="M. Rossi")
    assert ws.status == "committed" and len(ids) == 2
    entry = kb.get(ids[0])
    assert entry.type == "know_how" and (entry.process, entry.step, entry.site) == (
        "LVV",
        "transfection",
        "LEI",
    )
    assert entry.fields["workshop_id"] == "WS-0001" and entry.fields["template_id"] == "acta_knowledge_audit"
    assert entry.fields["acta_category"] == "noticing"
    assert entry.fields["participants"] == [{"name": "J. de Vries", "role": "lead operator"}]
    assert kb.search("complexes stood too long and went cloudy", k=1)[0].entry.id == ids[0]
    with pytest.raises(KBError, match="already committed"):
        book.save_draft(ws.id, ANSWERS, acta, vocabulary)
    assert [w.id for w in book.list("committed")] == ["WS-0001"]


def test_merge_answers_keeps_other_probes():
    merged = merge_answers(
        {"site": "LEI", "probes": {"a": 1, "b": 2}}, {"probes": {"b": None, "c": 3}, "step": "x"}
    )
    assert merged == {"site": "LEI", "step": "x", "probes": {"a": 1, "c": 3}}


def test_parse_participant():
    assert parse_participant("Ana:QA") == Participant("Ana", "QA")
    assert parse_participant("Ben") == Participant("Ben", "expert")
    with pytest.raises(KBError, match="--participant"):
        parse_participant(":QA")


def test_bad_date_names_the_argument(kb, catalogue):
    templates, _ = catalogue
    with pytest.raises(KBError, match="--date"):
        WorkshopBook(kb).start(templates["quick_cue_log"], facilitator="x", participants=[], held_on="May 5")


def test_walk_steps_and_draft_lookup(catalogue):
    from ingest.workshops import Workshop, draft_value, walk_steps

    templates, _ = catalogue
    acta = templates["acta_knowledge_audit"]
    steps = walk_steps(acta)
    assert [s.kind for s in steps] == ["context"] + ["probe"] * len(acta.probes) + ["review"]
    assert [s.probe.id for s in steps if s.probe] == [p.id for p in acta.probes]
    ws = Workshop(
        "WS-0001",
        acta.id,
        "1",
        "M",
        [],
        "LEI",
        "LVV",
        "transfection",
        "2025-05-14",
        answers={"probes": {"noticing": {"cues": "haze"}, "x": [{"unit": "%"}, {"unit": "g/L"}]}},
    )
    assert draft_value(ws, "probes.noticing.cues") == "haze"
    assert draft_value(ws, "probes.x[1].unit") == "g/L"
    assert draft_value(ws, "probes.x[5].unit") is None
    assert draft_value(ws, "site") == "LEI", "a blank answer falls back to the workshop's context"
