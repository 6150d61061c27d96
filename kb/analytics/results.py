"""What a clustering run returns: clusters, events between runs, the result, and cluster ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

CLUSTER_ID_PREFIX = "C-"


@dataclass
class DeviationCluster:
    """One group of similar deviations: id, top terms, members, representatives and centroid."""

    id: str
    label: list[str]
    size: int
    member_ids: list[str]
    representative_ids: list[str]
    centroid: np.ndarray = field(repr=False)
    family: str | None = None  # the coarse group (F-1, ...) this cluster belongs to
    name: str | None = None  # a name QA gave the cluster (curation); None: the label speaks

    def title(self) -> str:
        """Return the name QA gave the cluster, else its label terms."""
        return self.name or ", ".join(self.label)

    def to_dict(self) -> dict[str, Any]:
        """Return the cluster as a JSON-ready dict (centroid left out)."""
        return {
            "id": self.id,
            "family": self.family,
            "name": self.name,
            "label": list(self.label),
            "size": self.size,
            "member_ids": list(self.member_ids),
            "representative_ids": list(self.representative_ids),
        }


@dataclass
class ClusterEvent:
    """A change between two clustering runs: merge, split, new or vanished."""

    kind: str  # merge | split | new | vanished
    old_ids: list[str]
    new_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-ready dict."""
        return {"kind": self.kind, "old_ids": list(self.old_ids), "new_ids": list(self.new_ids)}


@dataclass
class ClusterResult:
    """The outcome of one clustering run: clusters, the unclustered remainder, parameters, timings."""

    clusters: list[DeviationCluster]
    unclustered_ids: list[str]
    params: dict[str, Any]
    timings: dict[str, float]
    diagnostics: dict[str, Any] = field(default_factory=dict)
    events: list[ClusterEvent] = field(default_factory=list)
    # Highest cluster number ever handed out along this chain of runs (so ids are never reused).
    last_id_number: int = 0
    run_id: str | None = None
    created_at: str | None = None
    fingerprint: str | None = None
    entry_type: str | None = None

    @property
    def n_items(self) -> int:
        """Return the number of items clustered (members plus unclustered)."""
        return sum(c.size for c in self.clusters) + len(self.unclustered_ids)

    @property
    def families(self) -> list[dict[str, Any]]:
        """Return the family level: id, label, cluster ids and size of each family (may be empty)."""
        return list(self.diagnostics.get("families", []))

    def cluster_of(self) -> dict[str, str]:
        """Return a map from entry id to cluster id (unclustered entries are absent)."""
        return {mid: c.id for c in self.clusters for mid in c.member_ids}

    def get(self, cluster_id: str) -> DeviationCluster:
        """Return the cluster with this id, or raise KeyError."""
        for c in self.clusters:
            if c.id == cluster_id:
                return c
        raise KeyError(cluster_id)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict (centroids left out)."""
        return {
            "run_id": self.run_id,
            "created_at": self.created_at,
            "fingerprint": self.fingerprint,
            "entry_type": self.entry_type,
            "n_items": self.n_items,
            "clusters": [c.to_dict() for c in self.clusters],
            "unclustered_ids": list(self.unclustered_ids),
            "params": self.params,
            "diagnostics": self.diagnostics,
            "timings": self.timings,
            "events": [e.to_dict() for e in self.events],
            "last_id_number": self.last_id_number,
        }


def format_cluster_id(number: int) -> str:
    """Return the cluster id for a number (C-001)."""
    return f"{CLUSTER_ID_PREFIX}{number:03d}"


def parse_cluster_id(cluster_id: str) -> int:
    """Return the number inside a cluster id (0 if it has none)."""
    tail = cluster_id[len(CLUSTER_ID_PREFIX) :] if cluster_id.startswith(CLUSTER_ID_PREFIX) else ""
    return int(tail) if tail.isdigit() else 0
