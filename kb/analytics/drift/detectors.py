"""detect_drift: the detectors run over one record (rising, site concentration, emerging, repeat after fix),
and the shuffled-dates null. Each detector is its own module beside this one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from kb.analytics.drift.concentration import _site_concentration
from kb.analytics.drift.context import _above, _Context
from kb.analytics.drift.model import (
    DEFAULT_BUDGET_SPLIT,
    PERIODS_PER_YEAR,
    SIGNAL_KINDS,
    DriftRecord,
    DriftReport,
    Fix,
    Signal,
    _single_thread,
)
from kb.analytics.drift.periods import _coerce, count_by_period
from kb.analytics.drift.rising import _rising
from kb.analytics.drift.rules import _emerging, _repeat_after_fix
from kb.analytics.drift.terms import _term_bursts


@_single_thread
def detect_drift(
    records: Iterable[Any],
    *,
    period: str = "month",
    fixes: Iterable[Fix] = (),
    exposure: Mapping[str, float] | str | None = None,
    site_exposure: Mapping[str, float] | None = None,
    labels: Mapping[str, Any] | None = None,
    kinds: Sequence[str] = SIGNAL_KINDS,
    false_alarms_per_year: float = 1.0,
    budget_split: Mapping[str, float] | None = None,
    reports_per_year: float | None = None,
    baseline_periods: int | None = None,
    min_baseline_periods: int = 6,
    mu0_floor: float = 0.5,
    shift: float = 2.0,
    emerging_periods: int | None = None,
    emerging_min_size: int = 3,
    site_window: int | None = None,
    site_min_count: int = 3,
    repeat_min: int = 1,
    only_current_fix: bool = True,
    start: date | str | None = None,
    end: date | str | None = None,
    known_gaps: Iterable[str] = (),
    entry_terms: Mapping[str, Sequence[str]] | None = None,
) -> DriftReport:
    """Run the drift detectors over clustered deviation records and return signals with their evidence.

    entry_terms ({entry id: salient words}, terms.record_terms) turns on the term-burst detector.
    """
    if period not in PERIODS_PER_YEAR:
        raise ValueError(f"period must be 'week' or 'month', not '{period}'")
    unknown = set(kinds) - set(SIGNAL_KINDS)
    if unknown:
        raise ValueError(f"unknown signal kinds {sorted(unknown)}; expected some of {list(SIGNAL_KINDS)}")
    if shift <= 1:
        raise ValueError("shift must be above 1 (the out-of-control mean is shift * mu0)")
    if false_alarms_per_year <= 0:
        raise ValueError("false_alarms_per_year must be positive")
    recs = _coerce(records)
    ppy = PERIODS_PER_YEAR[period]
    weights = dict(DEFAULT_BUDGET_SPLIT if budget_split is None else budget_split)
    # The budget is shared by the statistical detectors actually run: running one alone gives it all.
    runnable = set(kinds) - ({"term_burst"} if not entry_terms else set())
    used = {k: float(w) for k, w in weights.items() if k in runnable and w > 0}
    split = {k: w / sum(used.values()) for k, w in used.items()} if used else {}
    rpy = float(reports_per_year) if reports_per_year else float(ppy)
    known_gaps = tuple(sorted(set(known_gaps)))
    counts = count_by_period(recs, period, start=start, end=end, known_gaps=known_gaps)
    clusters = sorted(counts.by_cluster)
    n_clusters = len(clusters)
    params: dict[str, Any] = {
        "period": period,
        "periods_per_year": ppy,
        "kinds": list(kinds),
        "false_alarms_per_year": false_alarms_per_year,
        "budget_split": split,
        "reports_per_year": rpy,
        "baseline_periods": baseline_periods,
        "min_baseline_periods": min_baseline_periods,
        "mu0_floor": mu0_floor,
        "shift": shift,
        "emerging_periods": emerging_periods or max(2, math.ceil(ppy / 4)),
        "emerging_min_size": emerging_min_size,
        "site_window": site_window or ppy,
        "site_min_count": site_min_count,
        "repeat_min": repeat_min,
        "exposure": exposure if isinstance(exposure, str) or exposure is None else "per-period mapping",
        "site_exposure": dict(site_exposure) if site_exposure else None,
        "known_gaps": list(known_gaps),
        "n_records": len(recs),
        "n_clusters": n_clusters,
        "first_period": counts.periods[0] if counts.periods else None,
        "last_period": counts.periods[-1] if counts.periods else None,
    }
    notes: list[str] = []
    if counts.gaps:
        notes.append(
            f"{len(counts.gaps)} period(s) with no records at all are treated as gaps, not zeros: "
            + ", ".join(counts.gaps[:12])
            + (" ..." if len(counts.gaps) > 12 else "")
        )
    far: dict[str, Any] = {"unit": "expected chance signals per year across all watched clusters"}
    signals: list[Signal] = []
    ctx = _Context(recs, counts, period, labels)
    # The cluster charts and the word charts are the same CUSUM with the same settings.
    chart = {
        "exposure": exposure,
        "baseline_periods": baseline_periods,
        "min_baseline_periods": min_baseline_periods,
        "mu0_floor": mu0_floor,
        "shift": shift,
    }
    if "rising" in kinds:
        sig, info = _rising(
            ctx, budget=false_alarms_per_year * split.get("rising", 0.0), notes=notes, **chart
        )
        signals += sig
        far["rising"] = info
    if "term_burst" in runnable:
        budget = false_alarms_per_year * split.get("term_burst", 0.0)
        # notes=[]: the rising detector already said whether the history is long enough.
        sig, info = _term_bursts(ctx, entry_terms or {}, budget=budget, notes=[], **chart)
        signals += sig
        far["term_burst"] = info
    if "site_concentration" in kinds:
        sig, info = _site_concentration(
            ctx,
            site_exposure=site_exposure,
            budget=false_alarms_per_year * split.get("site_concentration", 0.0),
            reports_per_year=rpy,
            window=params["site_window"],
            min_count=site_min_count,
            notes=notes,
        )
        signals += sig
        far["site_concentration"] = info
    if "emerging" in kinds:
        signals += _emerging(ctx, window=params["emerging_periods"], min_size=emerging_min_size)
        far["emerging"] = {
            "rate_per_year": None,
            "note": "rule-based (all members recent), not a statistical test",
        }
    if "repeat_after_fix" in kinds:
        signals += _repeat_after_fix(
            ctx, list(fixes), repeat_min=repeat_min, notes=notes, only_current=only_current_fix
        )
        far["repeat_after_fix"] = {
            "rate_per_year": None,
            "note": "rule-based (any member after a linked fix)",
        }
    far["total_per_year"] = round(
        sum(v["rate_per_year"] for k, v in far.items() if isinstance(v, dict) and v.get("rate_per_year")), 6
    )
    order = {k: i for i, k in enumerate(SIGNAL_KINDS)}
    signals.sort(key=lambda s: (order[s.kind], s.cluster_id, s.site or "", s.start_period))
    return DriftReport(signals=signals, counts=counts, params=params, false_alarm_rate=far, notes=notes)


def shuffle_false_alarm_rate(
    records: Iterable[Any],
    n_shuffles: int = 100,
    seed: int = 0,
    *,
    shuffle_sites: bool = False,
    kinds: Sequence[str] = ("rising", "term_burst", "site_concentration", "emerging"),
    **detect_kwargs: Any,
) -> list[list[Signal]]:
    """Return the signals of each of n_shuffles reruns with dates permuted across records (a null)."""
    # Permuting dates keeps each cluster's size, the set of dates (so the same gaps) and, unless
    # shuffle_sites, each record's site; it removes any link between cluster and time.
    recs = sorted(_coerce(records), key=lambda r: r.entry_id)
    rng = np.random.default_rng(seed)
    dates = [r.occurred_at for r in recs]
    sites = [r.site for r in recs]
    out = []
    for _ in range(n_shuffles):
        perm = rng.permutation(len(recs))
        sperm = rng.permutation(len(recs)) if shuffle_sites else np.arange(len(recs))
        shuffled = [
            DriftRecord(r.entry_id, r.cluster_id, dates[perm[i]], sites[sperm[i]]) for i, r in enumerate(recs)
        ]
        out.append(detect_drift(shuffled, kinds=kinds, **detect_kwargs).signals)
    return out


__all__ = ["_above", "detect_drift", "shuffle_false_alarm_rate"]
