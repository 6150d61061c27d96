"""QA page (clusters, timelines, map, drift signals with evidence, report) and the Coverage page."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.ui.conftest import assert_clean, texts, unescape

GROUND_TRUTH = Path(__file__).resolve().parents[2] / "data" / "samples" / "ground_truth.json"


def test_qa_lists_the_planted_drift_episode(open_app, check_kb):
    truth = json.loads(GROUND_TRUTH.read_text())["drift"]
    planted = {check_kb.store.find_by_ext_id(x).id for x in truth["ext_ids"]}
    at = open_app("qa", user=("Quinn", "QA"))
    page = unescape(texts(at))
    assert "Drift signals (" in page

    rising = [e for e in at.expander if e.label.startswith("**Rising**")]
    assert rising, "a rising signal is listed"
    # The strongest rising signal is the LVV clarification blockage at LEI, starting in 2025.
    top = rising[0]
    assert "clarification" in top.label or "filter" in top.label
    assert "since 2025-0" in top.label
    evidence = {unescape(lk.proto.label).split(" · ")[0] for lk in top.get("page_link")}  # labels are escaped
    members = evidence & planted
    assert len(members) >= 10, "the signal's evidence is the planted clarification deviations"
    entries = [check_kb.get(i) for i in members]
    assert Counter(e.step for e in entries).most_common(1)[0][0] == "clarification"
    shift = [e for e in entries if e.occurred_at[:7] >= truth["shift_from"]]
    assert sum(e.site == "LEI" for e in shift) / len(shift) >= 0.7, "the rise is at the receiving site"
    assert "at LEI" in unescape(top.markdown[0].value), "the message says where the rise happens"


def test_qa_table_timeline_map_and_report(open_app):
    at = open_app("qa", user=("Quinn", "QA"))
    assert_clean(at)
    assert len(at.dataframe) >= 1
    table = at.dataframe[0].value
    # Name or label first, then the top sites in one column (a record may have hundreds of sites).
    assert {"cluster", "name or label", "family", "size", "top sites", "trend", "signals"} <= set(
        table.columns
    )
    assert list(table.columns)[:2] == ["cluster", "name or label"]
    assert all("LEI" in v or "CAM" in v for v in table["top sites"])
    assert table["size"].sum() > 100
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(charts) >= 2, "a timeline by site and the 2-D map"
    at.selectbox(key="qa_cluster").select(list(table["cluster"])[-1]).run()
    assert_clean(at)
    at.selectbox(key="qa_period").select("week").run()
    assert_clean(at)
    at.button(key="qa_build_report").click().run()
    assert_clean(at)
    download = at.get("download_button")
    assert download, "the QA report is offered for download"
    assert b"TacitKB QA report" in at.session_state["qa_report"]


def test_rerun_clustering_keeps_cluster_ids(open_app):
    at = open_app("qa", user=("Quinn", "QA"))
    before = list(at.dataframe[0].value["cluster"])
    at.button(key="qa_rerun").click().run()
    assert_clean(at)
    assert any("Clustered" in s.value for s in at.success)
    assert list(at.dataframe[0].value["cluster"]) == before


def test_qa_calibrates_and_curates(open_app, check_kb):
    at = open_app("qa", user=("Quinn", "QA"))
    at.number_input(key="qa_cal_n").set_value(3).run()
    at.button(key="qa_calibrate").click().run()
    assert_clean(at)
    page = unescape(texts(at))
    assert "calibration (3 date permutations)" in page and "nominal" in page
    clusters = next(d.value for d in at.dataframe if "cluster" in d.value.columns)
    first = list(clusters["cluster"])[0]
    at.selectbox(key="qa_cur_cluster").select(first).run()
    at.text_input(key="qa_cur_name").input("Clarification filter blockage").run()
    at.button(key="qa_cur_rename").click().run()
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "cluster" in d.value.columns)
    assert "Clarification filter blockage" in list(table["name or label"])
    assert any(e["action"] == "cluster_rename" for e in check_kb.store.audit_events())


def test_coverage_map_gaps_and_sites(open_app):
    at = open_app("coverage")
    assert_clean(at)
    page = unescape(texts(at))
    assert "Gaps (" in page
    assert len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) == 1
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Deviations with no linked fix"]) > 0
    gaps = at.dataframe[0].value
    assert len(gaps) > 0 and set(gaps["kind"]) <= {
        "One site has know-how, the other none",
        "Nothing captured for the step",
        "Deviations with no linked fix",
    }
    at.selectbox(key="cov_process").select("LVV").run()
    at.radio(key="cov_view").set_value("Entry types").run()
    assert_clean(at)
    assert set(at.dataframe[0].value["process"]) <= {"LVV"}
    at.toggle(key="cov_split").set_value(False).run()
    at.radio(key="cov_view").set_value("ACTA categories").run()
    assert_clean(at)
