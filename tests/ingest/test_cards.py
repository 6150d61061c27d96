"""Step state cards and failure patterns: template answers, card assembly, disagreements, suggestions, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ingest.failure_patterns import (
    SIMILARITY_FLOOR,
    failure_pattern_of,
    suggest_failure_pattern,
    sync_failure_tags,
    tag_failure_pattern,
)
from ingest.state_cards import ConditionNormaliser, step_state_card
from ingest.templates import TemplateValidationError, fill_template, load_templates
from ingest.vocabulary import load_vocabulary
from kb.models import KBError
from kb.retrieval.search import SearchFilters

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.fixture(scope="module")
def vocabulary():
    return load_vocabulary()


@pytest.fixture(scope="module")
def card_template(vocabulary):
    templates, _ = load_templates(vocabulary=vocabulary)
    return templates["step_state_card"]


def sample_rows() -> list[dict]:
    with (SAMPLES / "entries.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def ground_truth() -> dict:
    return json.loads((SAMPLES / "ground_truth.json").read_text(encoding="utf-8"))


def card_answers(site: str, vcd: tuple[float, float], *, stabiliser: bool = True) -> dict:
    answers = {
        "process": "LVV",
        "step": "transfection",
        "site": site,
        "probes": {
            "readiness": [
                {
                    "condition": "viable cell density at transfection",
                    "range_min": vcd[0],
                    "range_max": vcd[1],
                    "unit": "x10^6 cells/mL",
                    "cues": "The culture swirls milky but not grainy; count on the Vi-CELL twice.",
                },
                {
                    "condition": "viability at transfection",
                    "range_min": 92,
                    "unit": "%",
                    "cues": "Fewer than one dead cell in ten on the counter image.",
                },
            ],
            "transition": {
                "condition": "PEI/DNA complex time",
                "range_min": 10,
                "range_max": 20,
                "unit": "min",
                "cues": "The complex turns faintly opalescent; past 20 minutes it gets hazy.",
            },
        },
    }
    if stabiliser:
        answers["probes"]["stabiliser"] = {
            "condition": "pH after transfection",
            "range_min": 7.0,
            "range_max": 7.2,
            "unit": "pH",
            "cues": "CO2 sparge controls it; base addition is a warning sign.",
        }
    return answers


# --- the template ---------------------------------------------------------------------------------


def test_state_card_answers_validate_are_searchable_and_form_a_card(kb, card_template, vocabulary):
    entries = fill_template(card_template, card_answers("CAM", (1.8, 2.2)), vocabulary)
    assert [e.fields["state_part"] for e in entries] == ["readiness", "readiness", "transition", "stabiliser"]
    assert all(e.type == "know_how" and e.fields["template_id"] == "step_state_card" for e in entries)
    assert "state:readiness" in entries[0].tags and "state:stabiliser" in entries[3].tags

    bad = card_answers("LEI", (2.5, 1.5))
    with pytest.raises(TemplateValidationError) as problem:
        fill_template(card_template, bad, vocabulary)
    assert [e.field for e in problem.value.errors] == ["probes.readiness[0].range_max"]

    kb.add_many(entries, author="t")
    kb.add_many(fill_template(card_template, card_answers("LEI", (1.5, 2.5)), vocabulary), author="t")

    # Found in other words, and by the state tag.
    hits = kb.search("how many live cells per millilitre before we add the plasmid mix", k=3)
    assert any(h.entry.fields.get("condition") == "viable cell density at transfection" for h in hits)
    hits = kb.search(
        "how long may the polyethylenimine complex sit", k=2, filters=SearchFilters(tags=["state:transition"])
    )
    assert hits and all(h.entry.fields["state_part"] == "transition" for h in hits)
    assert "PEI/DNA complex time" in hits[0].entry.fields["condition"]

    card = step_state_card(kb, "LVV", "transfection", vocabulary=vocabulary)
    readiness = {i.condition: i for i in card.parts["readiness"]}
    vcd = readiness["viable cell density at transfection"]
    assert vcd.known_by == ["CAM", "LEI"]
    assert [(r.range_min, r.range_max) for r in vcd.sites["CAM"]] == [(1.8, 2.2)]
    assert [(r.range_min, r.range_max) for r in vcd.sites["LEI"]] == [(1.5, 2.5)]
    ranges = [d for d in card.disagreements if d.kind == "range"]
    assert [d.condition for d in ranges] == ["viable cell density at transfection"]
    assert "1.8 to 2.2" in ranges[0].message and "1.5 to 2.5" in ranges[0].message


# --- assembling cards -----------------------------------------------------------------------------


def test_card_groups_synonyms_compares_units_and_reports_missing_parts(kb, vocabulary):
    def know_how(site, part, condition, lo=None, hi=None, unit=None, step="transfection", text=""):
        return {
            "type": "know_how",
            "process": "LVV",
            "step": step,
            "site": site,
            "title": f"{site} {condition}",
            "text": text or f"{site} says {condition} {lo}-{hi} {unit} ({part})",
            "tags": [f"state:{part}"],
            "fields": {
                "state_part": part,
                "condition": condition,
                "range_min": lo,
                "range_max": hi,
                "unit": unit,
            },
        }

    result = kb.add_many(
        [
            know_how("LEI", "readiness", "VCD  at Transfection", 1.8, 2.2, "x10^6 cells/ml"),
            know_how("CAM", "readiness", "Viable cell density at transfection", 1.8, 2.2, "x10^6 cells/mL"),
            know_how("CAM", "transition", "complex time", 10, 20, "min"),
            know_how("LEI", "transition", "Complex-time", 600, 1200, "s"),
            know_how("CAM", "stabiliser", "pH after transfection", 7.0, 7.2, "pH"),
            know_how("CAM", "success_cue", "complex appearance", text="Faint opalescence, no flakes."),
            know_how("LEI", "success_cue", "viability 24 h post-transfection", 85, None, "%"),
            know_how("LEI", "readiness", "harvest viability", 65, None, "%", step="harvest"),
            # Tagged only (no template fields): still on the card, under its title.
            {
                "type": "cue",
                "process": "LVV",
                "step": "transfection",
                "site": "LEI",
                "title": "Bag warm to the touch before complexing",
                "text": "PEI bag should be at room temperature before complexing.",
                "tags": ["state:readiness"],
            },
            {
                "type": "deviation",
                "process": "LVV",
                "step": "transfection",
                "site": "LEI",
                "text": "Transfected at 2.9e6 cells/mL; the 200 L culture had outgrown the window.",
                "fields": {"failure_pattern": "context"},
            },
            {
                "type": "deviation",
                "process": "LVV",
                "step": "transfection",
                "site": "CAM",
                "text": "PEI complex held 45 min before addition.",
                "tags": ["failure:preparation"],
            },
            {
                "type": "fix",
                "process": "LVV",
                "step": "transfection",
                "site": "LEI",
                "text": "Lower seeding density: did not hold at the next batch.",
                "fields": {"failure_pattern": "stability"},
            },
            {
                "type": "deviation",
                "process": "LVV",
                "step": "harvest",
                "site": "LEI",
                "text": "Harvest delayed 6 h.",
                "fields": {"failure_pattern": "context"},
            },
        ],
        author="t",
    )
    ids = [e.id for e in result.added]
    kb.retire(ids[6], author="t", reason="superseded")  # LEI success cue
    kb.retire(ids[9], author="t", reason="entered twice")  # the context deviation

    card = step_state_card(kb, "lvv", "Transient transfection", vocabulary=vocabulary)
    assert (card.process, card.step, card.sites) == ("LVV", "transfection", ["CAM", "LEI"])
    assert set(card.entry_ids) == {ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[8]}

    readiness = card.parts["readiness"]
    assert [i.key for i in readiness] == sorted(i.key for i in readiness)
    vcd = next(i for i in readiness if len(i.names) == 2)
    assert vcd.condition == "VCD  at Transfection"  # first written (lowest id)
    assert vcd.known_by == ["CAM", "LEI"] and [e.site for e in vcd.evidence] == ["CAM", "LEI"]
    assert {e.id for e in vcd.evidence} == {ids[0], ids[1]}
    assert all(e.title for e in vcd.evidence)
    bag = next(i for i in readiness if i.evidence[0].id == ids[8])
    assert bag.condition == "Bag warm to the touch before complexing" and bag.known_by == ["LEI"]

    transition = card.parts["transition"]
    assert len(transition) == 1 and transition[0].known_by == ["CAM", "LEI"]

    kinds = sorted((d.kind, d.part) for d in card.disagreements)
    assert kinds == [("missing_part", "stabiliser"), ("missing_part", "success_cue"), ("unit", "transition")]
    unit = next(d for d in card.disagreements if d.kind == "unit")
    assert "10 to 20 min" in unit.message and "600 to 1200 s" in unit.message
    assert [r.unit for r in unit.values["CAM"]] == ["min"] and [r.unit for r in unit.values["LEI"]] == ["s"]
    missing = next(d for d in card.disagreements if d.part == "stabiliser")
    assert missing.values == {"CAM": [], "LEI": []} and missing.message.endswith("LEI has none")

    patterns = {g.pattern: g for g in card.failure_patterns}
    assert set(patterns) == {"preparation", "stability"}  # retired and other-step deviations left out
    assert patterns["preparation"].entries[0].id == ids[10]
    assert patterns["stability"].by_site == {"LEI": 1} and patterns["stability"].count == 1

    again = step_state_card(kb, "LVV", "transfection", vocabulary=vocabulary)
    assert again.to_dict() == card.to_dict()
    assert json.loads(json.dumps(card.to_dict()))["parts"]["readiness"]["label"] == "Readiness condition"
    text = card.render_text()
    assert "[LEI only]" in text and "! [unit]" in text and "Preparation [preparation]: 1" in text


def test_condition_normaliser_folds_case_spacing_punctuation_and_synonyms(vocabulary):
    key = ConditionNormaliser(vocabulary).key
    assert key("Viable cell density at transfection") == key("VCD at transfection")
    assert key("Pre-flush volume") == key("pre flush  VOLUME")
    assert key("DMSO exposure") == key("dimethyl sulfoxide exposure")
    assert key("DO setpoint") == key("dissolved oxygen setpoint") == key("pO2 setpoint")
    assert key("LV titer") == key("lentiviral vector titer")
    assert key("lv titer") != key("LV titer")  # LV is case-sensitive in the vocabulary
    assert key("glucose") != key("lactate")


def test_bad_process_or_step_names_the_argument(sample_kb, vocabulary):
    with pytest.raises(KBError, match=r"argument '--process': unknown process 'LVX' \(known: CAR-T, LVV\)"):
        step_state_card(sample_kb, "LVX", "transfection", vocabulary=vocabulary)
    with pytest.raises(KBError, match=r"argument '--step': 'expansion' is not a step of LVV; .*CAR-T"):
        step_state_card(sample_kb, "LVV", "expansion", vocabulary=vocabulary)
    with pytest.raises(KBError, match=r"argument '--step': 'nope' is not a step of CAR-T"):
        step_state_card(sample_kb, "CAR-T", "nope", vocabulary=vocabulary)


# --- the sample data set --------------------------------------------------------------------------


def test_sample_cards_list_every_tagged_entry_of_their_step(sample_kb, vocabulary):
    rows = sample_rows()
    steps = ground_truth()["step_state_cards"]["steps"]
    assert steps
    for name in steps:
        process, step = name.split(":")
        expected = {
            r["ext_id"]
            for r in rows
            if r.get("process") == process
            and r.get("step") == step
            and (
                (r.get("fields") or {}).get("state_part")
                or any(t.startswith("state:") for t in r.get("tags", []))
            )
        }
        card = step_state_card(sample_kb, process, step, vocabulary=vocabulary)
        evidence = [e for item in card.items for e in item.evidence]
        assert {e.ext_id for e in evidence} == expected, name
        assert len(evidence) == len(expected)  # each entry is evidence exactly once
        for item in card.items:
            assert item.evidence and item.known_by
            for e in item.evidence:
                assert e.title and sample_kb.get(e.id).ext_id == e.ext_id
        # Every part is covered by both sites in the samples.
        assert all(card.parts[p] for p in vocabulary.codes("state_parts")), name
        assert not [d for d in card.disagreements if d.kind == "missing_part"], name

        tagged = {
            r["ext_id"]
            for r in rows
            if r.get("process") == process
            and r.get("step") == step
            and r["type"] in ("deviation", "fix")
            and (r.get("fields") or {}).get("failure_pattern")
        }
        listed = {e.ext_id for g in card.failure_patterns for e in g.entries}
        assert listed == tagged, name
        assert sum(g.count for g in card.failure_patterns) == len(tagged)


def test_planted_site_disagreement_shows_on_the_lvv_transfection_card(sample_kb, vocabulary):
    planted = ground_truth()["step_state_cards"]["disagreement"]
    card = step_state_card(sample_kb, planted["process"], planted["step"], vocabulary=vocabulary)
    found = {d.condition: d for d in card.disagreements if d.kind in ("range", "unit")}
    assert set(found) == set(planted["conditions"])  # and nothing else disagrees on this card
    for condition, by_site in planted["conditions"].items():
        d = found[condition]
        assert d.part == planted["state_part"] == "readiness"
        for site, (ext_id, lo, hi, unit) in by_site.items():
            (value,) = d.values[site]
            assert (value.range_min, value.range_max, value.unit) == (lo, hi, unit)
            assert [sample_kb.get(i).ext_id for i in value.entry_ids] == [ext_id]
            assert ext_id in d.message or value.entry_ids[0] in d.message
    viability = found["viability at transfection"]
    assert ">= 95 %" in viability.message and ">= 90 %" in viability.message
    text = card.render_text()
    assert f"Disagreements ({len(planted['conditions'])})" in text and ">= 95 %" in text and ">= 90 %" in text
    as_json = card.to_dict()
    assert {d["condition"] for d in as_json["disagreements"]} == set(planted["conditions"])


def test_other_sample_cards_agree_between_sites(sample_kb, vocabulary):
    planted = ground_truth()["step_state_cards"]
    for name in planted["steps"]:
        process, step = name.split(":")
        if (process, step) == (planted["disagreement"]["process"], planted["disagreement"]["step"]):
            continue
        card = step_state_card(sample_kb, process, step, vocabulary=vocabulary)
        assert not [d for d in card.disagreements if d.kind in ("range", "unit")], name
        shared = [i for i in card.items if len(i.known_by) == 2]
        assert shared, name  # the same condition from both sites is one item


# --- failure patterns -----------------------------------------------------------------------------


def test_suggestions_on_samples_are_deterministic_and_come_from_tagged_entries(sample_kb, vocabulary):
    rows = sample_rows()
    untagged = next(
        r["ext_id"]
        for r in rows
        if r["type"] == "deviation"
        and r.get("step") == "clarification"
        and not (r.get("fields") or {}).get("failure_pattern")
    )
    for query in (untagged, "Transfected although the HEK293T viability was under the batch record limit"):
        first = suggest_failure_pattern(sample_kb, query, vocabulary=vocabulary)
        second = suggest_failure_pattern(sample_kb, query, vocabulary=vocabulary)
        assert first.to_dict() == second.to_dict()
        assert first.pattern in vocabulary.codes("failure_patterns")
        assert 0 < first.confidence <= 1
        assert first.evidence_ids and len(first.neighbours) <= 10
        sims = [n.similarity for n in first.neighbours]
        assert sims == sorted(sims, reverse=True) and min(sims) >= SIMILARITY_FLOOR
        for entry_id in first.evidence_ids:
            entry = sample_kb.get(entry_id)
            assert entry.type in ("deviation", "fix")
            assert failure_pattern_of(entry) == first.pattern
        assert max(first.votes, key=first.votes.get) == first.pattern

    # A tagged entry never votes for itself.
    tagged = next(r["ext_id"] for r in rows if (r.get("fields") or {}).get("failure_pattern"))
    own = sample_kb.store.find_by_ext_id(tagged).id
    result = suggest_failure_pattern(sample_kb, tagged, vocabulary=vocabulary)
    assert result.query_id == own and own not in [n.id for n in result.neighbours]

    nothing = suggest_failure_pattern(sample_kb, "Quarterly canteen menu and car park opening hours")
    assert (nothing.pattern, nothing.confidence, nothing.evidence_ids) == (None, 0.0, [])


def deviation(text: str, pattern: str | None = None, *, tag: bool = False, step: str = "transfection"):
    data = {"type": "deviation", "process": "LVV", "step": step, "site": "LEI", "text": text}
    if pattern and tag:
        data["tags"] = [f"failure:{pattern}"]
    elif pattern:
        data["fields"] = {"failure_pattern": pattern}
    return data


def test_suggestion_votes_by_similarity_and_breaks_ties_by_vocabulary_order(kb, vocabulary):
    result = kb.add_many(
        [
            deviation(
                "Depth filter blocked at 200 L: the new bioreactor's harvest had far more clumps.", "context"
            ),
            deviation(
                "At 200 L scale the depth filter train plugged early; harvest full of aggregates.", "context"
            ),
            deviation("Transfected before the PEI reagent was brought to room temperature.", "preparation"),
            deviation("Complexes added before the culture reached the VCD window.", "preparation", tag=True),
            deviation("CRF door seal alarm; chamber warmed by 4 C.", "stability"),
            deviation("Operator badge expired during the shift."),
            # Same words, different patterns: identical vectors, an exact tie.
            deviation("Plasmid lot swapped during thaw of the cell bank.", "stability"),
            deviation("Plasmid lot swapped during thaw of the cell bank.", "context"),
        ],
        author="t",
    )
    ids = [e.id for e in result.added]

    s = suggest_failure_pattern(kb, "depth filtration clogged with clumped cells after moving to 200 L", k=3)
    assert s.pattern == "context"
    assert set(s.evidence_ids[:2]) == {ids[0], ids[1]}
    assert ids[5] not in [n.id for n in s.neighbours]  # untagged entries never vote

    s = suggest_failure_pattern(
        kb, "we started transfection before the reagent and the cells were ready", k=2
    )
    assert s.pattern == "preparation" and set(s.evidence_ids) <= {ids[2], ids[3]}

    tie = suggest_failure_pattern(kb, "Plasmid lot swapped during thaw of the cell bank.", k=2)
    assert [n.id for n in tie.neighbours] == [ids[6], ids[7]]  # equal similarity: lower id first
    assert tie.votes["stability"] == tie.votes["context"]
    assert tie.pattern == "context" and tie.confidence == pytest.approx(0.5)  # context precedes stability
    assert tie.evidence_ids == [ids[7]]

    none = suggest_failure_pattern(
        kb, "Plasmid lot swapped during thaw of the cell bank.", min_similarity=1.01
    )
    assert none.pattern is None and none.neighbours == []
    with pytest.raises(KBError, match="argument '-k'"):
        suggest_failure_pattern(kb, "anything", k=0)


def test_tag_failure_pattern_writes_a_revision_and_is_filterable(kb, vocabulary):
    result = kb.add_many(
        [
            deviation("Complex sat 40 minutes before it was added to the bioreactor."),
            deviation("Viability 86 % at transfection, below the batch record window.", "context"),
            {"type": "know_how", "process": "LVV", "step": "transfection", "text": "Warm PEI first."},
        ],
        author="t",
    )
    dev, tagged_by_field, know_how = (e.id for e in result.added)

    entry = tag_failure_pattern(kb, dev, "Preparation", author="qa", reason="complex hold exceeded")
    assert entry.revision == 2 and entry.fields["failure_pattern"] == "preparation"
    assert entry.tags == ["failure:preparation"]
    last = kb.history(dev)[-1]
    assert (last.author, last.reason, last.action) == ("qa", "complex hold exceeded", "edit")
    assert last.changes["fields"]["old"] == {} and last.changes["fields"]["new"] == {
        "failure_pattern": "preparation"
    }

    hits = kb.search("complex hold", filters=SearchFilters(tags=["failure:preparation"]))
    assert [h.entry.id for h in hits] == [dev]

    same = tag_failure_pattern(kb, dev, "preparation", author="qa", reason="again")
    assert same.revision == 2  # nothing changed, no new revision
    moved = tag_failure_pattern(kb, dev, "stability", author="qa", reason="re-assessed")
    assert moved.revision == 3 and moved.tags == ["failure:stability"]
    assert moved.fields["failure_pattern"] == "stability"

    with pytest.raises(KBError, match=r"argument 'PATTERN': unknown failure pattern 'drift'"):
        tag_failure_pattern(kb, dev, "drift", author="qa", reason="x")
    with pytest.raises(KBError, match=r"argument 'ID': .* is a know_how"):
        tag_failure_pattern(kb, know_how, "context", author="qa", reason="x")
    with pytest.raises(KBError, match=r"argument '--reason'"):
        tag_failure_pattern(kb, dev, "context", author="qa", reason=" ")
    with pytest.raises(KBError, match=r"argument 'ID': no entry with id KB-999999"):
        tag_failure_pattern(kb, "KB-999999", "context", author="qa", reason="x")

    # Entries tagged only in fields become filterable after a sync; a second sync changes nothing.
    assert not kb.search("viability", filters=SearchFilters(tags=["failure:context"]))
    assert sync_failure_tags(kb, author="qa") == [tagged_by_field]
    assert sync_failure_tags(kb, author="qa") == []
    hits = kb.search("viability", filters=SearchFilters(tags=["failure:context"]))
    assert [h.entry.id for h in hits] == [tagged_by_field]


# --- the CLI --------------------------------------------------------------------------------------


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--kb", str(home), "--as", "qa", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_card_command(sample_kb_dir, embedder):
    code, out = invoke(sample_kb_dir, "card", "--process", "LVV", "--step", "transfection", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["process"] == "LVV" and data["step"] == "transfection"
    assert list(data["parts"]) == ["readiness", "transition", "success_cue", "stabiliser", "reversion_risk"]
    assert {d["condition"] for d in data["disagreements"]} == set(
        ground_truth()["step_state_cards"]["disagreement"]["conditions"]
    )
    code, out = invoke(sample_kb_dir, "card", "--process", "LVV", "--step", "transfection")
    assert code == 0 and "Readiness condition [readiness]" in out and "! [range]" in out

    code, out = invoke(sample_kb_dir, "card", "--process", "AAV", "--step", "transfection")
    assert code == 1 and "argument '--process': unknown process 'AAV'" in out
    code, out = invoke(sample_kb_dir, "card", "--process", "CAR-T", "--step", "transfection")
    assert code == 1 and "argument '--step': 'transfection' is not a step of CAR-T" in out
    code, out = invoke(sample_kb_dir, "card", "--process", "LVV")
    assert code == 2 and "--step" in out


def test_failure_pattern_commands(tmp_path, embedder):
    from kb.knowledge_base import KnowledgeBase

    home = tmp_path / "kb"
    with KnowledgeBase(home, embedder=embedder) as base:
        result = base.add_many(
            [
                deviation("PEI complex held 45 minutes before addition to the bioreactor.", "preparation"),
                deviation("Complexes sat almost an hour before they were added.", "preparation"),
                deviation("Harvest hold at 200 L exceeded; filter blocked.", "context"),
                deviation("Complex mixture waited 50 minutes before the addition started."),
            ],
            author="t",
        )
        ids = [e.id for e in result.added]

    code, out = invoke(home, "failure-pattern", "suggest", ids[3], "--json", "-k", "3")
    assert code == 0
    first = json.loads(out)
    assert first["pattern"] == "preparation" and first["query_id"] == ids[3]
    assert set(first["evidence_ids"]) <= {ids[0], ids[1]}
    code, out = invoke(home, "failure-pattern", "suggest", ids[3], "--json", "-k", "3")
    assert json.loads(out) == first
    code, out = invoke(home, "failure-pattern", "suggest", ids[3])
    assert code == 0 and "suggested pattern: preparation" in out

    code, out = invoke(home, "failure-pattern", "set", ids[3], "preparation", "--reason", "agree", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["changed"] and data["revision"] == 2 and "failure:preparation" in data["tags"]
    code, out = invoke(home, "failure-pattern", "set", ids[3], "preparation", "--reason", "again")
    assert code == 0 and "unchanged" in out

    code, out = invoke(home, "failure-pattern", "set", ids[3], "bogus", "--reason", "x")
    assert code == 1 and "argument 'PATTERN'" in out
    code, out = invoke(home, "failure-pattern", "set", "KB-424242", "context", "--reason", "x")
    assert code == 1 and "argument 'ID': no entry with id KB-424242" in out
    code, out = invoke(home, "failure-pattern", "set", ids[3], "context")
    assert code == 2 and "--reason" in out

    code, out = invoke(home, "failure-pattern", "sync", "--json")
    assert code == 0 and json.loads(out) == {"tagged": ids[:3]}
    code, out = invoke(home, "search", "complex held", "--tag", "failure:preparation", "--json")
    assert {h["id"] for h in json.loads(out)} == {ids[0], ids[1], ids[3]}
