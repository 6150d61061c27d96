"""Term bursts: a word that was rare across the record appears in many deviations of many clusters."""

from __future__ import annotations

import numpy as np

from kb.analytics.calibration import calibrate
from kb.analytics.drift import DriftRecord, detect_drift
from kb.analytics.drift.terms import record_terms
from tests.kb.analytics.test_drift import month

FAILURES = ["filter clogged at harvest", "low viability after thaw", "pump tubing kinked", "label misprinted"]
FILLER = ["during", "shift", "operator", "noted", "batch", "reviewed", "again", "today", "line", "room"]


def wave_record(*, wave_month: int | None = 36, wave_size: int = 16, sites: int = 6, seed: int = 0):
    """48 months of deviations in 4 failure modes; from wave_month on, some of each mention 'methanol'."""
    rng = np.random.default_rng(seed)
    records, texts = [], {}
    for m in range(48):
        for _ in range(rng.poisson(12)):
            eid = f"KB-{len(records) + 1:06d}"
            mode = int(rng.integers(len(FAILURES)))
            words = " ".join(rng.choice(FILLER, 3, replace=False))
            texts[eid] = f"{FAILURES[mode]} {words} lot{int(rng.integers(1000))}"
            records.append(
                DriftRecord(
                    eid, f"C-{mode + 1:03d}", month(m, int(rng.integers(1, 29))), f"S{rng.integers(40)}"
                )
            )
        if wave_month is not None and wave_month <= m < wave_month + 4:
            for j in range(wave_size // 4):
                eid = f"KB-{len(records) + 1:06d}"
                mode = j % len(FAILURES)
                texts[eid] = f"{FAILURES[mode]}: methanol found in the solvent blend"
                records.append(DriftRecord(eid, f"C-{mode + 1:03d}", month(m, 10 + j), f"W{j % sites}"))
    return records, texts


def bursts(report):
    return [s for s in report.signals if s.kind == "term_burst"]


def test_record_terms_keeps_words_rare_enough_to_rise_and_common_enough_to_count():
    texts = {
        f"KB-{i:06d}": "the pump failed with methanol" if i < 10 else "the pump failed" for i in range(300)
    }
    texts["KB-000299"] = "unique zirconium"
    terms = record_terms(texts, min_docs=8, max_share=0.05)
    assert terms["KB-000001"] == ("methanol",)  # 'pump'/'failed' are in every record; 'with' is a stop word
    assert "KB-000299" not in terms and "KB-000200" not in terms  # one-off and common words are not watched


def test_a_wave_spread_over_every_cluster_is_one_term_burst_of_its_own():
    records, texts = wave_record()
    report = detect_drift(records, exposure="total", entry_terms=record_terms(texts))
    (wave,) = [s for s in bursts(report) if "methanol" in s.details["words"]]
    assert wave.cluster_id == "term:" + wave.details["term"] and "2024-01" <= wave.start_period <= "2024-02"
    assert all("methanol" in texts[e] for e in wave.entry_ids) and len(wave.entry_ids) >= 12
    assert f'"{wave.details["term"]}" appears in' in wave.message and "sites" in wave.message
    # The words that always come with it ('solvent', 'blend') are the same wave, folded into one signal.
    assert {"methanol", "solvent", "blend"} <= set(wave.details["words"])
    assert all(f'"{w}"' in wave.message for w in ("methanol", "solvent", "blend"))
    # No cluster is mostly about the wave, so the cluster charts alone do not show it as such.
    for s in report.signals:
        if s.kind == "rising":
            assert sum("methanol" in texts[e] for e in s.entry_ids) < 0.5 * len(s.entry_ids)


def test_without_a_wave_or_with_it_at_one_site_there_is_no_burst():
    records, texts = wave_record(wave_month=None)
    assert bursts(detect_drift(records, exposure="total", entry_terms=record_terms(texts))) == []
    records, texts = wave_record(
        sites=1
    )  # one site's many recalls on a few days: not a wave across the record
    assert bursts(detect_drift(records, exposure="total", entry_terms=record_terms(texts))) == []


def test_calibration_permutes_each_records_words_with_its_date():
    records, texts = wave_record()
    kwargs = {"exposure": "total", "entry_terms": record_terms(texts)}
    report = detect_drift(records, **kwargs)
    cal = calibrate(records, report, 10, **kwargs)
    assert cal.nominal_per_year["term_burst"] == 0.25
    assert cal.measured_per_year["term_burst"] <= 0.25 * 2  # near or below nominal on a null
    (wave,) = [s for s in bursts(report) if "methanol" in s.details["words"]]
    key = f"term_burst:{wave.cluster_id}::{wave.start_period}"
    assert cal.signal_p_values[key] == round(1 / 11, 4)  # more extreme than every permutation
    assert (
        cal.to_dict()["per_permutation"]["term_burst"]
        == calibrate(records, report, 10, **kwargs).to_dict()["per_permutation"]["term_burst"]
    )  # the same seed gives the same null
