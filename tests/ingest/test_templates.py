"""Capture templates: loading and reporting broken files, checking answers, filling Entry drafts."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ingest.templates import (
    SCHEMA_PATH,
    SHIPPED_TEMPLATES_DIR,
    FieldError,
    Template,
    TemplateValidationError,
    default_template_dirs,
    fill_template,
    load_templates,
    validate_answers,
)
from ingest.vocabulary import SHIPPED_VOCABULARY, Vocabulary, load_vocabulary
from kb.models import ENTRY_TYPES, Entry

SHIPPED_IDS = {
    "acta_knowledge_audit",
    "cdm_incident_interview",
    "quick_cue_log",
    "gmp_deviation_record",
    "troubleshooting_fix_note",
    "lessons_learned_aar",
    "step_state_card",
}
CONTEXT = {"author": "m.jansen", "site": "LEI"}


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary([SHIPPED_VOCABULARY])


@pytest.fixture(scope="module")
def templates(vocab: Vocabulary) -> dict[str, Template]:
    loaded, errors = load_templates([SHIPPED_TEMPLATES_DIR], vocabulary=vocab)
    assert errors == []
    return loaded


def kinds(errors: list[FieldError]) -> dict[str, str]:
    return {e.field: e.kind for e in errors}


# Realistic answer sets, one per shipped template.
ANSWERS: dict[str, dict[str, Any]] = {
    "acta_knowledge_audit": {
        "process": "CAR-T",
        "step": "expansion",
        "expert_role": "Senior MSAT scientist",
        "years_experience": "11",
        "session_date": "2024-05-14",
        "probes": {
            "noticing": {
                "aspect": "The medium turns orange a day early when the patient's T cells are very activated.",
                "cues": "Phenol red against the colour card under the BSC light; lactate above 20 mM on day 4.",
                "why_difficult": "The change is gradual and the BSC lighting at Leiden is cooler.",
            },
            "equipment_difficulties": {
                "aspect": "The cell counter over-reads viability when the culture has clumps.",
                "cues": "Clumps visible at the flask bottom; triturate gently before sampling, recount.",
                "equipment": "cell_counter",
            },
            "anomalies": {"aspect": "  ", "cues": ""},  # asked, nothing to say: skipped
        },
    },
    "cdm_incident_interview": {
        "incident": "Haze after PEI complex addition at 50 L, run 7",
        "process": "LVV",
        "step": "transfection",
        "scale": "50L",
        "batch": "LEI-LVV-24-007",
        "occurred_at": "2024-04-02 09:40",
        "account": "The transfection mix looked hazy when added; titer came in at a third of normal.",
        "timeline": "09:05 DNA/PEI mixed\n09:40 complex added (35 min hold, SOP says 15-20)\n48 h harvest: low TU/mL",
        "decision_points": "Whether to add an over-held complex or remake it.",
        "cues": "Faint opalescence in the mixing bag against the black card.",
        "basis": "If the complex has been held longer than 25 min or is hazy, remake it.",
        "hypotheticals": "At 2 L the mix is made in the BSC next to the bioreactor, so the hold never gets long.",
        "lesson": "Time the PEI complex hold from mixing to addition and remake it past 25 min at 50 L.",
    },
    "quick_cue_log": {
        "noticed": "Pump on the Prodigy sounded higher-pitched just before the tubing kinked.",
        "action": "Paused the program and re-seated the tubing in the pump head.",
    },
    "gmp_deviation_record": {
        "deviation_number": "DEV-2024-0113",
        "occurred_at": "2024-03-05T14:10",
        "detected_at": "2024-03-05T15:02",
        "reporter": "R. Bakker",
        "site": "LEI",
        "process": "CAR-T",
        "step": "cryopreservation",
        "product": "Anti-CD19 CAR-T",
        "batch": "LEI-CART-24-017",
        "equipment": "crf",
        "planned": "no",
        "description": "CRF profile deviated at -40 C: chamber warmed by 4 C for 3 min after the door seal alarm.",
        "immediate_action": "Bags transferred to LN2 vapour storage; QA informed.",
        "impact_assessment": "Post-thaw viability of retain 81 %, within specification; no other batches in the run.",
        "classification": "Major",
        "root_cause": "machine",
        "root_cause_description": "Worn door gasket on the CRF.",
        "capa_reference": "CAPA-2024-031",
        "qa_disposition": "conditional_release",
        "deviation_status": "closed",
        "failure_pattern": "context",
    },
    "troubleshooting_fix_note": {
        "symptom": "TMP climbing fast in the first diafiltration volume, flux dropping.",
        "process": "LVV",
        "step": "tff",
        "scale": "200L",
        "equipment": "tff_system",
        "site": "LEI",
        "suspected_cause": "Membrane fouling from residual host cell DNA after a short Benzonase hold.",
        "action_taken": "Extended the nuclease hold to 60 min and lowered the feed flow by 20 %.",
        "verification": "Next two runs held TMP below 1 bar through all diavolumes.",
        "held": "yes",
        "failure_pattern": "preparation",
    },
    "lessons_learned_aar": {
        "driving_event": "Run 3 at LEI missed the harvest dose",
        "process": "CAR-T",
        "step": "expansion",
        "site": "LEI",
        "batch": "LEI-CART-24-009",
        "event_date": "2024-02-20",
        "supposed_to_happen": "Reach 1.5e9 viable CAR+ cells by day 9.",
        "what_happened": "Expansion plateaued on day 7 at 6e8 cells.",
        "why_difference": "Feeds were on the SOP schedule; the CAM team fed early when the medium turned orange.",
        "next_time": "Feed when lactate exceeds 20 mM or the medium is orange, not only on schedule days.",
    },
    "step_state_card": {
        "process": "CAR-T",
        "step": "transduction",
        "probes": {
            "readiness": [
                {
                    "condition": "Viable cell density",
                    "range_min": 0.5,
                    "range_max": "1.5",
                    "unit": "10^6 cells/mL",
                    "cues": "Small clusters visible, medium still red.",
                },
                {"condition": "Time since activation", "range_min": 24, "range_max": 48, "unit": "h"},
            ],
            "success_cue": [{"condition": "CAR+ cells on day 7", "range_min": 20, "unit": "%"}],
            "reversion_risk": [
                {
                    "condition": "Vector thawed too early",
                    "detail": "Lentiviral vector loses titer quickly at room temperature; never refreeze.",
                },
            ],
        },
    },
}
QUICK_CUE_CONTEXT = {**CONTEXT, "process": "CAR-T", "step": "expansion", "batch": "LEI-CART-24-017"}


def context_for(template_id: str) -> dict[str, Any]:
    return QUICK_CUE_CONTEXT if template_id == "quick_cue_log" else CONTEXT


# --- shipped templates ----------------------------------------------------------------------------


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_all_shipped_templates_load(templates: dict[str, Template]) -> None:
    assert set(templates) == SHIPPED_IDS
    for t in templates.values():
        assert t.entry_type in ENTRY_TYPES and t.path and t.path.parent == SHIPPED_TEMPLATES_DIR
        assert t.description and all(f.label for f in t.fields)


@pytest.mark.parametrize("template_id", sorted(SHIPPED_IDS))
def test_every_shipped_template_fills_with_realistic_answers(
    templates: dict[str, Template], vocab: Vocabulary, template_id: str
) -> None:
    template = templates[template_id]
    answers = ANSWERS[template_id]
    assert validate_answers(template, answers, vocab, context_for(template_id)) == []
    entries = fill_template(template, answers, vocab, context_for(template_id))
    assert entries
    for entry in entries:
        assert isinstance(entry, Entry) and entry.id == "" and entry.type == template.entry_type
        assert 10 < len(entry.title) <= 120 and "\n" not in entry.title
        assert (
            entry.fields["template_id"] == template_id
            and entry.fields["template_version"] == template.version
        )
        assert entry.author == "m.jansen" and entry.site == "LEI"
        lines = entry.text.splitlines()
        # Every answered field is in the text as a "Label: answer" line and in entry.fields.
        flat = {k: v for k, v in answers.items() if k != "probes"}
        for name in flat:
            if isinstance(flat[name], str) and not flat[name].strip():
                continue
            assert name in entry.fields
            label = template.field(name).label
            assert any(line.startswith(f"{label}: ") for line in lines), (label, entry.text)


def test_acta_audit_covers_the_eight_categories_with_both_follow_ups(templates: dict[str, Template]) -> None:
    acta = templates["acta_knowledge_audit"]
    assert acta.entry_per == "probe" and acta.category and acta.category.field == "acta_category"
    assert [p.category for p in acta.probes] == [
        "past_and_future",
        "big_picture",
        "noticing",
        "job_smarts",
        "opportunities_improvising",
        "self_monitoring",
        "anomalies",
        "equipment_difficulties",
    ]
    for probe in acta.probes:
        assert probe.follow_ups == ("What cues did you use?", "Why would a novice find it hard?")
        assert set(probe.fills) == {"aspect", "cues", "why_difficult"}


def test_acta_makes_one_know_how_entry_per_answered_category(
    templates: dict[str, Template], vocab: Vocabulary
) -> None:
    entries = fill_template(
        templates["acta_knowledge_audit"], ANSWERS["acta_knowledge_audit"], vocab, CONTEXT
    )
    assert [e.fields["acta_category"] for e in entries] == ["noticing", "equipment_difficulties"]
    noticing, equipment = entries
    assert noticing.type == "know_how"
    assert (
        noticing.title
        == "Noticing - The medium turns orange a day early when the patient's T cells are very activated."
    )
    assert noticing.tags == ["acta", "acta:noticing"]
    assert noticing.text.splitlines()[:4] == [
        "ACTA category: Noticing",
        "Aspect of expertise: The medium turns orange a day early when the patient's T cells are very activated.",
        "Cues and strategies: Phenol red against the colour card under the BSC light; lactate above 20 mM on day 4.",
        "Why a novice would find it hard: The change is gradual and the BSC lighting at Leiden is cooler.",
    ]
    assert "Hands-on experience: 11 years" in noticing.text and "Site: Leiden CDMO (LEI)" in noticing.text
    assert (noticing.process, noticing.step, noticing.equipment) == ("CAR-T", "expansion", None)
    assert noticing.fields["years_experience"] == 11 and noticing.fields["session_date"] == "2024-05-14"
    assert noticing.fields["probe_id"] == "noticing" and "why_difficult" not in equipment.fields
    # An answer may override a session field for its own entry only.
    assert equipment.equipment == "cell_counter" and equipment.fields["equipment"] == "cell_counter"
    assert "Equipment: Cell counter" in equipment.text


def test_state_card_makes_one_entry_per_answer_with_its_state_part(
    templates: dict[str, Template], vocab: Vocabulary
) -> None:
    entries = fill_template(templates["step_state_card"], ANSWERS["step_state_card"], vocab, CONTEXT)
    assert [e.fields["state_part"] for e in entries] == [
        "readiness",
        "readiness",
        "success_cue",
        "reversion_risk",
    ]
    assert [e.tags for e in entries][0] == ["state_card", "state:readiness"]
    assert entries[3].tags == ["state_card", "state:reversion_risk"]
    vcd = entries[0]
    assert vcd.type == "know_how" and vcd.step == "transduction"
    assert vcd.title == "Lentiviral transduction - Readiness condition - Viable cell density"
    assert (
        vcd.fields["condition"],
        vcd.fields["range_min"],
        vcd.fields["range_max"],
        vcd.fields["unit"],
    ) == (
        "Viable cell density",
        0.5,
        1.5,
        "10^6 cells/mL",
    )
    assert vcd.text.startswith(
        "State part: Readiness condition\nCondition or parameter: Viable cell density\n"
    )
    assert "range_max" not in entries[3].fields


def test_deviation_maps_to_entry_attributes(templates: dict[str, Template], vocab: Vocabulary) -> None:
    (dev,) = fill_template(templates["gmp_deviation_record"], ANSWERS["gmp_deviation_record"], vocab, CONTEXT)
    assert dev.type == "deviation" and dev.ext_id == "DEV-2024-0113"
    assert (dev.severity, dev.root_cause, dev.equipment) == ("major", "machine", "crf")
    assert (dev.process, dev.step, dev.batch) == ("CAR-T", "cryopreservation", "LEI-CART-24-017")
    assert dev.occurred_at == "2024-03-05T14:10:00"
    assert dev.title.startswith("DEV-2024-0113 - Cryopreservation - CRF profile deviated at -40 C")
    assert dev.fields["planned"] is False and dev.fields["deviation_status"] == "closed"
    assert dev.fields["detected_at"] == "2024-03-05T15:02:00" and dev.status == "active"
    for line in (
        "Classification: Major",
        "Root cause category (6M): Machine (equipment)",
        "Equipment: Controlled-rate freezer",
        "Planned deviation: no",
        "QA disposition: conditional_release",
    ):
        assert line in dev.text.splitlines()


def test_fix_note_lesson_and_cue(templates: dict[str, Template], vocab: Vocabulary) -> None:
    (fix,) = fill_template(
        templates["troubleshooting_fix_note"], ANSWERS["troubleshooting_fix_note"], vocab, CONTEXT
    )
    assert fix.type == "fix" and fix.fields["held"] is True and "Fix held: yes" in fix.text
    assert (
        fix.title
        == "Tangential flow filtration - TMP climbing fast in the first diafiltration volume, flux dropping."
    )
    assert (fix.scale, fix.step) == ("200L", "tff") and "Scale: 200 L (200L)" in fix.text
    (aar,) = fill_template(templates["lessons_learned_aar"], ANSWERS["lessons_learned_aar"], vocab, CONTEXT)
    assert (
        aar.type == "lesson"
        and aar.occurred_at == "2024-02-20"
        and aar.title == "Run 3 at LEI missed the harvest dose"
    )
    (cdm,) = fill_template(
        templates["cdm_incident_interview"], ANSWERS["cdm_incident_interview"], vocab, CONTEXT
    )
    assert cdm.type == "lesson" and cdm.occurred_at == "2024-04-02T09:40:00" and cdm.scale == "50L"
    assert "Timeline: 09:05 DNA/PEI mixed\n09:40 complex added" in cdm.text


def test_quick_cue_log_takes_the_session_context(templates: dict[str, Template], vocab: Vocabulary) -> None:
    (cue,) = fill_template(templates["quick_cue_log"], ANSWERS["quick_cue_log"], vocab, QUICK_CUE_CONTEXT)
    assert cue.type == "cue" and cue.tags == ["cue"]
    assert (cue.process, cue.step, cue.site, cue.batch, cue.author) == (
        "CAR-T",
        "expansion",
        "LEI",
        "LEI-CART-24-017",
        "m.jansen",
    )
    assert (
        cue.title == "Expansion - Pump on the Prodigy sounded higher-pitched just before the tubing kinked."
    )
    assert cue.fields["batch"] == "LEI-CART-24-017"
    # Without the context the same answers lack process, step and site.
    errors = validate_answers(templates["quick_cue_log"], ANSWERS["quick_cue_log"], vocab)
    assert kinds(errors) == {"process": "required", "step": "required", "site": "required"}


def test_answers_are_normalised(templates: dict[str, Template], vocab: Vocabulary) -> None:
    fix = templates["troubleshooting_fix_note"]
    answers = {
        **ANSWERS["troubleshooting_fix_note"],
        "process": "lvv",
        "step": "Tangential flow filtration",
        "site": "leiden cdmo",
        "held": "N",
        "equipment": "the old Pellicon rig",
    }
    (entry,) = fill_template(fix, answers, vocab, CONTEXT)
    assert (entry.process, entry.step, entry.site) == ("LVV", "tff", "LEI")
    assert entry.fields["held"] is False
    assert entry.equipment == "the old Pellicon rig"  # equipment is a suggestion list, free text is kept


# --- validation errors ----------------------------------------------------------------------------


def test_each_kind_of_field_error(templates: dict[str, Template], vocab: Vocabulary) -> None:
    answers = {
        **ANSWERS["gmp_deviation_record"],
        "reporter": "   ",
        "occurred_at": "5 March",
        "detected_at": "2024-03-05",
        "step": "tff",
        "batch": "17",
        "planned": "maybe",
        "classification": "severe",
        "qa_disposition": "ship it",
        "colour": "orange",
    }
    errors = validate_answers(templates["gmp_deviation_record"], answers, vocab)
    assert kinds(errors) == {
        "reporter": "required",
        "occurred_at": "bad_date",
        "detected_at": "bad_date",
        "step": "not_in_vocabulary",
        "batch": "bad_pattern",
        "planned": "not_boolean",
        "classification": "not_in_vocabulary",
        "qa_disposition": "not_a_choice",
        "colour": "unknown_field",
    }
    messages = {e.field: e.message for e in errors}
    assert messages["step"].startswith("Process step (step): 'tff' is not a step of CAR-T")
    assert messages["reporter"] == "Reported by (reporter): required, but no answer was given"
    assert "minor, major, critical" in messages["classification"]
    assert len(errors) == len(kinds(errors))  # one message per field


def test_number_errors(templates: dict[str, Template], vocab: Vocabulary) -> None:
    acta = templates["acta_knowledge_audit"]
    base = {"process": "CAR-T", "probes": ANSWERS["acta_knowledge_audit"]["probes"]}
    assert kinds(validate_answers(acta, {**base, "years_experience": "twelve"}, vocab)) == {
        "years_experience": "not_a_number"
    }
    assert kinds(validate_answers(acta, {**base, "years_experience": True}, vocab)) == {
        "years_experience": "not_a_number"
    }
    (error,) = validate_answers(acta, {**base, "years_experience": "7,5"}, vocab)
    assert "use a dot for decimals" in error.message
    (error,) = validate_answers(acta, {**base, "years_experience": 75}, vocab)
    assert error.kind == "out_of_range" and "75 years is above the maximum 60 years" in error.message
    (error,) = validate_answers(acta, {**base, "years_experience": -1}, vocab)
    assert error.kind == "out_of_range" and "below the minimum 0" in error.message


def test_cross_field_ranges(templates: dict[str, Template], vocab: Vocabulary) -> None:
    dev = {**ANSWERS["gmp_deviation_record"], "detected_at": "2024-03-05T13:00"}
    (error,) = validate_answers(templates["gmp_deviation_record"], dev, vocab)
    assert (error.field, error.kind) == ("detected_at", "out_of_range")
    assert "earlier than Occurred" in error.message
    card = {
        "process": "CAR-T",
        "step": "transduction",
        "probes": {"readiness": [{"condition": "VCD", "range_min": 2, "range_max": 1}]},
    }
    (error,) = validate_answers(templates["step_state_card"], card, vocab)
    assert (error.field, error.kind) == ("probes.readiness[0].range_max", "out_of_range")


def test_probe_answer_errors(templates: dict[str, Template], vocab: Vocabulary) -> None:
    acta = templates["acta_knowledge_audit"]
    errors = validate_answers(acta, {"process": "CAR-T", "probes": {}}, vocab)
    assert kinds(errors) == {"probes": "required"}
    answers = {
        "process": "CAR-T",
        "probes": {
            "noticing": {"aspect": "Haze in the bag", "colour": "grey"},
            "anomalies": [{"aspect": "a", "cues": "b"}],
            "gossip": {"aspect": "x"},
        },
    }
    assert kinds(validate_answers(acta, answers, vocab)) == {
        "probes.noticing.cues": "required",
        "probes.noticing.colour": "unknown_field",
        "probes.anomalies": "not_repeatable",
        "probes.gossip": "unknown_field",
    }
    card = templates["step_state_card"]
    errors = validate_answers(
        card, {"process": "LVV", "step": "tff", "probes": {"stabiliser": [{"range_min": "x"}]}}, vocab
    )
    assert kinds(errors) == {
        "probes.stabiliser[0].condition": "required",
        "probes.stabiliser[0].range_min": "not_a_number",
    }


def test_multi_choice_and_unknown_vocabulary(vocab: Vocabulary, tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "id: shift_note\nversion: '1.0.0'\ntitle: Shift note\nmethod: log\nentry_type: cue\n"
        "fields:\n"
        "  - {name: steps_touched, label: Steps touched, kind: multi_choice, vocabulary: steps, required: true}\n"
        "  - {name: mood, label: Mood, kind: choice, choices: [calm, busy]}\n"
        "  - {name: product, label: Product, kind: choice, vocabulary: products}\n"
    )
    loaded, errors = load_templates([tmp_path])
    assert errors == [] and loaded["shift_note"].version == "1.0.0"
    note = loaded["shift_note"]
    (entry,) = fill_template(note, {"steps_touched": "Expansion, tff, expansion", "mood": "BUSY"}, vocab)
    assert entry.fields["steps_touched"] == ["expansion", "tff"] and entry.fields["mood"] == "busy"
    assert "Steps touched: Expansion, Tangential flow filtration" in entry.text
    assert entry.title == "Shift note"
    errors = validate_answers(note, {"steps_touched": ["expansion", "kneading"], "product": "cart19"}, vocab)
    assert kinds(errors) == {"steps_touched": "not_in_vocabulary", "product": "not_in_vocabulary"}
    assert "'kneading' not allowed" in errors[0].message
    assert kinds(validate_answers(note, {"steps_touched": " , "}, vocab)) == {"steps_touched": "required"}


def test_fill_raises_with_all_errors_and_the_answers_unchanged(
    templates: dict[str, Template], vocab: Vocabulary
) -> None:
    answers = {**ANSWERS["gmp_deviation_record"], "batch": "?", "classification": "", "planned": "perhaps"}
    snapshot = copy.deepcopy(answers)
    with pytest.raises(TemplateValidationError) as info:
        fill_template(templates["gmp_deviation_record"], answers, vocab, CONTEXT)
    err = info.value
    assert kinds(err.errors) == {
        "batch": "bad_pattern",
        "classification": "required",
        "planned": "not_boolean",
    }
    assert err.answers == snapshot and answers == snapshot
    assert err.template_id == "gmp_deviation_record"
    assert "3 problem(s)" in str(err) and "Batch / lot (batch)" in str(err)


# --- loading files --------------------------------------------------------------------------------


GOOD = """\
id: site_walk
version: 1
title: Site walk note
method: log
entry_type: cue
title_fields: [seen]
fields:
  - {name: seen, label: What I saw, kind: long_text, required: true}
"""


def test_broken_files_are_reported_and_the_others_load(tmp_path: Path) -> None:
    (tmp_path / "a_good.yaml").write_text(GOOD)
    (tmp_path / "b_bad_yaml.yaml").write_text("id: x\nfields: [unclosed\n")
    (tmp_path / "c_bad_kind.yaml").write_text(
        GOOD.replace("id: site_walk", "id: c").replace("long_text", "essay")
    )
    (tmp_path / "d_bad_ref.yml").write_text(
        GOOD.replace("id: site_walk", "id: d")
        + ("probes:\n  - {id: what, question: 'What did you see?', fills: [smell]}\n")
    )
    (tmp_path / "e_empty.yaml").write_text("")
    (tmp_path / "notes.txt").write_text("not a template")
    loaded, errors = load_templates([tmp_path])
    assert list(loaded) == ["site_walk"]
    by_file = {e.path.name: e for e in errors}
    assert set(by_file) == {"b_bad_yaml.yaml", "c_bad_kind.yaml", "d_bad_ref.yml", "e_empty.yaml"}
    assert all(e.fatal for e in errors)
    assert by_file["b_bad_yaml.yaml"].kind == "yaml" and "line 3" in by_file["b_bad_yaml.yaml"].message
    bad_kind = by_file["c_bad_kind.yaml"]
    assert (bad_kind.kind, bad_kind.json_path) == (
        "schema",
        "$.fields[0].kind",
    ) and "'essay'" in bad_kind.message
    assert str(bad_kind).startswith(f"{tmp_path / 'c_bad_kind.yaml'} at $.fields[0].kind: ")
    assert (by_file["d_bad_ref.yml"].json_path, by_file["d_bad_ref.yml"].message) == (
        "$.probes[0].fills[0]",
        "unknown field 'smell'",
    )


@pytest.mark.parametrize(
    ("extra", "json_path", "needle"),
    [
        ("colour: red\n", "$", "'colour' was unexpected"),
        ("version: 1.5\n", "$.version", "1.5"),
        ("entry_type: document\n", "$.entry_type", "'document'"),
        ("entry_per: probe\n", "$", "'probes' is a required property"),
        ("tags: ['{step}']\n", "$.tags[0]", "{category}"),
        ("category: {field: part}\n", "$.category", "entry_per: probe"),
    ],
)
def test_schema_and_consistency_errors_carry_the_json_path(
    tmp_path: Path, extra: str, json_path: str, needle: str
) -> None:
    text = GOOD.replace("version: 1\n", "") if extra.startswith("version") else GOOD
    text = text.replace("entry_type: cue\n", "") if extra.startswith("entry_type") else text
    (tmp_path / "t.yaml").write_text(text + extra)
    loaded, errors = load_templates([tmp_path])
    assert loaded == {}
    assert any(e.json_path == json_path and needle in e.message for e in errors), [str(e) for e in errors]


def test_field_consistency_errors(tmp_path: Path, vocab: Vocabulary) -> None:
    fields = (
        "  - {name: seen, label: Seen, kind: long_text}\n"
        "  - {name: seen, label: Again, kind: text}\n"
        "  - {name: colour, label: Colour, kind: choice}\n"
        "  - {name: temp, label: Temp, kind: text, unit: C}\n"
        "  - {name: lot, label: Lot, kind: batch_id, pattern: '[A-Z'}\n"
        "  - {name: part, label: Part, kind: choice, vocabulary: parts}\n"
        "  - {name: grade, label: Grade, kind: choice, choices: [a], maps_to: severity}\n"
        "  - {name: severity, label: Severity, kind: choice, vocabulary: severities}\n"
    )
    (tmp_path / "t.yaml").write_text(GOOD.split("title_fields")[0] + "fields:\n" + fields)
    _, errors = load_templates([tmp_path], vocabulary=vocab)
    paths = {e.json_path for e in errors}
    assert paths == {
        "$.fields[1].name",
        "$.fields[2]",
        "$.fields[3].unit",
        "$.fields[4].pattern",
        "$.fields[5].vocabulary",
        "$.fields[7]",
    }


def test_a_later_directory_overrides_by_id_and_says_so(tmp_path: Path, vocab: Vocabulary) -> None:
    org = tmp_path / "templates"
    org.mkdir()
    shipped_text = (SHIPPED_TEMPLATES_DIR / "quick_cue_log.yaml").read_text()
    (org / "my_cue_log.yaml").write_text(
        shipped_text.replace("version: 1", "version: 2").replace(
            "title: Quick cue log", "title: Cue log (ACME)"
        )
    )
    loaded, errors = load_templates([SHIPPED_TEMPLATES_DIR, org], vocabulary=vocab)
    assert set(loaded) == SHIPPED_IDS
    cue = loaded["quick_cue_log"]
    assert (cue.version, cue.title, cue.path) == (2, "Cue log (ACME)", org / "my_cue_log.yaml")
    assert cue.overrides == SHIPPED_TEMPLATES_DIR / "quick_cue_log.yaml"
    (notice,) = errors
    assert notice.kind == "override" and not notice.fatal and "quick_cue_log" in notice.message
    (entry,) = fill_template(cue, ANSWERS["quick_cue_log"], vocab, QUICK_CUE_CONTEXT)
    assert entry.fields["template_version"] == 2


def test_duplicates_in_one_directory_and_missing_directories(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD.replace("Site walk note", "Other"))
    loaded, errors = load_templates([tmp_path, tmp_path / "nowhere"])
    assert loaded["site_walk"].title == "Site walk note"
    assert [(e.path.name, e.kind) for e in errors] == [("b.yaml", "duplicate"), ("nowhere", "missing_dir")]


def test_default_dirs_include_tacitkb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TACITKB_HOME", str(tmp_path))
    assert default_template_dirs() == [SHIPPED_TEMPLATES_DIR]
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "walk.yaml").write_text(GOOD)
    assert default_template_dirs() == [SHIPPED_TEMPLATES_DIR, tmp_path / "templates"]
    loaded, errors = load_templates()
    assert set(loaded) == SHIPPED_IDS | {"site_walk"} and errors == []


def test_probe_and_cross_reference_errors(tmp_path: Path, vocab: Vocabulary) -> None:
    (tmp_path / "t.yaml").write_text(
        "id: audit\nversion: 1\ntitle: Audit\nmethod: acta\nentry_type: know_how\nentry_per: probe\n"
        "category: {field: acta_category, vocabulary: acta_categories}\n"
        "fields:\n"
        "  - {name: aspect, label: Aspect, kind: long_text}\n"
        "  - {name: started, label: Started, kind: date}\n"
        "  - {name: ended, label: Ended, kind: datetime, at_least: started}\n"
        "  - {name: low, label: Low, kind: number, at_least: nothing}\n"
        "probes:\n"
        "  - {id: gut, question: 'Gut feeling?', fills: [aspect], category: gut_feeling}\n"
        "  - {id: gut, question: 'Again?', fills: [aspect]}\n"
    )
    _, errors = load_templates([tmp_path], vocabulary=vocab)
    assert {(e.json_path, e.message) for e in errors} == {
        ("$.fields[2].at_least", "at_least compares two fields of one kind: number, date or datetime"),
        ("$.fields[3].at_least", "unknown field 'nothing'"),
        ("$.probes[0].category", "'gut_feeling' is not in vocabulary list 'acta_categories'"),
        ("$.probes[1].id", "duplicate probe id 'gut'"),
        ("$.probes[1]", "every probe needs a category when the template has one"),
    }
