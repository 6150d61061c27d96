"""The rising detector: a CUSUM per cluster against its baseline, thresholds calibrated to the budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kb.analytics.drift.context import _above, _Context, _fmt, _label, _site_phrase
from kb.analytics.drift.cusum import _resolution, calibrate_h, cusum_reference, family_arl
from kb.analytics.drift.model import (
    PERIODS_PER_YEAR,
    Signal,
)


def baseline_length(
    n_periods: int, period: str, baseline_periods: int | None, min_baseline_periods: int
) -> int:
    """Return how many leading periods form the baseline (the default rule below, or the caller's)."""
    base_n = (
        baseline_periods
        if baseline_periods is not None
        else max(min_baseline_periods, min(n_periods // 2, 3 * PERIODS_PER_YEAR[period]))
    )
    return min(base_n, n_periods)


def _rising(
    ctx: _Context,
    *,
    exposure: Mapping[str, float] | str | None,
    budget: float,
    baseline_periods: int | None,
    min_baseline_periods: int,
    mu0_floor: float,
    shift: float,
    notes: list[str],
    baseline_uncertainty: bool = True,
) -> tuple[list[Signal], dict[str, Any]]:
    counts = ctx.counts
    n_p = len(counts.periods)
    clusters = sorted(counts.by_cluster)
    ppy = PERIODS_PER_YEAR[ctx.period]
    info: dict[str, Any] = {"rate_per_year": None}
    if budget <= 0 or not clusters:
        return [], info
    arl = family_arl(len(clusters), ppy, budget)
    info.update(
        {
            "rate_per_year": round(budget, 6),
            "per_cluster_arl_periods": round(arl, 3),
            "n_clusters": len(clusters),
        }
    )
    # Default baseline: the first half of the history, at most three years. A longer baseline would
    # swallow the start of a wave in a long record (the 2018 nitrosamine recalls in FDA's 2012-2026
    # record), and the chart cannot date a change before its monitoring begins.
    base_n = baseline_length(n_p, ctx.period, baseline_periods, min_baseline_periods)
    usable = [i for i in range(base_n) if not ctx.gap[i]]
    if len(usable) < min_baseline_periods or base_n >= n_p:
        notes.append(
            f"rising: not run; needs at least {min_baseline_periods} baseline periods with data and a later "
            f"monitoring period (have {len(usable)} of {n_p} periods)"
        )
        info["rate_per_year"] = None
        info["note"] = "not run (history too short)"
        return [], info
    info["baseline"] = [counts.periods[0], counts.periods[base_n - 1]]
    # Exposure per period (None where unknown: treated like a gap).
    if exposure is None:
        expo = [1.0] * n_p
    elif exposure == "total":
        expo = [float(t) if t else None for t in counts.total]
    elif isinstance(exposure, Mapping):
        expo = [float(exposure[p]) if p in exposure and exposure[p] else None for p in counts.periods]
    else:
        raise ValueError("exposure must be None, 'total' or a mapping period -> batches")
    active = np.array([not ctx.gap[i] and expo[i] is not None for i in range(n_p)], dtype=bool)
    base_idx = [i for i in range(base_n) if active[i]]
    if not base_idx:
        notes.append("rising: not run; no baseline period has both data and exposure")
        info["rate_per_year"] = None
        info["note"] = "not run (no exposure in the baseline)"
        return [], info
    mean_e = float(np.mean([expo[i] for i in base_idx]))
    signals: list[Signal] = []
    per_cluster = {}
    for cid in clusters:
        x = counts.by_cluster[cid]
        base_count = sum(x[i] or 0 for i in base_idx)
        base_expo = sum(expo[i] for i in base_idx)
        mu0_raw = base_count / base_expo * mean_e  # per period at the baseline's mean exposure
        # Floor: a baseline of zero or one event would make any later event an alarm.
        mu0 = max(mu0_raw, mu0_floor)
        mu1 = shift * mu0
        k = cusum_reference(mu0, mu1)
        m = _resolution(mu0)
        k = round(k * m) / m  # the chain's grid value: the ARL below is exact for this k
        # Calibrate for the true in-control mean being any plausible value given the baseline.
        h = calibrate_h(
            mu0, k, arl, baseline=(base_count, base_expo / mean_e) if baseline_uncertainty else None
        )
        per_cluster[cid] = {"mu0": round(mu0, 6), "mu0_observed": round(mu0_raw, 6), "k": k, "h": h}
        # One signal per CUSUM excursion (S > 0 without a break): its start is the change-point
        # estimate (the last period S was zero), so QA reads "since when" directly. Not resetting
        # after the alarm keeps a sustained shift to one signal; it can only lower the count of
        # chance signals below the reset-chart rate the ARL describes.
        runs: list[tuple[int, int, float, int, bool]] = []  # start, end, peak, alarm period, ongoing
        s = 0.0
        run_start: int | None = None
        peak, alarm_at, last_active = 0.0, -1, -1
        max_s = 0.0
        for i in range(base_n, n_p):
            if not active[i]:
                continue  # a gap: no update, so it is neither a drop nor a rise
            kt = k * expo[i] / mean_e
            s_new = max(0.0, s + (x[i] or 0) - kt)
            if s_new > 0 and s == 0:
                run_start, peak, alarm_at = i, 0.0, -1
            s = s_new
            max_s = max(max_s, s)
            if s > 0:
                peak = max(peak, s)
                if s > h and alarm_at < 0:
                    alarm_at = i
                last_active = i
            elif run_start is not None:
                if alarm_at >= 0:
                    runs.append((run_start, last_active, peak, alarm_at, False))
                run_start = None
        if run_start is not None and alarm_at >= 0:
            runs.append((run_start, n_p - 1, peak, alarm_at, True))
        # The chart's highest S over the whole monitoring, alarm or not: calibration compares a signal
        # with the highest S/h any cluster reaches in a record with the dates permuted.
        per_cluster[cid]["max_s"] = round(max_s, 6)
        for lo, hi, pk, al, ongoing in runs:
            evidence = ctx.in_periods(cid, lo, hi)
            run_idx = [i for i in range(lo, hi + 1) if active[i]]
            rate = len(evidence) / max(len(run_idx), 1)
            # Say the rate in the unit the chart watches: per period, per batch, or share of all.
            if exposure is None:
                change = f"{_fmt(mu0)} to {_fmt(rate)} per {ctx.period}"
            else:
                run_expo = sum(expo[i] for i in run_idx) or 1.0
                before, after = mu0 / mean_e, len(evidence) / run_expo
                if exposure == "total":
                    change = f"{before:.0%} to {after:.0%} of all deviations"
                else:
                    change = f"{_fmt(before)} to {_fmt(after)} per batch"
            msg = (
                f"{_label(cid, ctx.labels)} rose from {change} since "
                f"{counts.periods[lo]} ({len(evidence)} deviations{_site_phrase(evidence)}); "
                f"CUSUM {_above(pk, h)}{', still rising' if ongoing else ''}."
            )
            signals.append(
                Signal(
                    cluster_id=cid,
                    kind="rising",
                    site=None,
                    start_period=counts.periods[lo],
                    statistic=round(pk, 6),
                    threshold=h,
                    entry_ids=[r.entry_id for r in evidence],
                    message=msg,
                    end_period=counts.periods[hi],
                    ongoing=ongoing,
                    false_alarm_rate=round(budget, 6),
                    details={
                        "mu0": round(mu0, 6),
                        "mu1": round(mu1, 6),
                        "k": k,
                        "alarm_period": counts.periods[al],
                        "rate_in_run": round(rate, 6),
                        "in_control_arl_periods": round(arl, 3),
                    },
                )
            )
    info["per_cluster"] = per_cluster
    return signals, info
