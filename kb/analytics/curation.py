"""QA's curation of clusters (rename, merge, split) and re-clustering that keeps it.

Pure functions over ids, vectors and texts. A curated cluster is pinned: on re-clustering it keeps its
id, its name and its members (those still active), new deviations close to it join it, and only the
rest of the record is clustered again (with ids carried over by match_to_previous).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kb.analytics.clusterer import DeviationClusterer
from kb.analytics.clustering import (
    ClusterEvent,
    ClusterResult,
    DeviationCluster,
    _normalise,
    ctfidf_labels,
    format_cluster_id,
    match_to_previous,
    parse_cluster_id,
)

N_REPRESENTATIVES = 3
OUTLIER_MAD = 3.0


class CurationError(ValueError):
    """A curation request that cannot be applied (unknown id, merge with itself, ...)."""


@dataclass
class Items:
    """The items of one clustering: ids, unit vectors (rows) and texts, looked up by id."""

    ids: list[str]
    vectors: np.ndarray
    texts: list[str]

    def __post_init__(self) -> None:
        self.pos = {eid: i for i, eid in enumerate(self.ids)}

    def rows(self, members: Sequence[str]) -> np.ndarray:
        """Return the unit vectors of these members."""
        return _normalise(np.asarray(self.vectors[[self.pos[m] for m in members]], dtype=np.float64))


def _centroid(rows: np.ndarray) -> np.ndarray:
    cen = rows.mean(axis=0)
    return cen / (np.linalg.norm(cen) or 1.0)


def build_cluster(items: Items, cid: str, members: Sequence[str], **extra: Any) -> DeviationCluster:
    """Return a cluster of these members: centroid, representatives (label filled in by relabel)."""
    members = sorted(members)
    rows = items.rows(members)
    cen = _centroid(rows)
    sims = rows @ cen
    order = sorted(range(len(members)), key=lambda j: (-round(float(sims[j]), 9), members[j]))
    return DeviationCluster(
        id=cid,
        label=[],
        size=len(members),
        member_ids=members,
        representative_ids=[members[j] for j in order[:N_REPRESENTATIVES]],
        centroid=cen.astype(np.float32),
        **extra,
    )


def relabel(result: ClusterResult, items: Items) -> ClusterResult:
    """Return result with every cluster's c-TF-IDF label recomputed against all the others."""
    text = dict(zip(items.ids, items.texts, strict=True))
    groups = [[text[m] for m in c.member_ids if m in text] for c in result.clusters]
    background = [text[m] for m in result.unclustered_ids if m in text]
    for c, lab in zip(result.clusters, ctfidf_labels(groups, background=background), strict=True):
        c.label = lab
    result.clusters.sort(key=lambda c: (-c.size, parse_cluster_id(c.id), c.id))
    return result


def _threshold(items: Items, members: Sequence[str], cen: np.ndarray) -> float:
    sims = items.rows(members) @ cen
    med = float(np.median(sims))
    mad = float(np.median(np.abs(sims - med)))
    return med - OUTLIER_MAD * 1.4826 * mad


def recluster(
    ids: Sequence[str],
    vectors: np.ndarray,
    texts: Sequence[str],
    previous: ClusterResult | None,
    curated: set[str],
    *,
    random_state: int = 0,
    **cluster_kwargs: Any,
) -> ClusterResult:
    """Cluster the items again, keeping curated clusters of the previous run (ids, names, members).

    A new item (absent from the previous run) joins the curated cluster whose centroid is nearest of all
    previous centroids, if its cosine is within that cluster's usual spread (median - 3 robust SD).
    """
    items = Items(list(ids), np.asarray(vectors), list(texts))
    pinned = [c for c in (previous.clusters if previous else []) if c.id in curated]
    if previous is None or not pinned:
        groups = [c.member_ids for c in previous.clusters] if previous else None
        result = (
            DeviationClusterer(random_state=random_state, **cluster_kwargs)
            .fit(items.ids, items.vectors, items.texts, init_groups=groups)
            .result_
        )
        result = match_to_previous(previous, result)
        result.diagnostics["curated"] = []
        return result
    seen = {m for c in previous.clusters for m in c.member_ids} | set(previous.unclustered_ids)
    keep: dict[str, list[str]] = {c.id: [m for m in c.member_ids if m in items.pos] for c in pinned}
    keep = {cid: ms for cid, ms in keep.items() if ms}
    new = [eid for eid in items.ids if eid not in seen]
    if new and keep:
        others = [c for c in previous.clusters if c.id not in keep]
        cents = np.stack([_centroid(items.rows(ms)) for ms in keep.values()])
        thr = np.array([_threshold(items, ms, cen) for ms, cen in zip(keep.values(), cents, strict=True)])
        other_c = (
            np.stack([np.asarray(c.centroid, np.float64) for c in others if c.centroid.size])
            if any(c.centroid.size for c in others)
            else np.zeros((0, cents.shape[1]))
        )
        rows = items.rows(new)
        sims = rows @ cents.T
        best = sims.argmax(axis=1)
        rival = (rows @ other_c.T).max(axis=1) if len(other_c) else np.full(len(new), -np.inf)
        cids = list(keep)
        for j, eid in enumerate(new):
            b = int(best[j])
            if sims[j, b] >= thr[b] and sims[j, b] >= rival[j]:
                keep[cids[b]].append(eid)
    taken = {m for ms in keep.values() for m in ms}
    free = [eid for eid in items.ids if eid not in taken]
    rest_prev = replace(previous, clusters=[c for c in previous.clusters if c.id not in keep])
    if len(free) >= 2:
        fidx = [items.pos[e] for e in free]
        result = (
            DeviationClusterer(random_state=random_state, **cluster_kwargs)
            .fit(
                free,
                items.vectors[fidx],
                [items.texts[i] for i in fidx],
                init_groups=[c.member_ids for c in rest_prev.clusters],
            )
            .result_
        )
        result = match_to_previous(rest_prev, result)
    else:
        result = ClusterResult(
            [], free, dict(previous.params), {}, {}, last_id_number=previous.last_id_number
        )
    by_id = {c.id: c for c in pinned}
    kept = [build_cluster(items, cid, ms, name=by_id[cid].name) for cid, ms in keep.items()]
    _join_families(result, kept)
    result.clusters += kept
    result.last_id_number = max(result.last_id_number, previous.last_id_number)
    result.diagnostics["curated"] = sorted(keep)
    return relabel(result, items)


def _join_families(result: ClusterResult, kept: list[DeviationCluster]) -> None:
    """Put each kept cluster in the family of the nearest re-clustered cluster."""
    free = [c for c in result.clusters if c.family and c.centroid.size]
    if not free:
        return
    cents = np.stack([np.asarray(c.centroid, np.float64) for c in free])
    fams = {f["id"]: f for f in result.diagnostics.get("families", [])}
    for k in kept:
        near = free[int(np.argmax(cents @ np.asarray(k.centroid, np.float64)))]
        k.family = near.family
        if near.family in fams:
            fams[near.family]["clusters"] = sorted([*fams[near.family]["clusters"], k.id])
            fams[near.family]["size"] += k.size


def _require(result: ClusterResult, cid: str) -> DeviationCluster:
    try:
        return result.get(cid)
    except KeyError:
        known = ", ".join(sorted(c.id for c in result.clusters)[:12]) or "none"
        raise CurationError(f"unknown cluster id '{cid}' (clusters in the current run: {known})") from None


def _derived(
    result: ClusterResult, clusters: list[DeviationCluster], event: ClusterEvent | None, **kw: Any
) -> ClusterResult:
    curated = sorted(set(result.diagnostics.get("curated", [])) | set(kw.pop("curated", ())))
    diagnostics = {**result.diagnostics, "curated": curated}
    return ClusterResult(
        clusters=clusters,
        unclustered_ids=list(result.unclustered_ids),
        params={**result.params, "derived_from": result.run_id},
        timings={},
        diagnostics=diagnostics,
        events=[event] if event else [],
        last_id_number=kw.get("last_id_number", result.last_id_number),
    )


def rename(result: ClusterResult, cid: str, name: str) -> ClusterResult:
    """Return a copy of result in which cluster cid carries QA's name."""
    name = " ".join(name.split())
    if not name:
        raise CurationError("argument 'NAME': a cluster name cannot be empty")
    _require(result, cid)
    clusters = [replace(c, name=name) if c.id == cid else replace(c) for c in result.clusters]
    return _derived(result, clusters, None, curated=[cid])


def merge(result: ClusterResult, target: str, others: Sequence[str], items: Items) -> ClusterResult:
    """Return a copy of result with the other clusters' members moved into target (target keeps its id)."""
    _require(result, target)
    if not others:
        raise CurationError("merge needs at least one other cluster id")
    for o in others:
        if o == target:
            raise CurationError(f"cannot merge cluster '{target}' with itself")
        _require(result, o)
    if len(set(others)) != len(others):
        raise CurationError("each cluster id may be given once")
    gone = set(others)
    base = result.get(target)
    members = [m for c in result.clusters if c.id == target or c.id in gone for m in c.member_ids]
    merged = build_cluster(items, target, members, family=base.family, name=base.name)
    clusters = [merged if c.id == target else replace(c) for c in result.clusters if c.id not in gone]
    event = ClusterEvent("merge", sorted([target, *others]), [target])
    out = _derived(result, clusters, event, curated=[target])
    out.diagnostics["curated"] = [c for c in out.diagnostics["curated"] if c not in gone]
    return relabel(out, items)


def split(result: ClusterResult, cid: str, items: Items, *, random_state: int = 0) -> ClusterResult:
    """Return a copy of result with cluster cid split in two by 2-means (the larger part keeps the id)."""
    from sklearn.cluster import KMeans

    c = _require(result, cid)
    if c.size < 2:
        raise CurationError(f"cluster '{cid}' has {c.size} member(s): a split needs at least two")
    members = sorted(c.member_ids)
    rows = items.rows(members)
    labels = KMeans(n_clusters=2, n_init=3, random_state=random_state).fit_predict(rows)
    if len(set(labels.tolist())) < 2:  # identical vectors: split by order so both parts exist
        labels = np.array([i % 2 for i in range(len(members))])
    parts = [[m for m, lab in zip(members, labels, strict=True) if lab == g] for g in (0, 1)]
    parts.sort(key=lambda p: (-len(p), p[0]))
    new_id = format_cluster_id(result.last_id_number + 1)
    a = build_cluster(items, cid, parts[0], family=c.family, name=c.name)
    b = build_cluster(items, new_id, parts[1], family=c.family)
    clusters = [a if x.id == cid else replace(x) for x in result.clusters] + [b]
    event = ClusterEvent("split", [cid], sorted([cid, new_id]))
    out = _derived(result, clusters, event, curated=[cid, new_id], last_id_number=result.last_id_number + 1)
    out.last_id_number = result.last_id_number + 1
    return relabel(out, items)
