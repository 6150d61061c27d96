"""The detectors: rising, site concentration, emerging, repeat after fix; detect_drift and the shuffle null."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from kb.analytics.drift.cusum import _resolution, calibrate_h, cusum_reference, family_arl
from kb.analytics.drift.model import (
    DEFAULT_BUDGET_SPLIT,
    HELD_RATE_RATIO,
    PERIODS_PER_YEAR,
    SIGNAL_KINDS,
    DriftRecord,
    DriftReport,
    Fix,
    PeriodCounts,
    Signal,
    _single_thread,
)
from kb.analytics.drift.periods import _coerce, count_by_period, period_of, to_date

# -- detectors ---------------------------------------------------------------------------------------


def _label(cid: str, labels: Mapping[str, Any] | None) -> str:
    if not labels or cid not in labels:
        return cid
    lab = labels[cid]
    text = ", ".join(lab[:3]) if isinstance(lab, (list, tuple)) else str(lab)
    return f"{cid} ({text})" if text else cid


def _site_phrase(recs: Sequence[DriftRecord]) -> str:
    sites = Counter(r.site for r in recs if r.site is not None)
    if not sites:
        return ""
    site, cnt = sorted(sites.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return f", {cnt} of {len(recs)} at {site}"


def _fmt(x: float) -> str:
    return f"{x:.2g}" if abs(x) < 1 else f"{x:.1f}"


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
) -> DriftReport:
    """Run the drift detectors over clustered deviation records and return signals with their evidence."""
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
    used = {k: float(w) for k, w in weights.items() if k in kinds and w > 0}
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
    if "rising" in kinds:
        sig, info = _rising(
            ctx,
            exposure=exposure,
            budget=false_alarms_per_year * split.get("rising", 0.0),
            baseline_periods=baseline_periods,
            min_baseline_periods=min_baseline_periods,
            mu0_floor=mu0_floor,
            shift=shift,
            notes=notes,
        )
        signals += sig
        far["rising"] = info
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


class _Context:
    """Records and counts shared by the detectors, indexed once."""

    def __init__(
        self, recs: list[DriftRecord], counts: PeriodCounts, period: str, labels: Mapping[str, Any] | None
    ):
        self.recs = recs
        self.counts = counts
        self.period = period
        self.labels = labels
        self.index = {p: i for i, p in enumerate(counts.periods)}
        self.gap = np.array([counts.is_gap(i) for i in range(len(counts.periods))], dtype=bool)
        self.by_cluster: dict[str, list[DriftRecord]] = defaultdict(list)
        self.pidx: dict[str, int] = {}
        for r in recs:
            i = self.index.get(period_of(r.occurred_at, period))
            if i is None:
                continue
            self.pidx[r.entry_id] = i
            if r.cluster_id is not None:
                self.by_cluster[r.cluster_id].append(r)

    def in_periods(self, cid: str, lo: int, hi: int, site: str | None = None) -> list[DriftRecord]:
        """Return the cluster's records in periods lo..hi (inclusive), optionally at one site."""
        return [
            r
            for r in self.by_cluster.get(cid, [])
            if lo <= self.pidx[r.entry_id] <= hi
            and (site is None or r.site == site)
            and not self.gap[self.pidx[r.entry_id]]
        ]


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
    base_n = (
        baseline_periods
        if baseline_periods is not None
        else max(min_baseline_periods, min(n_p // 2, 3 * PERIODS_PER_YEAR[ctx.period]))
    )
    base_n = min(base_n, n_p)
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
        h = calibrate_h(mu0, k, arl, baseline=(base_count, base_expo / mean_e))
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


def _holm_thresholds(m: int, alpha: float) -> list[float]:
    return [alpha / (m - r) for r in range(m)]


def _site_concentration(
    ctx: _Context,
    *,
    site_exposure: Mapping[str, float] | None,
    budget: float,
    reports_per_year: float,
    window: int,
    min_count: int,
    notes: list[str],
) -> tuple[list[Signal], dict[str, Any]]:
    from scipy.stats import binom, fisher_exact

    counts = ctx.counts
    n_p = len(counts.periods)
    info: dict[str, Any] = {"rate_per_year": None}
    if budget <= 0 or n_p == 0:
        return [], info
    lo = max(0, n_p - window)
    # The family-wise error per report: the yearly budget spread over the reports read in a year.
    alpha = min(1.0, budget / reports_per_year)
    win = [
        r for r in ctx.recs if r.entry_id in ctx.pidx and ctx.pidx[r.entry_id] >= lo and r.site is not None
    ]
    win = [r for r in win if not ctx.gap[ctx.pidx[r.entry_id]]]
    sites = sorted({r.site for r in win} | (set(site_exposure) if site_exposure else set()))
    info.update(
        {
            "rate_per_year": round(budget, 6),
            "alpha_per_report": round(alpha, 8),
            "window": [counts.periods[lo], counts.periods[-1]],
            "reference": "site exposure" if site_exposure else "share of all other deviations",
        }
    )
    if len(sites) < 2:
        notes.append("site_concentration: not run; fewer than two sites in the window")
        info["note"] = "not run (fewer than two sites)"
        info["rate_per_year"] = None
        return [], info
    by_c: dict[str, list[DriftRecord]] = defaultdict(list)
    for r in win:
        by_c[r.cluster_id].append(r)  # type: ignore[index]
    all_site = Counter(r.site for r in win)
    tests = []  # (p, cid, site, x, n, share)
    for cid in sorted(c for c in by_c if c is not None):
        members = by_c[cid]
        n = len(members)
        if n < min_count:
            continue
        xs = Counter(r.site for r in members)
        for site in sites:
            x = xs[site]
            if site_exposure:
                # Exposure is known exactly: the site's count given the cluster total is binomial.
                tot = sum(float(site_exposure.get(s, 0.0)) for s in sites)
                share = float(site_exposure.get(site, 0.0)) / tot if tot else 0.0
                if share <= 0:
                    continue
                p = float(binom.sf(x - 1, n, share)) if x > n * share else 1.0
            else:
                # The reference share is itself estimated from the rest of the record, so compare
                # cluster vs rest in a 2 x 2 table (Fisher's exact test, one-sided): treating the
                # estimate as known would fire too often. The cluster never sets its own reference.
                rest = all_site[site] - x
                rest_total = len(win) - n
                if rest_total <= 0:
                    continue
                share = rest / rest_total
                if x > n * share:
                    table = [[x, n - x], [rest, rest_total - rest]]
                    p = float(fisher_exact(table, alternative="greater").pvalue)
                else:
                    p = 1.0
            tests.append((p, cid, site, x, n, share))
    m = len(tests)
    info["n_tests"] = m
    # The smallest p-value relative to Holm's first threshold: calibration's null statistic.
    info["min_p_ratio"] = min((t[0] / (alpha / m) for t in tests), default=None)
    if m == 0:
        return [], info
    thresholds = _holm_thresholds(m, alpha)
    info["bonferroni_threshold"] = round(alpha / m, 10)
    signals = []
    ordered = sorted(tests, key=lambda t: (t[0], t[1], t[2]))
    for rank, (p, cid, site, x, n, share) in enumerate(ordered):
        thr = thresholds[rank]
        if p > thr:
            break  # Holm's step-down: stop at the first test that fails
        evidence = [r for r in by_c[cid] if r.site == site]
        first = min(ctx.pidx[r.entry_id] for r in evidence)
        expected = n * share
        ref = "its share of batches" if site_exposure else "its share of all other deviations"
        msg = (
            f"{_label(cid, ctx.labels)} is concentrated at {site}: {x} of {n} deviations in "
            f"{counts.periods[lo]}..{counts.periods[-1]} vs {expected:.1f} expected from {ref} "
            f"({share:.0%}), {x / expected if expected else float('inf'):.1f}x, p = {p:.2g} "
            f"(threshold {thr:.2g} after Holm over {m} tests)."
        )
        signals.append(
            Signal(
                cluster_id=cid,
                kind="site_concentration",
                site=site,
                start_period=counts.periods[first],
                statistic=p,
                threshold=thr,
                entry_ids=[r.entry_id for r in evidence],
                message=msg,
                end_period=counts.periods[-1],
                ongoing=True,
                false_alarm_rate=round(budget, 6),
                details={
                    "p_value": p,
                    "observed": x,
                    "cluster_total": n,
                    "expected_share": round(share, 6),
                    "expected": round(expected, 6),
                    "ratio": round(x / expected, 6) if expected else None,
                    "n_tests": m,
                    "alpha_per_report": alpha,
                    "note": "statistic is a p-value: the signal fires when it is at or below the threshold",
                },
            )
        )
    return signals, info


def _emerging(ctx: _Context, *, window: int, min_size: int) -> list[Signal]:
    counts = ctx.counts
    n_p = len(counts.periods)
    lo = max(0, n_p - window)
    # Only meaningful when the record reaches back before the window; otherwise everything is "new".
    if not any(not ctx.gap[i] for i in range(lo)):
        return []
    out = []
    for cid in sorted(ctx.by_cluster):
        recs = [r for r in ctx.by_cluster[cid] if not ctx.gap[ctx.pidx[r.entry_id]]]
        if len(recs) < min_size:
            continue
        first = min(ctx.pidx[r.entry_id] for r in recs)
        if first < lo:
            continue
        msg = (
            f"{_label(cid, ctx.labels)} is new: all {len(recs)} deviations fall in the last {window} "
            f"{ctx.period}s (since {counts.periods[first]}{_site_phrase(recs)})."
        )
        out.append(
            Signal(
                cluster_id=cid,
                kind="emerging",
                site=None,
                start_period=counts.periods[first],
                statistic=float(len(recs)),
                threshold=float(min_size),
                entry_ids=[r.entry_id for r in recs],
                message=msg,
                end_period=counts.periods[-1],
                ongoing=True,
                details={"window_periods": window},
            )
        )
    return out


def _clamp_index(ctx: _Context, day: date) -> int:
    """Return the index of the period holding day, clamped to the counted range."""
    p = period_of(day, ctx.period)
    periods = ctx.counts.periods
    if p in ctx.index:
        return ctx.index[p]
    return 0 if p < periods[0] else len(periods) - 1


def _repeat_after_fix(
    ctx: _Context, fixes: list[Fix], *, repeat_min: int, notes: list[str], only_current: bool = True
) -> list[Signal]:
    counts = ctx.counts
    cluster_of = {r.entry_id: r.cluster_id for r in ctx.recs}
    # Resolve each fix to the clusters it addresses.
    per_cluster: dict[str, list[tuple[date, Fix]]] = defaultdict(list)
    for fx in fixes:
        when = to_date(fx.fixed_at)
        targets = {fx.cluster_id} if fx.cluster_id else {cluster_of.get(e) for e in fx.entry_ids}
        targets.discard(None)
        if not targets:
            notes.append(
                f"repeat_after_fix: fix {fx.fix_id or when.isoformat()} links to no clustered deviation"
            )
        for cid in targets:
            per_cluster[cid].append((when, fx))  # type: ignore[index]
    out = []
    for cid in sorted(per_cluster):
        items = sorted(per_cluster[cid], key=lambda t: (t[0], t[1].fix_id or ""))
        recs = list(ctx.by_cluster.get(cid, []))
        for n, (when, fx) in enumerate(items):
            if only_current and n + 1 < len(items):
                continue  # a later fix superseded this one; QA acts on the fix in force now
            # Repeats are charged to the fix in force: after this fix, before the next one.
            until = items[n + 1][0] if n + 1 < len(items) else None
            own = set(fx.entry_ids)
            rep = [
                r
                for r in recs
                if r.occurred_at > when
                and (until is None or r.occurred_at <= until)
                and r.entry_id not in own
            ]
            if len(rep) < repeat_min:
                continue
            fi = _clamp_index(ctx, when)
            hi = _clamp_index(ctx, until) if until is not None else len(counts.periods) - 1
            before_n = int(np.sum(~ctx.gap[: fi + 1])) or 1
            after_n = int(np.sum(~ctx.gap[fi : hi + 1])) or 1
            before = sum(1 for r in recs if r.occurred_at <= when) / before_n
            after = len(rep) / after_n
            # A fix that at least halved the cluster's rate did its job even if a stray case followed;
            # QA is told about fixes after which the problem came back at a similar or higher rate.
            if after < HELD_RATE_RATIO * before:
                continue
            name = fx.fix_id or "the fix"
            msg = (
                f"{_label(cid, ctx.labels)} recurred after {name} of {when.isoformat()}: {len(rep)} "
                f"deviation{'s' if len(rep) != 1 else ''} since (first {rep[0].occurred_at.isoformat()}"
                f"{_site_phrase(rep)}); {_fmt(after)} per {ctx.period} after vs {_fmt(before)} before."
            )
            first_p = period_of(rep[0].occurred_at, ctx.period)
            out.append(
                Signal(
                    cluster_id=cid,
                    kind="repeat_after_fix",
                    site=None,
                    start_period=first_p,
                    statistic=float(len(rep)),
                    threshold=float(repeat_min),
                    entry_ids=[r.entry_id for r in rep],
                    message=msg,
                    end_period=period_of(rep[-1].occurred_at, ctx.period),
                    ongoing=until is None,
                    details={
                        "fix_id": fx.fix_id,
                        "fixed_at": when.isoformat(),
                        "rate_before": round(before, 6),
                        "rate_after": round(after, 6),
                    },
                )
            )
    return out


def shuffle_false_alarm_rate(
    records: Iterable[Any],
    n_shuffles: int = 100,
    seed: int = 0,
    *,
    shuffle_sites: bool = False,
    kinds: Sequence[str] = ("rising", "site_concentration", "emerging"),
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


def _above(value: float, threshold: float) -> str:
    """Return "value > threshold" with enough decimals (1 to 3) to read as true, else "at the threshold"."""
    for digits in (1, 2, 3):
        if f"{value:.{digits}f}" != f"{threshold:.{digits}f}":
            return f"{value:.{digits}f} > {threshold:.{digits}f}"
    return f"{value:.1f}, at the threshold {threshold:.1f}"
