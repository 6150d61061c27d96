"""DeviationClusterer: the estimator face of clustering (fit, fitted attributes, reproducible)."""

from __future__ import annotations

import numpy as np

from kb.analytics.clusterer import DeviationClusterer


def _blobs(seed: int = 3, per_blob: int = 30):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, 64))
    x = np.repeat(centres, per_blob, axis=0) + 0.05 * rng.normal(size=(4 * per_blob, 64))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    words = ["pump kink tubing", "haze plasmid pei", "orange medium feed", "freezer bag crack"]
    ids = [f"KB-{i:06d}" for i in range(len(x))]
    return ids, x, [words[i // per_blob] for i in range(len(x))]


def test_fit_leaves_labels_centroids_and_the_run():
    ids, x, texts = _blobs()
    model = DeviationClusterer(random_state=0).fit(ids, x, texts)
    assert model.labels_.shape == (len(ids),) and model.n_clusters_ == len(model.cluster_ids_) == 4
    assert model.centroids_.shape == (4, 64)
    # Each blob is one cluster: records of one blob share a label.
    for blob in range(4):
        assert len(set(model.labels_[blob * 30 : (blob + 1) * 30].tolist()) - {-1}) == 1
    by_label = {model.cluster_ids_[i]: i for i in range(model.n_clusters_)}
    for cluster in model.result_.clusters:
        assert all(model.labels_[ids.index(m)] == by_label[cluster.id] for m in cluster.member_ids)
    assert all(model.labels_[ids.index(u)] == -1 for u in model.result_.unclustered_ids)


def test_same_data_and_parameters_give_the_same_clusters():
    ids, x, texts = _blobs()
    first = DeviationClusterer(random_state=7, n_clusters=4).fit_predict(ids, x, texts)
    again = DeviationClusterer(random_state=7, n_clusters=4).fit_predict(ids, x, texts)
    assert np.array_equal(first, again)
    assert DeviationClusterer(random_state=7, n_clusters=4).get_params() == {
        "random_state": 7,
        "n_clusters": 4,
    }
