"""The site-concentration detector: a cluster's recent share at one site against the others (Holm)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from kb.analytics.drift.context import _Context, _label
from kb.analytics.drift.model import (
    DriftRecord,
    Signal,
)


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
