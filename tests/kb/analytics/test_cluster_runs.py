"""Persistence of clustering runs in SQLite: round trip, latest run, one transaction, carried-over ids."""

from __future__ import annotations

import numpy as np
import pytest

from kb.analytics.cluster_runs import cluster_assignments, list_runs, load_run, save_run
from kb.analytics.clustering import ClusterEvent, cluster_deviations, match_to_previous
from kb.models import KBError
from kb.storage.sqlite import SQLiteStore


def _vectors(n_blobs: int, per_blob: int, seed: int, first: int = 0, centers=None):
    rng = np.random.default_rng(seed)
    if centers is None:
        centers = rng.normal(size=(n_blobs, 64))
    x = np.repeat(centers, per_blob, axis=0) + 0.05 * rng.normal(size=(n_blobs * per_blob, 64))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"KB-{i:06d}" for i in range(first, first + len(x))]
    words = ["pump kink tubing", "haze plasmid pei", "orange medium feed", "freezer bag crack"]
    texts = [words[i // per_blob % len(words)] for i in range(len(x))]
    return ids, x, texts, centers


@pytest.fixture
def db(tmp_path):
    """The SQLite store (its migrations make the clustering tables)."""
    store = SQLiteStore(tmp_path / "kb.sqlite")
    yield store
    store.close()


def test_round_trip_keeps_everything(db):
    ids, x, texts, _ = _vectors(3, 20, seed=1)
    res = cluster_deviations(ids, x, texts)
    res.events = [ClusterEvent("new", [], ["C-002"])]
    run_id = save_run(db, res, fingerprint="minilm:abc:384", entry_type="deviation")
    got = load_run(db, run_id)
    assert got is not None
    assert got.to_dict() == res.to_dict()
    for a, b in zip(got.clusters, res.clusters, strict=True):
        assert a.centroid.dtype == np.float32
        assert np.array_equal(a.centroid, b.centroid)
        assert a.representative_ids == b.representative_ids  # order: closest first
    assert got.fingerprint == "minilm:abc:384" and got.entry_type == "deviation"
    n_members = db.conn.execute("SELECT count(*) FROM cluster_members WHERE run_id = ?", [run_id]).fetchone()[
        0
    ]
    assert n_members == len(ids)


def test_latest_run_and_listing(db):
    assert load_run(db) is None
    assert list_runs(db) == []
    ids, x, texts, centers = _vectors(2, 15, seed=2)
    first = cluster_deviations(ids, x, texts)
    r1 = save_run(db, first, fingerprint="fp", entry_type="deviation")
    more = _vectors(2, 5, seed=3, first=100, centers=centers)
    second = cluster_deviations(ids + more[0], np.vstack([x, more[1]]), texts + more[2])
    r2 = save_run(db, second, fingerprint="fp", entry_type="deviation")
    assert load_run(db).run_id == r2
    assert load_run(db, r1).n_items == len(ids)
    assert [r["run_id"] for r in list_runs(db)] == [r2, r1]
    assert list_runs(db)[0]["n_items"] == len(ids) + 10
    with pytest.raises(KeyError):
        load_run(db, "run-nope")
    assign = cluster_assignments(db)
    assert set(assign) == set(ids + more[0])


def test_a_failed_save_leaves_nothing_behind(db):
    ids, x, texts, _ = _vectors(2, 10, seed=4)
    res = cluster_deviations(ids, x, texts)
    save_run(db, res, fingerprint="fp", entry_type="deviation")
    # The same entry twice in one run breaks the (run_id, entry_id) key halfway through the writes.
    res.unclustered_ids = [res.clusters[0].member_ids[0]]
    with pytest.raises(KBError):
        save_run(db, res, fingerprint="fp", entry_type="deviation")
    assert db.conn.execute("SELECT count(*) FROM cluster_runs").fetchone()[0] == 1
    assert db.conn.execute("SELECT count(DISTINCT run_id) FROM clusters").fetchone()[0] == 1
    assert db.conn.execute("SELECT count(DISTINCT run_id) FROM cluster_members").fetchone()[0] == 1


def test_ids_carry_over_through_a_stored_run(db):
    ids, x, texts, centers = _vectors(3, 15, seed=5)
    first = match_to_previous(None, cluster_deviations(ids, x, texts))
    save_run(db, first, fingerprint="fp", entry_type="deviation")
    stored = load_run(db)
    # The added blob is the biggest, so fresh numbering would call it C-001: stored ids must win.
    rng = np.random.default_rng(6)
    extra_center = rng.normal(size=(1, 64))
    ids2, x2, t2, _ = _vectors(1, 30, seed=7, first=500, centers=extra_center)
    second = match_to_previous(stored, cluster_deviations(ids + ids2, np.vstack([x, x2]), texts + t2))
    old = {frozenset(c.member_ids): c.id for c in first.clusters}
    for c in second.clusters:
        key = frozenset(m for m in c.member_ids if m in set(ids))
        if key:
            assert c.id == old[key]
        else:
            assert c.id == "C-004"
    run2 = save_run(db, second, fingerprint="fp", entry_type="deviation")
    again = load_run(db, run2)
    assert again.last_id_number == 4
    assert [(e.kind, e.new_ids) for e in again.events] == [("new", ["C-004"])]
