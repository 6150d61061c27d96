"""Shared by the detectors: the context of one run, labels and phrasing of signal messages."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from kb.analytics.drift.model import (
    DriftRecord,
    PeriodCounts,
)
from kb.analytics.drift.periods import period_of


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


def _clamp_index(ctx: _Context, day: date) -> int:
    """Return the index of the period holding day, clamped to the counted range."""
    p = period_of(day, ctx.period)
    periods = ctx.counts.periods
    if p in ctx.index:
        return ctx.index[p]
    return 0 if p < periods[0] else len(periods) - 1


def _above(value: float, threshold: float) -> str:
    """Return "value > threshold" with enough decimals (1 to 3) to read as true, else "at the threshold"."""
    for digits in (1, 2, 3):
        if f"{value:.{digits}f}" != f"{threshold:.{digits}f}":
            return f"{value:.{digits}f} > {threshold:.{digits}f}"
    return f"{value:.1f}, at the threshold {threshold:.1f}"
