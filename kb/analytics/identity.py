"""Stable cluster identities across runs: ids carried over by member overlap, merge/split/new/vanished events."""

from __future__ import annotations

import numpy as np

from kb.analytics.results import (
    ClusterEvent,
    ClusterResult,
    DeviationCluster,
    format_cluster_id,
    parse_cluster_id,
)


def match_to_previous(
    previous: ClusterResult | None,
    current: ClusterResult,
    *,
    min_jaccard: float = 0.3,
    min_cosine: float = 0.95,
    event_share: float = 0.25,
) -> ClusterResult:
    """Return current with cluster ids carried over from previous, plus merge/split/new/vanished events.

    Matching: Jaccard of member sets, counted only over entries present in both runs (so added or
    retired entries do not dilute it). A pair may match when Jaccard >= min_jaccard, or, when one
    side has no shared entries at all, when centroid cosine >= min_cosine. The Hungarian assignment
    maximises Jaccard (centroid cosine breaks ties). A "flow" from old cluster o to new cluster n is
    significant when at least event_share of o's shared members went to n AND at least event_share of
    n's shared members came from o: one old with two significant outflows is a split, one new with two
    significant inflows is a merge. Unmatched new clusters get fresh ids after the highest ever used.
    """
    from scipy.optimize import linear_sum_assignment

    if previous is None:
        return current
    old = sorted(previous.clusters, key=lambda c: c.id)
    new = list(current.clusters)
    prev_all = {m for c in previous.clusters for m in c.member_ids} | set(previous.unclustered_ids)
    curr_all = {m for c in current.clusters for m in c.member_ids} | set(current.unclustered_ids)
    common = prev_all & curr_all
    old_sets = [set(c.member_ids) & common for c in old]
    new_sets = [set(c.member_ids) & common for c in new]
    n_old, n_new = len(old), len(new)
    inter = np.zeros((n_old, n_new))
    jac = np.zeros((n_old, n_new))
    cos = np.zeros((n_old, n_new))
    for i, a in enumerate(old_sets):
        for j, b in enumerate(new_sets):
            k = len(a & b)
            inter[i, j] = k
            union = len(a | b)
            jac[i, j] = k / union if union else 0.0
            ca, cb = np.asarray(old[i].centroid, np.float64), np.asarray(new[j].centroid, np.float64)
            if ca.shape == cb.shape and ca.size:
                denom = (np.linalg.norm(ca) * np.linalg.norm(cb)) or 1.0
                cos[i, j] = float(ca @ cb / denom)
    no_shared = np.array([[not a or not b for b in new_sets] for a in old_sets], dtype=bool).reshape(
        n_old, n_new
    )
    eligible = (jac >= min_jaccard) | (no_shared & (cos >= min_cosine))

    new_id: dict[int, str] = {}
    matched_old: set[int] = set()
    if n_old and n_new:
        # Maximise Jaccard; cosine is a small tie-breaker; ineligible pairs get a prohibitive cost.
        weight = np.where(eligible, jac + 1e-3 * cos + 1.0, 0.0)
        rows, cols = linear_sum_assignment(-weight)
        for i, j in zip(rows, cols, strict=True):
            if eligible[i, j]:
                new_id[j] = old[i].id
                matched_old.add(i)

    # Transitions between runs from member flows.
    old_size = np.array([len(a) for a in old_sets], dtype=np.float64).reshape(-1, 1)
    new_size = np.array([len(b) for b in new_sets], dtype=np.float64).reshape(1, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_out = np.where(old_size > 0, inter / np.maximum(old_size, 1), 0.0)
        share_in = np.where(new_size > 0, inter / np.maximum(new_size, 1), 0.0)
    flow = (share_out >= event_share) & (share_in >= event_share) & (inter > 0)

    counter = max([previous.last_id_number] + [parse_cluster_id(c.id) for c in previous.clusters])
    # Fresh ids in the current order (biggest first), after the highest number ever used.
    for j in range(n_new):
        if j not in new_id:
            counter += 1
            new_id[j] = format_cluster_id(counter)

    events: list[ClusterEvent] = []
    in_event_old: set[int] = set()
    in_event_new: set[int] = set()
    for j in range(n_new):
        srcs = [i for i in range(n_old) if flow[i, j]]
        if len(srcs) >= 2:
            events.append(ClusterEvent("merge", sorted(old[i].id for i in srcs), [new_id[j]]))
            in_event_old.update(srcs)
            in_event_new.add(j)
    for i in range(n_old):
        dsts = [j for j in range(n_new) if flow[i, j]]
        if len(dsts) >= 2:
            events.append(ClusterEvent("split", [old[i].id], sorted(new_id[j] for j in dsts)))
            in_event_old.add(i)
            in_event_new.update(dsts)
    matched_new = {j for j in new_id if new_id[j] in {o.id for o in old}}
    for j in range(n_new):
        if j not in matched_new and j not in in_event_new:
            events.append(ClusterEvent("new", [], [new_id[j]]))
    for i in range(n_old):
        if i not in matched_old and i not in in_event_old:
            events.append(ClusterEvent("vanished", [old[i].id], []))
    order = {"merge": 0, "split": 1, "new": 2, "vanished": 3}
    events.sort(key=lambda e: (order[e.kind], e.old_ids, e.new_ids))

    old_name = {o.id: o.name for o in old}
    renamed = [
        DeviationCluster(
            id=new_id[j],
            label=list(c.label),
            size=c.size,
            member_ids=list(c.member_ids),
            representative_ids=list(c.representative_ids),
            centroid=c.centroid,
            family=c.family,
            # A name QA gave a cluster stays with the cluster that carries its id.
            name=old_name.get(new_id[j], c.name),
        )
        for j, c in enumerate(new)
    ]
    renamed.sort(key=lambda c: (-c.size, parse_cluster_id(c.id), c.id))
    remap = {c.id: new_id[j] for j, c in enumerate(new)}
    diagnostics = dict(current.diagnostics)
    diagnostics["families"] = [
        {**f, "clusters": sorted(remap.get(c, c) for c in f["clusters"])}
        for f in diagnostics.get("families", [])
    ]
    params = dict(current.params)
    params["matched_to"] = previous.run_id
    params["match"] = {"min_jaccard": min_jaccard, "min_cosine": min_cosine, "event_share": event_share}
    return ClusterResult(
        clusters=renamed,
        unclustered_ids=list(current.unclustered_ids),
        params=params,
        timings=dict(current.timings),
        diagnostics=diagnostics,
        events=events,
        last_id_number=counter,
        run_id=current.run_id,
        created_at=current.created_at,
        fingerprint=current.fingerprint,
        entry_type=current.entry_type,
    )
