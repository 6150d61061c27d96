"""Persist clustering runs: save, load the latest or a given run, list (SQL: kb/storage/analytics_queries.py).

Tables (created when missing):
- cluster_runs: run_id, created_at (UTC ISO), entry_type, fingerprint, n_items, n_clusters, params JSON,
  diagnostics JSON, timings JSON, last_id_number (highest cluster number ever handed out).
- clusters: run_id, cluster_id, label JSON, size, centroid BLOB (little-endian float32).
- cluster_members: run_id, cluster_id (NULL for the unclustered remainder), entry_id,
  is_representative, rep_rank (1 = closest to the centroid).
- cluster_events: run_id, kind, old_ids JSON, new_ids JSON.

A run is written in one transaction and never changed afterwards (append-only, like the audit trail).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kb.analytics.clustering import ClusterEvent, ClusterResult, DeviationCluster
from kb.storage.analytics_queries import ClusterRunQueries


def _utc_now() -> str:
    # Same format as the entry store's timestamps.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _with_names(result: ClusterResult) -> dict[str, Any]:
    """Return the diagnostics plus the names QA gave clusters (the clusters table has no column for them)."""
    names = {c.id: c.name for c in result.clusters if c.name}
    return {**result.diagnostics, "names": names} if names else dict(result.diagnostics)


def save_run(db: ClusterRunQueries, result: ClusterResult, *, fingerprint: str, entry_type: str) -> str:
    """Write one clustering run (clusters, members, events) in a single transaction; return its run_id."""
    created_at = _utc_now()
    # Sortable by time, unique without coordination between processes.
    run_id = (
        "run-"
        + created_at.replace("-", "").replace(":", "").replace(".", "")[:15]
        + "-"
        + secrets.token_hex(4)
    )
    run_row = {
        "run_id": run_id,
        "created_at": created_at,
        "entry_type": entry_type,
        "fingerprint": fingerprint,
        "n_items": result.n_items,
        "n_clusters": len(result.clusters),
        "params": _dumps(result.params),
        # Names QA gave clusters ride in the diagnostics JSON (the clusters table has no column for them).
        "diagnostics": _dumps(_with_names(result)),
        "timings": _dumps(result.timings),
        "last_id_number": int(result.last_id_number),
    }
    cluster_rows = [
        {
            "run_id": run_id,
            "cluster_id": c.id,
            "label": _dumps(list(c.label)),
            "size": c.size,
            "centroid": np.asarray(c.centroid, dtype="<f4").tobytes(),
        }
        for c in result.clusters
    ]
    member_rows = []
    for c in result.clusters:
        rank = {eid: i for i, eid in enumerate(c.representative_ids, start=1)}
        for eid in c.member_ids:
            member_rows.append(
                {
                    "run_id": run_id,
                    "cluster_id": c.id,
                    "entry_id": eid,
                    "is_representative": int(eid in rank),
                    "rep_rank": rank.get(eid),
                }
            )
    for eid in result.unclustered_ids:
        member_rows.append(
            {"run_id": run_id, "cluster_id": None, "entry_id": eid, "is_representative": 0, "rep_rank": None}
        )
    event_rows = [
        {
            "run_id": run_id,
            "seq": i,
            "kind": e.kind,
            "old_ids": _dumps(e.old_ids),
            "new_ids": _dumps(e.new_ids),
        }
        for i, e in enumerate(result.events)
    ]
    # One transaction (a savepoint inside a caller's): a failed write leaves nothing behind.
    db.insert_cluster_run(run_row, cluster_rows, member_rows, event_rows)
    result.run_id = run_id
    result.created_at = created_at
    result.fingerprint = fingerprint
    result.entry_type = entry_type
    return run_id


def list_runs(db: ClusterRunQueries, *, entry_type: str | None = None) -> list[dict[str, Any]]:
    """Return a summary row per stored run, newest first."""
    out = []
    for row in db.cluster_run_summaries(entry_type):
        diag = json.loads(row[6])
        out.append(
            {
                "run_id": row[0],
                "created_at": row[1],
                "entry_type": row[2],
                "fingerprint": row[3],
                "n_items": row[4],
                "n_clusters": row[5],
                "unclustered_share": diag.get("unclustered_share"),
                "timings": json.loads(row[7]),
                "last_id_number": row[8],
            }
        )
    return out


def load_run(
    db: ClusterRunQueries, run_id: str | None = None, *, entry_type: str | None = None
) -> ClusterResult | None:
    """Return a stored run as a ClusterResult (the latest when run_id is None), or None if there is none."""
    row = db.cluster_run_row(run_id, entry_type)
    if row is None and run_id is not None:
        raise KeyError(f"no clustering run '{run_id}'")
    if row is None:
        return None
    rid = row[0]
    members: dict[str | None, list[tuple[str, int | None]]] = {}
    for cid, eid, rep_rank in db.cluster_run_members(rid):
        members.setdefault(cid, []).append((eid, rep_rank))
    clusters = []
    for cid, label, size, blob in db.cluster_run_clusters(rid):
        mem = members.get(cid, [])
        reps = sorted((r, e) for e, r in mem if r is not None)
        clusters.append(
            DeviationCluster(
                id=cid,
                label=json.loads(label),
                size=int(size),
                member_ids=[e for e, _ in mem],
                representative_ids=[e for _, e in reps],
                centroid=np.frombuffer(blob, dtype="<f4").astype(np.float32)
                if blob
                else np.zeros(0, np.float32),
            )
        )
    clusters.sort(key=lambda c: (-c.size, c.id))
    diagnostics = json.loads(row[5])
    family_of = {cid: f["id"] for f in diagnostics.get("families", []) for cid in f["clusters"]}
    names = diagnostics.pop("names", {})
    for c in clusters:
        c.family = family_of.get(c.id)
        c.name = names.get(c.id)
    events = [
        ClusterEvent(kind, json.loads(old), json.loads(new)) for kind, old, new in db.cluster_run_events(rid)
    ]
    return ClusterResult(
        clusters=clusters,
        unclustered_ids=[e for e, _ in members.get(None, [])],
        params=json.loads(row[4]),
        timings=json.loads(row[6]),
        diagnostics=diagnostics,
        events=events,
        last_id_number=int(row[7]),
        run_id=rid,
        created_at=row[1],
        fingerprint=row[3],
        entry_type=row[2],
    )


def cluster_assignments(db: ClusterRunQueries, run_id: str | None = None) -> dict[str, str | None]:
    """Return entry id -> cluster id (None when unclustered) for a run (the latest by default)."""
    result = load_run(db, run_id)
    if result is None:
        return {}
    out: dict[str, str | None] = {e: None for e in result.unclustered_ids}
    out.update(result.cluster_of())
    return out
