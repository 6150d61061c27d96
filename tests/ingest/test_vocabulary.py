"""The controlled vocabulary: shipped content, lookups, synonym expansion and organisation extensions."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.vocabulary import (
    SHIPPED_VOCABULARY,
    Vocabulary,
    VocabularyError,
    default_vocabulary_paths,
    load_vocabulary,
)


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary([SHIPPED_VOCABULARY])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- shipped content ------------------------------------------------------------------------------


def test_processes_have_their_steps_in_order(vocab: Vocabulary) -> None:
    assert vocab.steps_for("CAR-T") == [
        "apheresis_receipt",
        "tcell_selection",
        "activation",
        "transduction",
        "expansion",
        "harvest_wash",
        "formulation",
        "cryopreservation",
        "release_testing",
    ]
    assert vocab.steps_for("LVV") == [
        "cell_expansion",
        "transfection",
        "harvest",
        "clarification",
        "nuclease_treatment",
        "tff",
        "chromatography",
        "sterile_filtration",
        "fill_finish",
    ]
    assert vocab.steps_for("AAV") == []
    assert vocab.step_label("tff", "LVV") == "Tangential flow filtration"
    assert vocab.process_of_step("transduction") == ["CAR-T"]


def test_sites_have_roles_and_labels(vocab: Vocabulary) -> None:
    assert vocab.site_role("CAM") == "sending"
    assert vocab.site_role("LEI") == "receiving"
    assert vocab.site_role("XYZ") is None
    assert vocab.label("sites", "CAM") == "Cambridge MA"
    assert vocab.label("sites", "LEI") == "Leiden CDMO"


def test_shipped_lists_are_complete(vocab: Vocabulary) -> None:
    assert vocab.codes("root_causes") == [
        "man",
        "machine",
        "method",
        "material",
        "measurement",
        "mother_nature",
    ]
    assert vocab.label("root_causes", "mother_nature").startswith("Mother nature")
    assert vocab.codes("severities") == ["minor", "major", "critical"]
    assert vocab.codes("failure_patterns") == ["context", "preparation", "stability"]
    assert vocab.codes("state_parts") == [
        "readiness",
        "transition",
        "success_cue",
        "stabiliser",
        "reversion_risk",
    ]
    acta = vocab.terms("acta_categories")
    assert list(acta) == [
        "past_and_future",
        "big_picture",
        "noticing",
        "job_smarts",
        "opportunities_improvising",
        "self_monitoring",
        "anomalies",
        "equipment_difficulties",
    ]
    assert all(t.label and t.attrs["question"].endswith("?") for t in acta.values())
    assert "crf" in vocab.codes("equipment") and "2L" in vocab.codes("scales")
    assert len(vocab.synonym_groups) >= 30
    assert set(vocab.list_names()) >= {
        "processes",
        "steps",
        "sites",
        "scales",
        "equipment",
        "root_causes",
        "severities",
        "acta_categories",
        "failure_patterns",
        "state_parts",
    }


def test_resolve_accepts_code_or_label_in_any_case(vocab: Vocabulary) -> None:
    assert vocab.resolve("processes", "car-t") == "CAR-T"
    assert vocab.resolve("processes", "Lentiviral vector") == "LVV"
    assert vocab.resolve("steps", "Expansion") == "expansion"
    assert vocab.resolve("steps", "tff", process="CAR-T") is None  # an LVV step
    assert vocab.resolve("steps", "tff", process="LVV") == "tff"
    assert vocab.resolve("sites", "leiden cdmo") == "LEI"
    assert vocab.resolve("sites", "Basel") is None
    assert vocab.label("sites", "Basel") == "Basel"  # unknown codes read as themselves


# --- synonyms -------------------------------------------------------------------------------------


def test_expand_query_appends_synonyms_of_an_abbreviation(vocab: Vocabulary) -> None:
    assert vocab.expand_query("dP rising on the depth filter") == (
        "dP rising on the depth filter differential pressure delta P pressure drop"
    )


def test_expand_query_is_case_insensitive_and_multi_word_aware(vocab: Vocabulary) -> None:
    assert vocab.expand_query("vcd low on day 5") == "vcd low on day 5 viable cell density"
    assert vocab.expand_query("Viable Cell Density low") == "Viable Cell Density low VCD"
    # A hyphen or extra spaces between the words of a multi-word term still match.
    assert vocab.expansions("delta-P high") == ["dP", "differential pressure", "pressure drop"]
    assert vocab.expansions("host  cell DNA after Benzonase") == [
        "hcDNA",
        "residual DNA",
        "residual host cell DNA",
        "nuclease",
        "endonuclease",
    ]


def test_expand_query_matches_whole_words_only(vocab: Vocabulary) -> None:
    for query in ("turbid supernatant", "HCPs", "PEIMAX lot", "tuesday run"):
        assert vocab.expansions(query) == [], query
    assert vocab.expand_query("no jargon here") == "no jargon here"


def test_expand_query_adds_no_duplicates_and_keeps_an_order(vocab: Vocabulary) -> None:
    assert vocab.expand_query("VCD and viable cell density") == "VCD and viable cell density"
    assert vocab.expand_query("VCD VCD") == "VCD VCD viable cell density"
    # Groups follow the order of their first match in the query; terms follow the group order.
    assert vocab.expansions("clumps after thaw, low VCN") == [
        "aggregates",
        "clumping",
        "aggregation",
        "thawing",
        "vector copy number",
    ]
    queries = ["TMP spike during TFF", "CAR+ low", "leukopak arrived warm", "DMSO exposure before CRF"]
    first = [vocab.expand_query(q) for q in queries]
    again = [load_vocabulary([SHIPPED_VOCABULARY]).expand_query(q) for q in queries]
    assert first == again
    assert first[1] == "CAR+ low transduction efficiency CAR expression"
    assert first[2] == "leukopak arrived warm apheresis product apheresis material leukapheresis product"


def test_case_sensitive_terms_do_not_match_ordinary_words(vocab: Vocabulary) -> None:
    assert vocab.expansions("what to do when the pump stops") == []
    assert vocab.expansions("DO dropped below 30 %") == ["dissolved oxygen", "pO2"]
    assert vocab.expansions("dissolved oxygen low") == ["DO", "pO2"]


def test_synonyms_for(vocab: Vocabulary) -> None:
    assert vocab.synonyms_for("tmp") == ["transmembrane pressure"]
    assert vocab.synonyms_for("Polyethylenimine") == ["PEI", "polyethyleneimine"]
    assert vocab.synonyms_for("pump") == []


def test_groups_sharing_a_term_are_merged() -> None:
    v = Vocabulary(synonym_groups=[("TFF", "tangential flow filtration"), ("crossflow", "tff"), ("a", "b")])
    assert v.synonym_groups == [("TFF", "tangential flow filtration", "crossflow"), ("a", "b")]
    assert v.expand_query("crossflow") == "crossflow TFF tangential flow filtration"


# --- organisation extension -----------------------------------------------------------------------


ORG_VOCAB = """
sites:
  BSL: {label: Basel fill-finish, role: receiving}
  CAM: {label: Cambridge MA (process development)}
processes:
  LVV:
    steps:
      ultracentrifugation: Ultracentrifugation
products:
  cart19: {label: Anti-CD19 CAR-T}
synonyms:
  - [dP, pressure delta]
  - [UC, ultracentrifugation]
case_sensitive_terms: [UC]
"""


def test_an_extension_file_merges_over_the_shipped_one(tmp_path: Path) -> None:
    org = write(tmp_path / "vocabulary.yaml", ORG_VOCAB)
    v = load_vocabulary([SHIPPED_VOCABULARY, org])
    assert v.codes("sites") == ["CAM", "LEI", "BSL"]
    assert v.site_role("BSL") == "receiving"
    assert v.label("sites", "CAM") == "Cambridge MA (process development)"
    assert v.site_role("CAM") == "sending"  # attributes not restated are kept
    assert v.steps_for("LVV")[-1] == "ultracentrifugation" and len(v.steps_for("LVV")) == 10
    assert v.label("processes", "LVV") == "Lentiviral vector"
    assert v.label("products", "cart19") == "Anti-CD19 CAR-T"
    assert "pressure delta" in v.expansions("dP high")  # joined to the shipped dP group
    assert v.expansions("dP high")[:3] == ["differential pressure", "delta P", "pressure drop"]
    assert v.expansions("UC run") == ["ultracentrifugation"]
    assert v.expansions("uc run") == []
    assert v.sources == (SHIPPED_VOCABULARY, org)


def test_default_paths_pick_up_tacitkb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TACITKB_HOME", str(tmp_path))
    assert default_vocabulary_paths() == [SHIPPED_VOCABULARY]
    write(tmp_path / "vocabulary.yaml", ORG_VOCAB)
    assert default_vocabulary_paths() == [SHIPPED_VOCABULARY, tmp_path / "vocabulary.yaml"]
    assert load_vocabulary().site_role("BSL") == "receiving"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("sites:\n  BSL: {label: Basel, role: sender}\n", "sites.BSL.role"),
        ("synonyms:\n  - [lonely]\n", "synonyms[0]"),
        ("synonyms:\n  - [a, 5]\n", "synonyms[0]"),
        ("scales:\n  - 2L\n", "scales"),
        ("scales:\n  200: 200 L\n", "scales.200"),
        ("processes:\n  LVV:\n    steps: [a, b]\n", "processes.LVV.steps"),
        ("steps:\n  x: y\n", "steps"),
        ("sites:\n  BSL: {label: [Basel]}\n", "sites.BSL.label"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    bad = write(tmp_path / "org.yaml", text)
    with pytest.raises(VocabularyError) as info:
        load_vocabulary([SHIPPED_VOCABULARY, bad])
    assert f"{bad}: key '{key}'" in str(info.value)


def test_unreadable_or_broken_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="missing.yaml: cannot read"):
        load_vocabulary([tmp_path / "missing.yaml"])
    broken = write(tmp_path / "broken.yaml", "sites: [unclosed\n")
    with pytest.raises(VocabularyError, match=r"broken\.yaml: invalid YAML"):
        load_vocabulary([broken])
    listed = write(tmp_path / "list.yaml", "- a\n- b\n")
    with pytest.raises(VocabularyError, match=r"list\.yaml: the top level must be a mapping"):
        load_vocabulary([listed])
