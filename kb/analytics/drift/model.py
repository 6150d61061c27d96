"""Drift records, fixes, signals, counts and reports; constants and the one-thread decorator."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, TypeVar

T = TypeVar("T")

PERIODS_PER_YEAR: dict[str, int] = {"week": 52, "month": 12}
# A fix "held" when the rate after it is below this share of the rate before it.
HELD_RATE_RATIO = 0.5
SIGNAL_KINDS: tuple[str, ...] = ("rising", "term_burst", "site_concentration", "repeat_after_fix", "emerging")
# The yearly false-alarm budget is shared by the three statistical detectors; the other two are rules.
# term_burst runs only when the records' words are given (detect_drift(entry_terms=...)); when it does
# not run, its share goes to the others.
DEFAULT_BUDGET_SPLIT: dict[str, float] = {"rising": 0.5, "term_burst": 0.25, "site_concentration": 0.25}


@dataclass(frozen=True)
class DriftRecord:
    """One deviation as the detectors see it: which cluster, when, where."""

    entry_id: str
    cluster_id: str | None  # None: unclustered (still counts toward totals and gap detection)
    occurred_at: date
    site: str | None = None


@dataclass(frozen=True)
class Fix:
    """A fix (CAPA) linked to a cluster directly or through the deviations it addressed."""

    fixed_at: date
    cluster_id: str | None = None
    entry_ids: tuple[str, ...] = ()
    fix_id: str | None = None


@dataclass
class Signal:
    """One drift signal: which cluster, what kind, where, since when, how strong, and the records."""

    cluster_id: str
    kind: str  # rising | term_burst | emerging | site_concentration | repeat_after_fix
    site: str | None
    start_period: str
    statistic: float
    threshold: float
    entry_ids: list[str]
    message: str
    end_period: str | None = None
    ongoing: bool = False
    # Expected chance signals of this kind per year across all watched clusters (None: a rule, not a test).
    false_alarm_rate: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the signal as a JSON-ready dict."""
        return asdict(self)


@dataclass
class PeriodCounts:
    """Counts per period: overall, per cluster and per cluster and site; gap periods hold None."""

    period: str
    periods: list[str]
    gaps: list[str]
    total: list[int | None]
    by_cluster: dict[str, list[int | None]]
    by_cluster_site: dict[str, dict[str, list[int | None]]]

    def is_gap(self, index: int) -> bool:
        """Return True when the period at this index is a gap."""
        return self.total[index] is None

    def to_rows(self) -> list[dict[str, Any]]:
        """Return a flat table: one row per cluster (and site) and period."""
        rows: list[dict[str, Any]] = []
        for cid in sorted(self.by_cluster):
            for i, p in enumerate(self.periods):
                rows.append(
                    {
                        "cluster_id": cid,
                        "site": None,
                        "period": p,
                        "count": self.by_cluster[cid][i],
                        "gap": self.is_gap(i),
                    }
                )
            for site in sorted(self.by_cluster_site.get(cid, {})):
                for i, p in enumerate(self.periods):
                    rows.append(
                        {
                            "cluster_id": cid,
                            "site": site,
                            "period": p,
                            "count": self.by_cluster_site[cid][site][i],
                            "gap": self.is_gap(i),
                        }
                    )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """Return the table as a JSON-ready dict."""
        return asdict(self)


@dataclass
class DriftReport:
    """All signals of one drift review, the counts behind them, parameters and the false-alarm rate."""

    signals: list[Signal]
    counts: PeriodCounts
    params: dict[str, Any]
    false_alarm_rate: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {
            "signals": [s.to_dict() for s in self.signals],
            "counts": self.counts.to_dict(),
            "params": self.params,
            "false_alarm_rate": self.false_alarm_rate,
            "notes": list(self.notes),
        }


def _single_thread(fn: Callable[..., T]) -> Callable[..., T]:
    """Run fn with one BLAS/OpenMP thread."""

    # The many small Markov-chain solves are far slower with threads on a busy 2-core machine, and
    # results then cannot depend on the machine's core count.
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        if getattr(_LIMITED, "active", False):
            return fn(*args, **kwargs)  # already inside a limited call: entering again costs ~2 ms each
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            _LIMITED.active = True
            try:
                return fn(*args, **kwargs)
            finally:
                _LIMITED.active = False

    return wrapper


_LIMITED = threading.local()
