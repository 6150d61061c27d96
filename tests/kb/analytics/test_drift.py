"""Drift signals: periods and gaps, Poisson CUSUM (rising), emerging, site concentration, repeats after fix."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from kb.analytics.drift import (
    DriftRecord,
    Fix,
    calibrate_h,
    count_by_period,
    cusum_arl,
    cusum_reference,
    detect_drift,
    family_arl,
    period_of,
    period_range,
    shuffle_false_alarm_rate,
)


def month(i: int, day: int = 15, start_year: int = 2021) -> date:
    return date(start_year + i // 12, i % 12 + 1, day)


def make_records(
    n_clusters: int = 8,
    months: int = 36,
    *,
    seed: int = 0,
    rate=2.0,
    site_b_share=0.5,
    skip_months=(),
) -> list[DriftRecord]:
    """Poisson counts per cluster per month; rate / site_b_share may be callables (cluster, month)."""
    rng = np.random.default_rng(seed)
    out = []
    n = 0
    for m in range(months):
        if m in skip_months:
            continue
        for c in range(1, n_clusters + 1):
            lam = rate(c, m) if callable(rate) else rate
            share = site_b_share(c, m) if callable(site_b_share) else site_b_share
            for _ in range(rng.poisson(lam)):
                n += 1
                site = "Site B" if rng.random() < share else "Site A"
                out.append(DriftRecord(f"KB-{n:06d}", f"C-{c:03d}", month(m, int(rng.integers(1, 29))), site))
    return out


def of_kind(report, kind):
    return [s for s in report.signals if s.kind == kind]


# -- periods and gaps -----------------------------------------------------------------------------


def test_period_labels_and_ranges():
    assert period_of(date(2024, 12, 30), "week") == "2025-W01"  # ISO week belongs to 2025
    assert period_of(date(2024, 3, 9), "month") == "2024-03"
    assert period_range(date(2023, 11, 20), date(2024, 2, 1), "month") == [
        "2023-11",
        "2023-12",
        "2024-01",
        "2024-02",
    ]
    weeks = period_range(date(2024, 12, 23), date(2025, 1, 7), "week")
    assert weeks == ["2024-W52", "2025-W01", "2025-W02"]
    with pytest.raises(ValueError):
        period_of(date(2024, 1, 1), "quarter")


def test_empty_periods_are_gaps_not_zeros():
    recs = [
        DriftRecord("KB-1", "C-001", date(2024, 1, 5), "Site A"),
        DriftRecord("KB-2", "C-002", date(2024, 2, 5), "Site B"),
        DriftRecord("KB-3", None, date(2024, 4, 5), "Site A"),  # unclustered still counts as data
        DriftRecord("KB-4", "C-001", date(2024, 5, 5), "Site A"),
    ]
    counts = count_by_period(recs, "month")
    assert counts.periods == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    assert counts.gaps == ["2024-03"]
    assert counts.total == [1, 1, None, 1, 1]
    assert counts.by_cluster["C-001"] == [1, 0, None, 0, 1]  # a quiet month with data elsewhere is a real 0
    assert counts.by_cluster_site["C-002"]["Site B"] == [0, 1, None, 0, 0]
    rows = [r for r in counts.to_rows() if r["cluster_id"] == "C-001" and r["site"] is None]
    assert [r["gap"] for r in rows] == [False, False, True, False, False]
    declared = count_by_period(recs, "month", known_gaps=["2024-02"])
    assert declared.gaps == ["2024-02", "2024-03"] and declared.by_cluster["C-002"][1] is None


def test_gap_in_baseline_does_not_lower_the_baseline():
    # A 5-month export gap inside the baseline: read as zeros it would drag mu0 down and make the
    # unchanged later rate look like a rise.
    recs = make_records(6, 36, seed=25, rate=3.0, skip_months=range(4, 9))
    report = detect_drift(recs, kinds=("rising",))
    assert report.counts.gaps == ["2021-05", "2021-06", "2021-07", "2021-08", "2021-09"]
    per = report.false_alarm_rate["rising"]["per_cluster"]
    counts = report.counts.by_cluster["C-001"][:18]
    observed = [c for c in counts if c is not None]
    assert len(observed) == 13
    assert per["C-001"]["mu0_observed"] == pytest.approx(sum(observed) / len(observed), rel=1e-6)
    # Averaged over clusters the baseline is about 3; with the gap read as zeros, 3 * 13/18 = 2.2.
    assert np.mean([v["mu0_observed"] for v in per.values()]) > 2.6
    assert of_kind(report, "rising") == []  # this seed has no chance signal either
    assert any("gap" in note for note in report.notes)


def test_gap_inside_a_rise_does_not_split_or_end_it():
    rate = lambda c, m: 6.0 if (c == 2 and m >= 26) else 2.0  # noqa: E731
    base = make_records(6, 40, seed=5, rate=rate)
    gapped = make_records(6, 40, seed=5, rate=rate, skip_months=(31, 32))
    a = [s for s in of_kind(detect_drift(base, kinds=("rising",)), "rising") if s.cluster_id == "C-002"]
    b = [s for s in of_kind(detect_drift(gapped, kinds=("rising",)), "rising") if s.cluster_id == "C-002"]
    assert len(a) == 1 and len(b) == 1
    assert b[0].start_period == a[0].start_period
    assert b[0].ongoing


# -- rising ----------------------------------------------------------------------------------------


def test_rising_fires_on_a_step_up_with_its_evidence():
    rate = lambda c, m: 6.0 if (c == 3 and m >= 28) else 2.0  # noqa: E731
    recs = make_records(8, 36, seed=1, rate=rate, site_b_share=lambda c, m: 0.8 if c == 3 else 0.5)
    report = detect_drift(recs, labels={"C-003": ["pump", "tubing kink"]})
    rising = [s for s in of_kind(report, "rising") if s.cluster_id == "C-003"]
    assert len(rising) == 1
    sig = rising[0]
    assert "2023-03" <= sig.start_period <= "2023-07"  # the step is at month 28 = 2023-05
    assert sig.ongoing and sig.end_period == report.counts.periods[-1]
    assert sig.statistic > sig.threshold
    c3 = {r.entry_id: r for r in recs if r.cluster_id == "C-003"}
    assert sig.entry_ids and all(e in c3 for e in sig.entry_ids)
    assert all(period_of(c3[e].occurred_at, "month") >= sig.start_period for e in sig.entry_ids)
    assert "C-003 (pump, tubing kink) rose from" in sig.message and "since " + sig.start_period in sig.message
    assert "Site B" in sig.message
    # No words given, so no term-burst chart: its quarter of the budget goes to the two tests that run.
    assert sig.false_alarm_rate == pytest.approx(0.5 / 0.75)


def test_rising_false_alarm_rate_matches_the_budget_on_flat_data():
    # 40 flat histories: 10 clusters, 24 baseline + 24 monitored months. Budget: 1 chance signal a
    # year, half of it for rising -> 0.5 a year -> 1.0 per 2 monitored years, summed over clusters.
    n_hist = 40
    total = 0
    for seed in range(n_hist):
        report = detect_drift(
            make_records(10, 48, seed=100 + seed),
            kinds=("rising", "site_concentration"),
            budget_split={"rising": 0.5, "site_concentration": 0.5},
        )
        total += len(of_kind(report, "rising"))
    mean = total / n_hist
    assert 0.3 <= mean <= 1.6, mean  # about 1.0 expected; the sd of this mean is about 0.16


def test_flat_history_is_quiet():
    # About half of flat histories show no chance signal at a budget of 1 a year; this seed is one
    # (the rate itself is checked in the test above).
    report = detect_drift(
        make_records(8, 36, seed=4), budget_split={"rising": 0.5, "site_concentration": 0.5}
    )
    assert report.signals == []
    assert report.false_alarm_rate["total_per_year"] == pytest.approx(1.0)


def test_short_history_does_not_run_rising():
    report = detect_drift(make_records(3, 6, seed=2), kinds=("rising",))
    assert of_kind(report, "rising") == []
    assert any("rising: not run" in n for n in report.notes)


def test_cusum_arl_matches_simulation():
    mu0 = 1.0
    k = cusum_reference(mu0, 2 * mu0)
    k = round(k * 20) / 20
    h = 3.0
    arl = cusum_arl(mu0, k, h)
    rng = np.random.default_rng(0)
    lengths = []
    for _ in range(3000):
        s, t = 0.0, 0
        while True:
            t += 1
            s = max(0.0, s + rng.poisson(mu0) - k)
            if s > h + 1e-9:
                break
        lengths.append(t)
    assert arl == pytest.approx(np.mean(lengths), rel=0.08)


def test_fwer_threshold_grows_with_the_number_of_clusters():
    mu0 = 2.0
    k = cusum_reference(mu0, 2 * mu0)
    hs = [calibrate_h(mu0, k, family_arl(n, 12, 0.5)) for n in (1, 5, 20, 80)]
    assert hs == sorted(hs) and hs[0] < hs[-1]
    assert family_arl(20, 12, 1.0) == pytest.approx(240)
    # The same cluster watched among more clusters needs a stronger rise to signal.
    few = detect_drift(make_records(4, 36, seed=8), kinds=("rising",))
    many = detect_drift(make_records(40, 36, seed=8), kinds=("rising",))
    assert many.false_alarm_rate["rising"]["per_cluster_arl_periods"] == pytest.approx(40 * 12 / 1.0)
    h_few = few.false_alarm_rate["rising"]["per_cluster"]["C-001"]["h"]
    h_many = many.false_alarm_rate["rising"]["per_cluster"]["C-001"]["h"]
    assert h_many > h_few


# -- emerging --------------------------------------------------------------------------------------


def test_emerging_cluster_all_recent():
    recs = make_records(5, 24, seed=4)
    recs += [DriftRecord(f"KB-9{i:05d}", "C-009", month(22 + i % 2, 3 + i), "Site B") for i in range(5)]
    recs += [DriftRecord(f"KB-8{i:05d}", "C-010", month(23, 3 + i), "Site B") for i in range(2)]  # too small
    report = detect_drift(recs, kinds=("emerging",))
    em = of_kind(report, "emerging")
    assert [s.cluster_id for s in em] == ["C-009"]
    assert em[0].start_period == "2022-11" and sorted(em[0].entry_ids) == sorted(
        f"KB-9{i:05d}" for i in range(5)
    )
    assert "5 of 5 at Site B" in em[0].message


# -- site concentration ----------------------------------------------------------------------------


def test_site_concentration_fires_for_a_transfer_gap():
    share = lambda c, m: 0.92 if (c == 2 and m >= 24) else 0.5  # noqa: E731
    recs = make_records(6, 36, seed=6, rate=3.0, site_b_share=share)
    report = detect_drift(recs, kinds=("site_concentration",))
    sc = of_kind(report, "site_concentration")
    assert [(s.cluster_id, s.site) for s in sc] == [("C-002", "Site B")]
    sig = sc[0]
    assert sig.statistic <= sig.threshold
    window = set(report.counts.periods[-12:])
    expected = {
        r.entry_id
        for r in recs
        if r.cluster_id == "C-002" and r.site == "Site B" and period_of(r.occurred_at, "month") in window
    }
    assert set(sig.entry_ids) == expected
    assert "concentrated at Site B" in sig.message


def test_site_test_uses_exposure_when_given():
    # Every cluster sits 75 % at Site B: against the other deviations nothing stands out, but
    # against equal batch counts everything does; with Site B running 3x the batches, nothing does.
    recs = make_records(4, 24, seed=7, rate=4.0, site_b_share=0.75)
    assert of_kind(detect_drift(recs, kinds=("site_concentration",)), "site_concentration") == []
    equal = detect_drift(recs, kinds=("site_concentration",), site_exposure={"Site A": 50, "Site B": 50})
    assert {s.cluster_id for s in of_kind(equal, "site_concentration")} == {
        "C-001",
        "C-002",
        "C-003",
        "C-004",
    }
    fair = detect_drift(recs, kinds=("site_concentration",), site_exposure={"Site A": 50, "Site B": 150})
    assert of_kind(fair, "site_concentration") == []


# -- repeat after fix ------------------------------------------------------------------------------


def test_repeat_after_fix_lists_the_repeats():
    recs = [DriftRecord(f"KB-{i:06d}", "C-001", month(i // 2, 10), "Site A") for i in range(24)]
    recs += [DriftRecord(f"KB-5{i:05d}", "C-002", month(i, 10), "Site B") for i in range(6)]
    fix_c1 = Fix(
        date(2021, 9, 1), entry_ids=("KB-000014", "KB-000015"), fix_id="CAPA-1"
    )  # linked via entries
    fix_c2 = Fix(date(2022, 1, 1), cluster_id="C-002", fix_id="CAPA-2")  # nothing after it
    report = detect_drift(recs, fixes=[fix_c1, fix_c2], kinds=("repeat_after_fix",))
    rep = of_kind(report, "repeat_after_fix")
    assert [s.cluster_id for s in rep] == ["C-001"]
    after = sorted(r.entry_id for r in recs if r.cluster_id == "C-001" and r.occurred_at > date(2021, 9, 1))
    assert sorted(rep[0].entry_ids) == after and rep[0].statistic == len(after)
    assert rep[0].start_period == "2021-09" and "CAPA-1 of 2021-09-01" in rep[0].message
    # A later fix takes over: repeats are charged to the fix in force, and by default only the fix in
    # force now is reported; the full history is available on request.
    fix_later = Fix(date(2021, 11, 1), cluster_id="C-001", fix_id="CAPA-3")
    current = of_kind(
        detect_drift(recs, fixes=[fix_c1, fix_later], kinds=("repeat_after_fix",)), "repeat_after_fix"
    )
    assert [s.details["fix_id"] for s in current] == ["CAPA-3"] and current[0].ongoing
    both = of_kind(
        detect_drift(recs, fixes=[fix_c1, fix_later], kinds=("repeat_after_fix",), only_current_fix=False),
        "repeat_after_fix",
    )
    assert [s.details["fix_id"] for s in both] == ["CAPA-1", "CAPA-3"]
    assert both[0].statistic + both[1].statistic == len(after)
    assert not both[0].ongoing and both[1].ongoing


def test_a_fix_that_lowered_the_rate_is_not_a_repeat():
    # Four a month before the fix, one stray case in the six months after it.
    recs = [DriftRecord(f"KB-{i:06d}", "C-001", month(i // 4, 5), "Site A") for i in range(24)]
    recs += [
        DriftRecord("KB-100000", "C-001", month(9, 5), "Site A"),
        DriftRecord("KB-100001", "C-001", month(11, 5), "Site A"),
    ]
    fix = Fix(month(5, 28), cluster_id="C-001", fix_id="CAPA-9")
    report = detect_drift(recs, fixes=[fix], kinds=("repeat_after_fix",), repeat_min=2)
    assert of_kind(report, "repeat_after_fix") == []


# -- determinism and the shuffle null --------------------------------------------------------------


def test_report_is_deterministic_and_order_independent():
    rate = lambda c, m: 5.0 if (c == 1 and m >= 30) else 2.0  # noqa: E731
    recs = make_records(5, 36, seed=9, rate=rate)
    a = detect_drift(recs).to_dict()
    shuffled = list(recs)
    np.random.default_rng(0).shuffle(shuffled)
    b = detect_drift(shuffled).to_dict()
    assert a == b
    assert a["signals"], "the constructed rise should signal"


def test_shuffle_destroys_a_real_rise_and_is_reproducible():
    rate = lambda c, m: 7.0 if (c == 3 and m >= 26) else 2.0  # noqa: E731
    recs = make_records(6, 36, seed=11, rate=rate)
    # Permuting dates keeps the monthly volume, which the rise itself inflated; rates relative to
    # all deviations (exposure="total") make the shuffled record a proper null.
    assert any(s.cluster_id == "C-003" for s in of_kind(detect_drift(recs, exposure="total"), "rising"))
    runs = shuffle_false_alarm_rate(recs, n_shuffles=12, seed=5, exposure="total")
    again = shuffle_false_alarm_rate(recs, n_shuffles=12, seed=5, exposure="total")
    assert len(runs) == 12
    assert [[s.to_dict() for s in r] for r in runs] == [[s.to_dict() for s in r] for r in again]
    hits = sum(any(s.kind == "rising" and s.cluster_id == "C-003" for s in r) for r in runs)
    assert hits <= 2
    # Chance signals of any cluster stay near the budget: 0.5 rising a year over 1.5 monitored years.
    assert sum(len(r) for r in runs) / len(runs) < 1.5
