"""What drift watches (counts or shares) decided from the record, and calibration against permuted dates.

- choose_exposure: counts when the record's total volume per period is steady, shares of all deviations
  when it moves (raw counts then rise with the volume, and every cluster looks like it is drifting).
- calibrate: re-run the detectors on the record with the dates permuted N times (clusters, sites and
  the month totals kept; any link between cluster and time broken) and report the measured false-alarm
  rate beside the nominal one, and how unusual each real signal is against that null.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from kb.analytics.drift import (
    PERIODS_PER_YEAR,
    DriftRecord,
    DriftReport,
    _coerce,
    count_by_period,
    detect_drift,
)

# Below this p-value the total per period is taken to move with more than Poisson noise.
VOLUME_ALPHA = 0.01


@dataclass
class ExposureChoice:
    """What the rising detector watches and why: 'total' (shares) or None (counts)."""

    exposure: str | None
    reason: str
    dispersion: float | None = None
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the choice as a JSON-ready dict."""
        return asdict(self)


def choose_exposure(
    records: Iterable[Any],
    period: str = "month",
    *,
    start: Any = None,
    known_gaps: Iterable[str] = (),
    alpha: float = VOLUME_ALPHA,
) -> ExposureChoice:
    """Return counts or shares for this record: shares when the total per period is over-dispersed."""
    # chi2.sf(x, dof) is the regularised upper incomplete gamma Q(dof/2, x/2); scipy.special imports in
    # a fifth of the time scipy.stats takes, which counts for a command that should start in under 1.5 s.
    from scipy.special import gammaincc

    counts = count_by_period(records, period, start=start, known_gaps=known_gaps)
    totals = np.array([t for t in counts.total if t is not None], dtype=np.float64)
    if len(totals) < 3 or totals.mean() <= 0:
        return ExposureChoice(None, "counts: too few periods with records to test whether the volume moves")
    # Index of dispersion: a steady Poisson volume gives sum((x - mean)^2) / mean ~ chi2(n - 1).
    disp = float(((totals - totals.mean()) ** 2).sum() / totals.mean())
    dof = len(totals) - 1
    p = float(gammaincc(dof / 2, disp / 2))
    lo, hi = int(totals.min()), int(totals.max())
    span = f"{lo}..{hi} per {period}, dispersion {disp / dof:.1f}x Poisson, p = {p:.2g}"
    if p < alpha:
        return ExposureChoice(
            "total",
            f"shares of all deviations: the total volume moves more than chance ({span}), so raw counts "
            "would rise and fall with it",
            round(disp / dof, 4),
            p,
        )
    return ExposureChoice(None, f"counts: the total volume is steady ({span})", round(disp / dof, 4), p)


@dataclass
class Calibration:
    """Measured false alarms with permuted dates (and sites) beside the nominal rates."""

    n_permutations: int
    seed: int
    monitored_years: float
    nominal_per_year: dict[str, float | None]
    measured_per_year: dict[str, float]
    per_permutation: dict[str, list[int]]
    signal_p_values: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the calibration as a JSON-ready dict."""
        return asdict(self)

    def summary(self) -> str:
        """Return one sentence: measured vs nominal chance signals per year."""
        m, nom = self.measured_per_year, self.nominal_per_year
        return (
            f"calibration ({self.n_permutations} date permutations): {m.get('total', 0):.2f} chance signals "
            f"a year measured (rising {m.get('rising', 0):.2f}, words {m.get('term_burst', 0):.2f}, "
            f"site {m.get('site_concentration', 0):.2f}, "
            f"emerging {m.get('emerging', 0):.2f}) vs {nom.get('total') or 0:.2f} nominal"
        )


def signal_key(signal: Any) -> str:
    """Return a key naming one signal: kind, cluster, site and start."""
    return f"{signal.kind}:{signal.cluster_id}:{signal.site or ''}:{signal.start_period}"


def _monitored_years(report: DriftReport) -> float:
    rising = report.false_alarm_rate.get("rising", {})
    base = rising.get("baseline")
    periods = report.counts.periods
    ppy = PERIODS_PER_YEAR[report.params["period"]]
    if base and base[1] in periods:
        return max(len(periods) - periods.index(base[1]) - 1, 1) / ppy
    return max(len(periods), 1) / ppy


def _max_ratio(report: DriftReport, kind: str = "rising") -> float:
    """Return the highest S/h any chart of a kind reached (clusters for rising, words for term_burst)."""
    info = report.false_alarm_rate.get(kind, {})
    per = info.get("per_cluster") or info.get("per_term") or {}
    return max((v["max_s"] / v["h"] for v in per.values() if v.get("h")), default=0.0)


def calibrate(
    records: Iterable[Any],
    report: DriftReport,
    n_permutations: int = 20,
    seed: int = 0,
    **detect_kwargs: Any,
) -> Calibration:
    """Return measured false alarms over n permutations and each real signal's empirical p-value.

    Dates are permuted across all records for rising and emerging (each cluster's size, each month's
    total and each record's site kept). The site test's null permutes the sites instead: a site that
    truly concentrates a cluster over the whole record does so in any permuted year, which is a real
    concentration, not a chance signal. A signal's p-value is (1 + permutations whose most extreme
    cluster is at least as extreme) / (N + 1): a family-wise figure over all clusters.
    """
    if n_permutations < 1:
        raise ValueError("n_permutations must be at least 1")
    recs = sorted(_coerce(records), key=lambda r: r.entry_id)
    rng = np.random.default_rng(seed)
    dates = [r.occurred_at for r in recs]
    sites = [r.site for r in recs]
    kinds = report.params["kinds"]
    years = _monitored_years(report)
    ppy = PERIODS_PER_YEAR[report.params["period"]]
    rpy = float(report.params.get("reports_per_year") or ppy)
    counts: dict[str, list[int]] = {"rising": [], "term_burst": [], "emerging": [], "site_concentration": []}
    max_ratio: list[float] = []
    max_word_ratio: list[float] = []
    min_p: list[float] = []
    date_kinds = tuple(k for k in ("rising", "term_burst", "emerging") if k in kinds)
    for _ in range(n_permutations):
        perm = rng.permutation(len(recs))
        if date_kinds:
            shuffled = [
                DriftRecord(r.entry_id, r.cluster_id, dates[perm[i]], r.site) for i, r in enumerate(recs)
            ]
            rep = detect_drift(shuffled, kinds=date_kinds, **detect_kwargs)
            for kind in ("rising", "term_burst", "emerging"):
                counts[kind].append(sum(s.kind == kind for s in rep.signals))
            max_ratio.append(_max_ratio(rep))
            max_word_ratio.append(_max_ratio(rep, "term_burst"))
        if "site_concentration" in kinds:
            sperm = rng.permutation(len(recs))
            moved = [
                DriftRecord(r.entry_id, r.cluster_id, r.occurred_at, sites[sperm[i]])
                for i, r in enumerate(recs)
            ]
            rep = detect_drift(moved, kinds=("site_concentration",), **detect_kwargs)
            counts["site_concentration"].append(sum(s.kind == "site_concentration" for s in rep.signals))
            ratio = rep.false_alarm_rate.get("site_concentration", {}).get("min_p_ratio")
            min_p.append(float("inf") if ratio is None else ratio)
    measured = {
        "rising": float(np.mean(counts["rising"])) / years if counts["rising"] else 0.0,
        "term_burst": float(np.mean(counts["term_burst"])) / years if counts["term_burst"] else 0.0,
        "emerging": float(np.mean(counts["emerging"])) / years if counts["emerging"] else 0.0,
        # One site test per report: the mean per report times the reports read in a year (an upper
        # bound, since a chance concentration stays in the window of the next reports).
        "site_concentration": float(np.mean(counts["site_concentration"])) * rpy
        if counts["site_concentration"]
        else 0.0,
    }
    measured = {k: round(v, 4) for k, v in measured.items()}
    measured["total"] = round(sum(measured.values()), 4)
    far = report.false_alarm_rate
    nominal = {
        "rising": far.get("rising", {}).get("rate_per_year"),
        "term_burst": far.get("term_burst", {}).get("rate_per_year"),
        "site_concentration": far.get("site_concentration", {}).get("rate_per_year"),
        "emerging": None,
        "total": far.get("total_per_year"),
    }
    pvals: dict[str, float] = {}
    per_cluster = far.get("rising", {}).get("per_cluster", {})
    for s in report.signals:
        if s.kind == "rising" and max_ratio:
            h = per_cluster.get(s.cluster_id, {}).get("h") or s.threshold
            ratio = s.statistic / h
            pvals[signal_key(s)] = round((1 + sum(r >= ratio for r in max_ratio)) / (1 + len(max_ratio)), 4)
        elif s.kind == "term_burst" and max_word_ratio:
            h = s.threshold
            ratio = s.statistic / h
            pvals[signal_key(s)] = round(
                (1 + sum(r >= ratio for r in max_word_ratio)) / (1 + len(max_word_ratio)), 4
            )
        elif s.kind == "site_concentration" and min_p:
            n_tests = s.details.get("n_tests") or 1
            ratio = s.statistic / (s.details.get("alpha_per_report", 1.0) / n_tests)
            pvals[signal_key(s)] = round((1 + sum(r <= ratio for r in min_p)) / (1 + len(min_p)), 4)
    return Calibration(
        n_permutations=n_permutations,
        seed=seed,
        monitored_years=round(years, 3),
        nominal_per_year=nominal,
        measured_per_year=measured,
        per_permutation=counts,
        signal_p_values=pvals,
        note=(
            "rising, term bursts and emerging: dates permuted across records (each record keeps its words); "
            "site concentration: sites permuted "
            "(a date permutation keeps a site's real, whole-record concentration)"
        ),
    )


def describe_missing_dates(n_dated: int, n_total: int, entry_type: str = "deviation") -> str | None:
    """Return what is missing when records lack dates, and what to do; None when all are dated."""
    if n_total == 0:
        return f"no {entry_type} entries yet: import or add deviations, then run drift"
    if n_dated == n_total:
        return None
    head = f"occurred_at is set on {n_dated} of {n_total} {entry_type} entries"
    todo = (
        "drift needs a date per deviation: re-import with --map occurred_at=COLUMN, or set it with "
        "`tacitkb edit ID --set occurred_at=YYYY-MM-DD --reason ...`"
    )
    if n_dated == 0:
        return f"{head}: drift cannot run; {todo}"
    return f"{head}; the {n_total - n_dated} undated ones are left out of drift; {todo}"
