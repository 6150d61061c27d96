"""QA analytics over a knowledge base: cluster deviations from stored vectors, watch them for drift.

This module ties kb/analytics/clustering.py, kb/analytics/cluster_runs.py and kb/analytics/drift.py (pure functions) to the store, so
the CLI, the UI and reports ask one place for clusters, timelines, the 2-D map and drift signals.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from kb.analytics.cluster_runs import load_run, save_run
from kb.analytics.clustering import ClusterResult, cluster_deviations, match_to_previous
from kb.analytics.drift import DriftRecord, DriftReport, Fix, detect_drift, period_of, to_date
from kb.knowledge_base import KnowledgeBase
from kb.models import Entry, KBError

MIN_ITEMS = 6
# One stray recurrence after a fix is common; two or more at an undiminished rate is a repeat QA acts on.
REPEAT_MIN = 2


@dataclass
class ClusterInput:
    """The entries to cluster with their stored vectors, in id order."""

    entries: list[Entry]
    vectors: np.ndarray


def cluster_input(kb: KnowledgeBase, entry_type: str = "deviation") -> ClusterInput:
    """Return the active entries of a type and their stored vectors (encoding any that lack one)."""
    kb.encode_missing()
    entries = list(kb.store.iter_entries(type=entry_type))
    stored = kb.store.vectors_for([e.id for e in entries], kb.embedder.fingerprint)
    entries = [e for e in entries if e.id in stored]
    matrix = (
        np.vstack([stored[e.id] for e in entries]) if entries else np.zeros((0, kb.embedder.dim), np.float32)
    )
    return ClusterInput(entries, matrix)


def run_clustering(
    kb: KnowledgeBase, *, entry_type: str = "deviation", random_state: int = 0, save: bool = True
) -> ClusterResult:
    """Cluster the active entries of a type, keep ids stable against the last run, and store the run."""
    data = cluster_input(kb, entry_type)
    if len(data.entries) < MIN_ITEMS:
        raise KBError(
            f"only {len(data.entries)} active '{entry_type}' entries: at least {MIN_ITEMS} are needed to cluster"
        )
    previous = load_run(kb.store.db, entry_type=entry_type)
    warm = None
    if previous is not None and previous.clusters and previous.fingerprint == kb.embedder.fingerprint:
        warm = np.vstack([c.centroid for c in previous.clusters])
    result = cluster_deviations(
        [e.id for e in data.entries],
        data.vectors,
        [e.search_text() for e in data.entries],
        random_state=random_state,
        init_centroids=warm,
    )
    result = match_to_previous(previous, result)
    if save:
        with kb.store.transaction():
            save_run(kb.store.db, result, fingerprint=kb.embedder.fingerprint, entry_type=entry_type)
    return result


def latest_clusters(kb: KnowledgeBase, entry_type: str = "deviation") -> ClusterResult | None:
    """Return the last stored cluster run of a type, if any."""
    return load_run(kb.store.db, entry_type=entry_type)


def current_clusters(kb: KnowledgeBase, entry_type: str = "deviation") -> ClusterResult:
    """Return the last run if it covers exactly the current entries and model, else a new run."""
    latest = latest_clusters(kb, entry_type)
    if latest is not None and latest.fingerprint == kb.embedder.fingerprint:
        covered = {m for c in latest.clusters for m in c.member_ids} | set(latest.unclustered_ids)
        active = {e.id for e in kb.store.iter_entries(type=entry_type)}
        if covered == active:
            return latest
    return run_clustering(kb, entry_type=entry_type)


def _entries_of(kb: KnowledgeBase, result: ClusterResult) -> dict[str, Entry]:
    ids = [m for c in result.clusters for m in c.member_ids] + list(result.unclustered_ids)
    return kb.store.get_many(ids)


def cluster_rows(kb: KnowledgeBase, result: ClusterResult) -> list[dict[str, Any]]:
    """Return one row per cluster: id, label, size, first and last seen, sites, representative titles."""
    entries = _entries_of(kb, result)
    rows = []
    for cluster in result.clusters:
        members = [entries[m] for m in cluster.member_ids if m in entries]
        days = sorted(e.occurred_at[:10] for e in members if e.occurred_at)
        rows.append(
            {
                "id": cluster.id,
                "label": ", ".join(cluster.label),
                "size": cluster.size,
                "first_seen": days[0] if days else None,
                "last_seen": days[-1] if days else None,
                "sites": dict(sorted(Counter(e.site or "(none)" for e in members).items())),
                "representatives": [
                    {"id": r, "title": entries[r].title} for r in cluster.representative_ids if r in entries
                ],
                "members": list(cluster.member_ids),
            }
        )
    return rows


def cluster_timeline(kb: KnowledgeBase, result: ClusterResult, period: str = "month") -> list[dict[str, Any]]:
    """Return counts per cluster, period and site (only non-zero cells), sorted."""
    entries = _entries_of(kb, result)
    counts: Counter[tuple[str, str, str]] = Counter()
    for cluster in result.clusters:
        for m in cluster.member_ids:
            e = entries.get(m)
            if e is not None and e.occurred_at:
                counts[(cluster.id, period_of(to_date(e.occurred_at), period), e.site or "(none)")] += 1
    return [{"cluster_id": c, "period": p, "site": s, "count": n} for (c, p, s), n in sorted(counts.items())]


def deviation_map(
    kb: KnowledgeBase, result: ClusterResult, entry_type: str = "deviation"
) -> list[dict[str, Any]]:
    """Return 2-D coordinates (first two principal components, signs fixed) of every clustered entry."""
    data = cluster_input(kb, entry_type)
    if len(data.entries) < 2:
        return []
    centred = data.vectors - data.vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]
    # Fix each axis's sign so the same data always draws the same picture.
    axes *= np.where(axes[np.arange(2), np.abs(axes).argmax(axis=1)] < 0, -1.0, 1.0)[:, None]
    xy = centred @ axes.T
    cluster_of = result.cluster_of()
    return [
        {
            "entry_id": e.id,
            "x": float(x),
            "y": float(y),
            "cluster_id": cluster_of.get(e.id, "unclustered"),
            "title": e.title,
            "site": e.site,
            "occurred_at": e.occurred_at,
        }
        for e, (x, y) in zip(data.entries, xy, strict=True)
    ]


def drift_report(
    kb: KnowledgeBase,
    *,
    period: str = "month",
    since: str | None = None,
    exposure: str | None = None,
    result: ClusterResult | None = None,
    entry_type: str = "deviation",
    known_gaps: tuple[str, ...] = (),
) -> DriftReport:
    """Return drift signals for the current clusters: rising, emerging, site concentration, repeat after fix."""
    if period not in ("week", "month"):
        raise KBError(f"argument '--period': '{period}' is not week or month")
    if since:
        try:
            date.fromisoformat(since)
        except ValueError as exc:
            raise KBError(f"argument '--since': '{since}' is not a date (use YYYY-MM-DD)") from exc
    result = result or current_clusters(kb, entry_type)
    cluster_of = result.cluster_of()
    deviations = [e for e in kb.store.iter_entries(type=entry_type) if e.occurred_at]
    # Every deviation counts, clustered or not, so that a period with records is never read as a gap.
    records = [DriftRecord(e.id, cluster_of.get(e.id), to_date(e.occurred_at), e.site) for e in deviations]
    fixed: dict[str, list[str]] = defaultdict(list)
    for link in kb.store.all_links():
        if link.relation == "fixed_by":
            fixed[link.target].append(link.source)
    fix_entries = kb.store.get_many(sorted(fixed))
    fixes = [
        Fix(fixed_at=to_date(f.occurred_at), entry_ids=tuple(sorted(fixed[f.id])), fix_id=f.id)
        for f in fix_entries.values()
        if f.occurred_at and f.status == "active"
    ]
    labels = {c.id: c.label for c in result.clusters}
    return detect_drift(
        records,
        period=period,
        fixes=fixes,
        labels=labels,
        exposure=exposure,
        start=since,
        repeat_min=REPEAT_MIN,
        known_gaps=known_gaps,
    )
