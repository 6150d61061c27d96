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

from kb.analytics import curation
from kb.analytics.calibration import calibrate as run_calibration
from kb.analytics.calibration import choose_exposure, describe_missing_dates, signal_key
from kb.analytics.cluster_runs import load_run, save_run
from kb.analytics.clustering import ClusterResult, format_cluster_id
from kb.analytics.curation import Items, recluster
from kb.analytics.drift import DriftRecord, DriftReport, Fix, detect_drift, period_of, to_date
from kb.analytics.drift.terms import record_terms
from kb.knowledge_base import KnowledgeBase
from kb.models import Entry, KBError, utc_now

MIN_ITEMS = 6
# One stray recurrence after a fix is common; two or more at an undiminished rate is a repeat QA acts on.
REPEAT_MIN = 2


@dataclass
class ClusterInput:
    """The entries to cluster with their stored vectors, in id order."""

    entries: list[Entry]
    vectors: np.ndarray


def cluster_input(kb: KnowledgeBase, entry_type: str = "deviation") -> ClusterInput:
    """Return the active entries of a type and vectors of their text alone (what happened).

    The rule (docs/drift.md): clusters are decided by the text, never by the title or the fields. A
    title often only names a product, lot or batch (FDA's product description mapped as the title
    made k-means split "injections" from "tablets"). Where the search vector already embeds the text
    alone it is reused; otherwise the text is encoded once and cached (kb/storage/analytics_queries.py).
    """
    kb.encode_missing()
    entries = list(kb.store.iter_entries(type=entry_type))
    fp = kb.embedder.fingerprint
    plain = [e for e in entries if e.search_text() == e.text]
    vectors = kb.store.vectors_for([e.id for e in plain], fp)
    titled = {e.id: e.text for e in entries if e.search_text() != e.text}
    if titled:
        cached = kb.store.text_vectors(titled, fp)
        todo = [eid for eid in titled if eid not in cached]
        if todo:
            enc = kb.embedder.encode([titled[eid] for eid in todo])
            kb.store.put_text_vectors([(eid, titled[eid], v) for eid, v in zip(todo, enc, strict=True)], fp)
            cached.update({eid: np.asarray(v, np.float32) for eid, v in zip(todo, enc, strict=True)})
        vectors.update(cached)
    entries = [e for e in entries if e.id in vectors]
    matrix = (
        np.vstack([vectors[e.id] for e in entries]) if entries else np.zeros((0, kb.embedder.dim), np.float32)
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
    previous = load_run(kb.store, entry_type=entry_type)
    if previous is not None and previous.fingerprint != kb.embedder.fingerprint:
        previous = None  # another model: its clusters cannot be compared
    curated = set(kb.store.iter_curated_ids(entry_type))
    result = recluster(
        [e.id for e in data.entries],
        data.vectors,
        [e.text for e in data.entries],
        previous,
        curated,
        random_state=random_state,
    )
    if save:
        with kb.store.transaction():
            save_run(kb.store, result, fingerprint=kb.embedder.fingerprint, entry_type=entry_type)
    return result


def _items(kb: KnowledgeBase, entry_type: str) -> Items:
    data = cluster_input(kb, entry_type)
    return Items([e.id for e in data.entries], data.vectors, [e.text for e in data.entries])


def curate(
    kb: KnowledgeBase,
    action: str,
    cluster_id: str,
    *,
    name: str | None = None,
    others: tuple[str, ...] = (),
    actor: str | None = None,
    entry_type: str = "deviation",
) -> ClusterResult:
    """Rename, merge or split a cluster of the current run; store the new run and audit the step."""
    actor = kb._authorise("cluster", actor)
    result = current_clusters(kb, entry_type)
    try:
        if action == "rename":
            new = curation.rename(result, cluster_id, name or "")
            details: dict[str, Any] = {
                "name": new.get(cluster_id).name,
                "previous_name": result.get(cluster_id).name,
            }
        elif action == "merge":
            new = curation.merge(result, cluster_id, list(others), _items(kb, entry_type))
            details = {"merged": sorted(others), "size": new.get(cluster_id).size}
        elif action == "split":
            new = curation.split(result, cluster_id, _items(kb, entry_type))
            added = format_cluster_id(new.last_id_number)
            details = {"new_cluster": added, "sizes": [new.get(cluster_id).size, new.get(added).size]}
        else:
            raise KBError(f"unknown curation '{action}' (rename, merge or split)")
    except curation.CurationError as exc:
        raise KBError(str(exc)) from exc
    with kb.store.transaction():
        run_id = save_run(kb.store, new, fingerprint=kb.embedder.fingerprint, entry_type=entry_type)
        kb.store.add_curation(
            at=utc_now(),
            actor=actor,
            entry_type=entry_type,
            action=action,
            cluster_id=cluster_id,
            details=details,
            run_id=run_id,
        )
        if action == "split":
            kb.store.add_curation(
                at=utc_now(),
                actor=actor,
                entry_type=entry_type,
                action="split_part",
                cluster_id=details["new_cluster"],
                details={"split_from": cluster_id},
                run_id=run_id,
            )
    return new


def latest_clusters(kb: KnowledgeBase, entry_type: str = "deviation") -> ClusterResult | None:
    """Return the last stored cluster run of a type, if any."""
    return load_run(kb.store, entry_type=entry_type)


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
                "family": cluster.family,
                "name": cluster.name,
                "title": cluster.title(),
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
    exposure: str | None = "auto",
    result: ClusterResult | None = None,
    entry_type: str = "deviation",
    known_gaps: tuple[str, ...] = (),
    calibrate: int = 0,
    when_undated: str = "raise",
) -> DriftReport:
    """Return drift signals for the current clusters: rising, word bursts, emerging, site concentration,
    repeat after fix.

    With no dated deviation: raise a KBError saying what is missing ("raise", the CLI), or return an empty
    report whose first note says it, with params["undated"] True ("empty", a page that still shows clusters).
    """
    if period not in ("week", "month"):
        raise KBError(f"argument '--period': '{period}' is not week or month")
    if since:
        try:
            date.fromisoformat(since)
        except ValueError as exc:
            raise KBError(f"argument '--since': '{since}' is not a date (use YYYY-MM-DD)") from exc
    all_entries = list(kb.store.iter_entries(type=entry_type))
    deviations = [e for e in all_entries if e.occurred_at]
    missing = describe_missing_dates(len(deviations), len(all_entries), entry_type)
    if not deviations:
        reason = missing or f"no dated {entry_type} entries"
        if when_undated != "empty":
            raise KBError(reason)
        empty = detect_drift([], period=period)
        empty.notes.insert(0, reason)
        empty.params.update(undated=True, watching="nothing", watching_reason="drift needs dated deviations")
        return empty
    result = result or current_clusters(kb, entry_type)
    cluster_of = result.cluster_of()
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
    labels = {c.id: [c.name] if c.name else c.label for c in result.clusters}
    choice = None
    if exposure == "auto":
        choice = choose_exposure(records, period, start=since, known_gaps=known_gaps)
        exposure = choice.exposure
    kwargs = {
        "period": period,
        # What happened, in words: the text only (a title may just name a product or a lot).
        "entry_terms": record_terms({e.id: e.text for e in deviations}),
        "fixes": fixes,
        "labels": labels,
        "exposure": exposure,
        "start": since,
        "repeat_min": REPEAT_MIN,
        "known_gaps": known_gaps,
    }
    report = detect_drift(records, **kwargs)
    report.params["watching"] = (
        "shares" if exposure == "total" else "counts" if exposure is None else "per batch"
    )
    report.params["watching_reason"] = choice.reason if choice else f"set by the caller (exposure={exposure})"
    report.params["families"] = {c.id: c.family for c in result.clusters if c.family}
    if missing:
        report.notes.insert(0, missing)
    if calibrate:
        cal = run_calibration(records, report, calibrate, **kwargs)
        report.params["calibration"] = cal.to_dict()
        for s in report.signals:
            p = cal.signal_p_values.get(signal_key(s))
            if p is not None:
                s.details["permutation_p"] = p
    return report
