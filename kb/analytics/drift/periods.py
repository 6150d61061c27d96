"""Periods (ISO weeks, months), record coercion and counts per period with gaps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from kb.analytics.drift.model import PERIODS_PER_YEAR, DriftRecord, PeriodCounts

# -- periods -----------------------------------------------------------------------------------------


def to_date(value: date | datetime | str) -> date:
    """Return a date from a date, datetime or ISO 8601 string (time and zone ignored)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise ValueError(f"'{value}' is not an ISO 8601 date (expected YYYY-MM-DD...)") from exc


def period_of(day: date, period: str) -> str:
    """Return the period label of a date: ISO week '2024-W05' or month '2024-03'."""
    if period == "week":
        y, w, _ = day.isocalendar()
        return f"{y:04d}-W{w:02d}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    raise ValueError(f"period must be 'week' or 'month', not '{period}'")


def _period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_start(start: date, period: str) -> date:
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def period_range(first: date, last: date, period: str) -> list[str]:
    """Return every period label from the one holding first to the one holding last, in order."""
    out = []
    cur = _period_start(first, period)
    while cur <= last:
        out.append(period_of(cur, period))
        cur = _next_start(cur, period)
    return out


def _coerce(records: Iterable[Any]) -> list[DriftRecord]:
    """Return DriftRecords from DriftRecords, mappings or (id, cluster, date, site) tuples, sorted."""
    out = []
    for r in records:
        if isinstance(r, DriftRecord):
            rec = (
                r
                if isinstance(r.occurred_at, date) and not isinstance(r.occurred_at, datetime)
                else replace(r, occurred_at=to_date(r.occurred_at))
            )
        elif isinstance(r, Mapping):
            rec = DriftRecord(
                str(r["entry_id"]), r.get("cluster_id"), to_date(r["occurred_at"]), r.get("site")
            )
        else:
            eid, cid, when, *rest = r
            rec = DriftRecord(str(eid), cid, to_date(when), rest[0] if rest else None)
        out.append(rec)
    # Sorted by date then id: every later step iterates in a fixed order.
    out.sort(key=lambda r: (r.occurred_at, r.entry_id))
    return out


def count_by_period(
    records: Iterable[Any],
    period: str = "month",
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    known_gaps: Iterable[str] = (),
) -> PeriodCounts:
    """Return counts per cluster per period (overall and per site); empty periods are gaps (None)."""
    recs = _coerce(records)
    if period not in PERIODS_PER_YEAR:
        raise ValueError(f"period must be 'week' or 'month', not '{period}'")
    if not recs and (start is None or end is None):
        return PeriodCounts(period, [], [], [], {}, {})
    first = to_date(start) if start is not None else recs[0].occurred_at
    last = to_date(end) if end is not None else recs[-1].occurred_at
    periods = period_range(first, last, period)
    index = {p: i for i, p in enumerate(periods)}
    n = len(periods)
    total = [0] * n
    by_cluster: dict[str, list[int]] = {}
    by_site: dict[str, dict[str, list[int]]] = {}
    for r in recs:
        i = index.get(period_of(r.occurred_at, period))
        if i is None:
            continue
        total[i] += 1
        if r.cluster_id is None:
            continue
        by_cluster.setdefault(r.cluster_id, [0] * n)[i] += 1
        if r.site is not None:
            by_site.setdefault(r.cluster_id, {}).setdefault(r.site, [0] * n)[i] += 1
    gap_set = {p for p, c in zip(periods, total, strict=True) if c == 0} | (set(known_gaps) & set(periods))

    def mask(row: list[int]) -> list[int | None]:
        return [None if p in gap_set else c for p, c in zip(periods, row, strict=True)]

    return PeriodCounts(
        period=period,
        periods=periods,
        gaps=[p for p in periods if p in gap_set],
        total=mask(total),
        by_cluster={c: mask(v) for c, v in sorted(by_cluster.items())},
        by_cluster_site={c: {s: mask(v) for s, v in sorted(d.items())} for c, d in sorted(by_site.items())},
    )
