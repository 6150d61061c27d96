"""The rule detectors: emerging clusters, and repeats after a fix that did not hold."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np

from kb.analytics.drift.context import _clamp_index, _Context, _fmt, _label, _site_phrase
from kb.analytics.drift.model import (
    HELD_RATE_RATIO,
    Fix,
    Signal,
)
from kb.analytics.drift.periods import period_of, to_date


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
