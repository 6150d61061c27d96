"""Deviation clustering as an estimator: parameters when made, `fit` on records, fitted attributes after.

In the manner of scikit-learn: `DeviationClusterer(random_state=0).fit(ids, vectors, texts)` leaves
`labels_` (the index of each record's cluster, -1 for the unclustered remainder), `cluster_ids_`,
`centroids_`, `families_`, `n_clusters_` and the whole `result_` (a ClusterResult, what runs store).
The same data and parameters give the same clusters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kb.analytics.clustering import cluster_deviations
from kb.analytics.results import ClusterResult


class DeviationClusterer:
    """Groups deviations into failure modes (k-means on text meaning plus words, k by silhouette)."""

    def __init__(self, *, random_state: int = 0, **params: Any) -> None:
        # Every keyword of cluster_deviations is a parameter (n_clusters, min_cluster_size, lexical_weight...).
        self.random_state = random_state
        self.params = dict(params)

    def get_params(self) -> dict[str, Any]:
        """Return the parameters the estimator was made with."""
        return {"random_state": self.random_state, **self.params}

    def fit(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        texts: Sequence[str],
        *,
        init_groups: Sequence[Sequence[str]] | None = None,
    ) -> DeviationClusterer:
        """Cluster the records (init_groups: a previous run's members, to start from its centroids)."""
        result = cluster_deviations(
            ids, vectors, texts, random_state=self.random_state, init_groups=init_groups, **self.params
        )
        self.result_: ClusterResult = result
        self.cluster_ids_: list[str] = [c.id for c in result.clusters]
        index = {member: i for i, c in enumerate(result.clusters) for member in c.member_ids}
        self.labels_: np.ndarray = np.array([index.get(i, -1) for i in ids], dtype=np.int64)
        dim = np.asarray(vectors).shape[1] if len(ids) else 0
        self.centroids_: np.ndarray = (
            np.vstack([np.asarray(c.centroid, dtype=np.float32) for c in result.clusters])
            if result.clusters
            else np.zeros((0, dim), dtype=np.float32)
        )
        self.families_: list[dict[str, Any]] = result.families
        self.n_clusters_: int = len(result.clusters)
        return self

    def fit_predict(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Fit, then return labels_."""
        return self.fit(ids, vectors, texts).labels_
