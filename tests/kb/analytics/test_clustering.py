"""Clustering of deviation vectors: determinism, outliers, c-TF-IDF labels, stable ids and events."""

from __future__ import annotations

import numpy as np
import pytest

from kb.analytics.clustering import (
    ClusterResult,
    DeviationCluster,
    cluster_deviations,
    ctfidf_labels,
    format_cluster_id,
    match_to_previous,
)

DIM = 384
# One distinctive vocabulary per blob; every text also carries boilerplate that must not label it.
TOPICS = [
    "medium turned orange early feed glucose",
    "plasmid pei complex haze transfection",
    "pump tubing kink peristaltic occlusion",
    "cryobag leak freezer thaw crack",
    "filter clog tff transmembrane pressure",
    "label mixup vial print barcode",
    "incubator co2 alarm door sensor",
    "viability drop harvest debead wash",
]
BOILERPLATE = "deviation recorded per SOP-104 in batch record B{n} lot 2024-{n:03d} at 37 C 5 mL"


def blob_vectors(
    n_blobs: int, per_blob: int, *, seed: int = 0, noise: float = 0.35, first_id: int = 0, centers=None
) -> tuple[list[str], np.ndarray, list[str], list[int], np.ndarray]:
    """Return ids, unit vectors, texts, true blob of each item and the blob centres."""
    rng = np.random.default_rng(seed)
    if centers is None:
        centers = rng.normal(size=(n_blobs, DIM))
        centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    ids, vecs, texts, truth = [], [], [], []
    n = first_id
    for b in range(n_blobs):
        for _ in range(per_blob):
            v = centers[b] + noise * rng.normal(size=DIM) / np.sqrt(DIM)
            vecs.append(v / np.linalg.norm(v))
            words = TOPICS[b % len(TOPICS)].split()
            picked = rng.choice(words, size=4, replace=False)
            texts.append(" ".join(picked) + " " + BOILERPLATE.format(n=n))
            ids.append(f"KB-{n:06d}")
            truth.append(b)
            n += 1
    return ids, np.asarray(vecs, dtype=np.float32), texts, truth, centers


def comparable(result: ClusterResult) -> dict:
    d = result.to_dict()
    d.pop("timings")
    d["centroids"] = [c.centroid.tobytes() for c in result.clusters]
    return d


def test_same_input_gives_identical_clusters():
    ids, x, texts, _, _ = blob_vectors(5, 40)
    a = cluster_deviations(ids, x, texts, random_state=0)
    b = cluster_deviations(ids, x, texts, random_state=0)
    assert comparable(a) == comparable(b)
    assert a.params["random_state"] == 0 and a.params["min_cluster_size"] >= 3
    assert set(a.timings) >= {"prepare", "reduce", "select_k", "fit", "outliers", "label", "total"}


def test_shuffled_input_order_gives_identical_clusters():
    ids, x, texts, _, _ = blob_vectors(5, 40, seed=3)
    perm = np.random.default_rng(1).permutation(len(ids))
    a = cluster_deviations(ids, x, texts)
    b = cluster_deviations([ids[i] for i in perm], x[perm], [texts[i] for i in perm])
    assert comparable(a) == comparable(b)


def test_recovers_separated_blobs_with_small_remainder():
    ids, x, texts, truth, _ = blob_vectors(6, 50, seed=2)
    res = cluster_deviations(ids, x, texts)
    assert len(res.clusters) == 6
    blob_of = dict(zip(ids, truth, strict=True))
    for c in res.clusters:
        assert len({blob_of[m] for m in c.member_ids}) == 1, "a cluster mixes two blobs"
    assert len(res.unclustered_ids) / len(ids) < 0.05
    assert res.diagnostics["unclustered_share"] == pytest.approx(
        len(res.unclustered_ids) / len(ids), abs=1e-6
    )
    # Every item is accounted for exactly once.
    members = [m for c in res.clusters for m in c.member_ids] + res.unclustered_ids
    assert sorted(members) == sorted(ids)


def test_far_points_become_unclustered():
    ids, x, texts, _, _ = blob_vectors(4, 40, seed=5)
    rng = np.random.default_rng(9)
    odd = rng.normal(size=(4, DIM))
    odd /= np.linalg.norm(odd, axis=1, keepdims=True)
    odd_ids = [f"KB-9{i:05d}" for i in range(4)]
    res = cluster_deviations(ids + odd_ids, np.vstack([x, odd]).astype(np.float32), texts + ["odd one"] * 4)
    assert set(odd_ids) <= set(res.unclustered_ids)
    assert len(res.unclustered_ids) <= 4 + 0.05 * len(ids)


def test_labels_pick_distinctive_words_and_drop_boilerplate():
    ids, x, texts, truth, _ = blob_vectors(4, 30, seed=4)
    res = cluster_deviations(ids, x, texts)
    blob_of = dict(zip(ids, truth, strict=True))
    for c in res.clusters:
        topic_words = set(TOPICS[blob_of[c.member_ids[0]]].split())
        assert c.label, "empty label"
        label_words = {w for term in c.label for w in term.split()}
        assert label_words <= topic_words, (c.label, topic_words)
        assert len(c.label) <= 5


def test_ctfidf_prefers_words_unique_to_a_group():
    groups = [
        ["pump noise tubing kink 12 mL", "pump tubing kink again", "pump kink"],
        ["pump haze transfection", "pump haze plasmid", "haze plasmid pump"],
    ]
    labels = ctfidf_labels(groups, n_terms=3)
    # "pump" is in every text of both groups: alone it distinguishes nothing.
    assert all(term != "pump" for lab in labels for term in lab)
    assert labels[0][0] in ("kink", "tubing kink")
    assert labels[1][0] in ("haze", "haze plasmid", "plasmid")
    assert not any(w in ("ml", "12") for lab in labels for term in lab for w in term.split())
    # Background texts count toward commonness: "haze" everywhere in it stops being distinctive.
    with_bg = ctfidf_labels(groups, n_terms=3, background=["haze"] * 30)
    assert "haze" not in with_bg[1]


def test_representatives_are_closest_to_centroid():
    ids, x, texts, _, _ = blob_vectors(3, 30, seed=6)
    res = cluster_deviations(ids, x, texts, n_representatives=3)
    vec = dict(zip(ids, x, strict=True))
    for c in res.clusters:
        sims = {m: float(vec[m] @ c.centroid) for m in c.member_ids}
        best = sorted(sims, key=lambda m: -sims[m])[:3]
        assert c.representative_ids == best


def test_rejects_inconsistent_input():
    ids, x, texts, _, _ = blob_vectors(2, 10)
    with pytest.raises(ValueError):
        cluster_deviations(ids[:-1], x, texts)
    with pytest.raises(ValueError):
        cluster_deviations([ids[0]] * len(ids), x, texts)
    empty = cluster_deviations([], np.zeros((0, DIM), np.float32), [])
    assert empty.clusters == [] and empty.unclustered_ids == []


def test_new_blob_gets_fresh_id_and_old_clusters_keep_theirs():
    ids, x, texts, truth, centers = blob_vectors(4, 40, seed=7)
    first = cluster_deviations(ids, x, texts)
    first = match_to_previous(None, first)
    assert [c.id for c in first.clusters] == [format_cluster_id(i) for i in range(1, 5)]
    # Add entries: more of the old blobs and a brand-new fifth blob.
    rng = np.random.default_rng(70)
    new_center = rng.normal(size=(1, DIM))
    new_center /= np.linalg.norm(new_center)
    more_ids, more_x, more_t, more_truth, _ = blob_vectors(4, 5, seed=71, first_id=1000, centers=centers)
    n5_ids, n5_x, n5_t, _, _ = blob_vectors(1, 30, seed=72, first_id=2000, centers=new_center)
    second = cluster_deviations(ids + more_ids + n5_ids, np.vstack([x, more_x, n5_x]), texts + more_t + n5_t)
    second = match_to_previous(first, second)
    old_by_blob = {truth[ids.index(c.member_ids[0])]: c.id for c in first.clusters}
    new_blob_ids = set(n5_ids)
    for c in second.clusters:
        if set(c.member_ids) & new_blob_ids:
            assert c.id == "C-005"
        else:
            assert c.id == old_by_blob[truth[ids.index(c.member_ids[0])]]
    kinds = [(e.kind, e.old_ids, e.new_ids) for e in second.events]
    assert kinds == [("new", [], ["C-005"])]
    assert second.last_id_number == 5


def _result(groups: dict[str, list[str]], centroids: dict[str, np.ndarray], last: int = 0) -> ClusterResult:
    clusters = [
        DeviationCluster(cid, [cid.lower()], len(m), sorted(m), sorted(m)[:1], centroids[cid])
        for cid, m in groups.items()
    ]
    return ClusterResult(clusters, [], {}, {}, last_id_number=last or len(clusters))


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=16)
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_merge_split_vanished_and_ids_never_reused():
    a = [f"a{i}" for i in range(20)]
    b = [f"b{i}" for i in range(20)]
    c = [f"c{i}" for i in range(20)]
    d = [f"d{i}" for i in range(20)]
    e = [f"e{i}" for i in range(10)]
    # C-007 was handed out in an earlier run and has vanished since: the counter says 7.
    prev = _result(
        {"C-001": a, "C-002": b, "C-003": c + d, "C-004": e},
        {"C-001": _unit(1), "C-002": _unit(2), "C-003": _unit(3), "C-004": _unit(4)},
        last=7,
    )
    # Now: A and B merged; C+D split into C and D; E is gone (its entries were retired).
    cur = _result(
        {"C-001": a + b, "C-002": c, "C-003": d},
        {"C-001": _unit(1), "C-002": _unit(3), "C-003": _unit(5)},
    )
    out = match_to_previous(prev, cur)
    by_members = {frozenset(cl.member_ids): cl.id for cl in out.clusters}
    merged = by_members[frozenset(a + b)]
    assert merged in ("C-001", "C-002")
    split_ids = {by_members[frozenset(c)], by_members[frozenset(d)]}
    assert "C-003" in split_ids and "C-008" in split_ids  # one half keeps the id, the other is fresh
    events = {(ev.kind, tuple(ev.old_ids), tuple(ev.new_ids)) for ev in out.events}
    assert ("merge", ("C-001", "C-002"), (merged,)) in events
    assert ("split", ("C-003",), tuple(sorted(split_ids))) in events
    assert ("vanished", ("C-004",), ()) in events
    assert not any(ev.kind == "new" for ev in out.events)
    assert out.last_id_number == 8


def test_low_overlap_does_not_carry_an_id():
    a = [f"a{i}" for i in range(20)]
    prev = _result({"C-001": a}, {"C-001": _unit(1)})
    # Only 4 of the 20 old members end up together, with 16 other shared entries.
    others = [f"x{i}" for i in range(16)]
    prev.unclustered_ids = others
    cur = _result({"C-001": a[:4] + others}, {"C-001": _unit(9)})
    cur.unclustered_ids = a[4:]
    out = match_to_previous(prev, cur)
    assert out.clusters[0].id == "C-002"
    assert {(ev.kind, tuple(ev.old_ids), tuple(ev.new_ids)) for ev in out.events} == {
        ("new", (), ("C-002",)),
        ("vanished", ("C-001",), ()),
    }


def test_ten_thousand_vectors_cluster_with_a_small_remainder():
    # Its speed is measured in bench/cluster.py (clustering plus drift on 10,000), not timed here.
    rng = np.random.default_rng(11)
    centers = rng.normal(size=(40, DIM))
    x = centers[rng.integers(0, 40, 10_000)] + 0.8 * rng.normal(size=(10_000, DIM)) / np.sqrt(DIM) * 8
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"KB-{i:06d}" for i in range(10_000)]
    res = cluster_deviations(ids, x, ["pump kink"] * 10_000)
    assert res.diagnostics["unclustered_share"] < 0.15
    assert sum(c.size for c in res.clusters) + len(res.unclustered_ids) == 10_000


def test_k_stays_at_failure_mode_level_and_families_hold_the_topics():
    """Two broad topics of six failure modes each: the silhouette alone prefers 2; the floor keeps k fine."""
    from kb.analytics.clustering import default_min_clusters

    rng = np.random.default_rng(11)
    tops = rng.normal(size=(2, DIM))
    ids, vecs, texts, topic = [], [], [], []
    for t in range(2):
        for m in range(6):
            centre = tops[t] + 0.55 * rng.normal(size=DIM)
            for _ in range(50):
                v = centre + 0.25 * rng.normal(size=DIM)
                vecs.append(v / np.linalg.norm(v))
                ids.append(f"KB-{len(ids):06d}")
                texts.append(f"{TOPICS[t]} mode{t}{m} case")
                topic.append(t)
    x = np.asarray(vecs, dtype=np.float32)
    res = cluster_deviations(ids, x, texts)
    assert default_min_clusters(600) == 7 and res.diagnostics["k"] >= 7
    assert res.params["min_clusters"] == 7
    by_id = dict(zip(ids, topic, strict=True))
    assert len(res.families) >= 2
    for fam in res.families:
        members = [m for c in res.clusters if c.id in fam["clusters"] for m in c.member_ids]
        shares = np.bincount([by_id[m] for m in members], minlength=2) / len(members)
        assert shares.max() >= 0.95, "a family mixes the two broad topics"
