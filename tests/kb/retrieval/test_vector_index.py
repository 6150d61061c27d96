"""The FAISS index: exact or IVF by size, filtered search, atomic save, refusing broken files."""

from __future__ import annotations

import numpy as np
import pytest

from kb.files import meta_path
from kb.models import KBError
from kb.retrieval.vector_index import VectorIndex


def unit_vectors(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_small_index_is_exact_and_finds_itself():
    x = unit_vectors(200)
    index = VectorIndex.build(np.arange(1, 201), x, fingerprint="m", dim=32, version=1)
    assert index.meta.kind == "flat"
    seqs, sims = index.search(x[41], 3)
    assert seqs[0] == 42 and sims[0] == pytest.approx(1.0, abs=1e-5)


def test_large_index_is_ivf_with_high_recall():
    x = unit_vectors(3000, seed=1)
    ivf = VectorIndex.build(np.arange(1, 3001), x, fingerprint="m", dim=32, version=1, exact_limit=1000)
    flat = VectorIndex.build(np.arange(1, 3001), x, fingerprint="m", dim=32, version=1)
    assert ivf.meta.kind == "ivf"
    queries = unit_vectors(50, seed=2)
    recall = np.mean([len(set(ivf.search(q, 10)[0]) & set(flat.search(q, 10)[0])) / 10 for q in queries])
    assert recall >= 0.95


def test_filtered_search_is_complete_even_for_ivf():
    x = unit_vectors(3000, seed=3)
    ivf = VectorIndex.build(
        np.arange(1, 3001), x, fingerprint="m", dim=32, version=1, exact_limit=1000, nprobe=1
    )
    allowed = np.arange(1, 3001, 250)  # 12 scattered ids across many lists
    seqs, _ = ivf.search(unit_vectors(1, seed=4)[0], 50, allowed)
    assert sorted(seqs) == sorted(allowed)


@pytest.mark.parametrize(
    ("n_allowed", "with_removed_id", "by_lookup"),
    [(30, False, True), (30, True, False), (2000, False, False)],  # lookup by id, else a selector
)
def test_filtered_search_ranks_exactly_like_brute_force(n_allowed, with_removed_id, by_lookup, monkeypatch):
    import kb.retrieval.vector_index as index_module

    monkeypatch.setattr(index_module, "EXACT_FILTER_LIMIT", 1000)
    x = unit_vectors(3000, seed=5)
    ivf = VectorIndex.build(
        np.arange(1, 3001), x, fingerprint="m", dim=32, version=1, exact_limit=1000, nprobe=1
    )
    ivf.remove(np.array([11, 12]))  # the by-id map must forget removed vectors
    ivf.upsert(np.array([13]), x[100:101])
    held = {i + 1: x[i] for i in range(3000) if i + 1 not in (11, 12)} | {13: x[100]}
    rng = np.random.default_rng(6)
    allowed = np.unique(rng.choice(np.arange(14, 3001), size=n_allowed, replace=False))
    allowed = np.union1d(allowed, [11, 13] if with_removed_id else [13])  # 11 has no vector: never a hit
    query = unit_vectors(1, seed=7)[0]
    lookup = (
        len(allowed) <= index_module.EXACT_FILTER_LIMIT and ivf._search_among(query, 20, allowed) is not None
    )
    assert lookup == by_lookup
    seqs, sims = ivf.search(query, 20, allowed)
    truth = sorted((-float(held[s] @ query), s) for s in allowed.tolist() if s in held)[:20]
    assert list(seqs) == [s for _, s in truth]
    assert np.allclose(sims, [-v for v, _ in truth], atol=1e-5)


def test_upsert_and_remove():
    x = unit_vectors(10)
    index = VectorIndex.build(np.arange(1, 11), x, fingerprint="m", dim=32, version=1)
    index.remove(np.array([3]))
    assert index.meta.count == 9 and 3 not in index.search(x[2], 10)[0]
    index.upsert(np.array([3]), x[2:3])
    index.upsert(np.array([3]), x[2:3])
    assert index.meta.count == 10 and index.search(x[2], 1)[0][0] == 3


def test_ties_break_by_id_for_a_deterministic_order():
    v = unit_vectors(1)[0]
    index = VectorIndex.build(np.array([9, 4, 7]), np.vstack([v, v, v]), fingerprint="m", dim=32, version=1)
    assert list(index.search(v, 3)[0]) == [4, 7, 9]


def test_save_load_round_trip_and_no_temp_files(tmp_path):
    x = unit_vectors(20)
    path = tmp_path / "index.faiss"
    VectorIndex.build(np.arange(1, 21), x, fingerprint="m", dim=32, version=7).save(path)
    loaded = VectorIndex.load(path)
    assert loaded.meta.version == 7 and loaded.meta.count == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.faiss", "index.faiss.json"]


@pytest.mark.parametrize("damage", ["truncate", "delete", "delete_meta", "garbage_meta"])
def test_broken_files_are_refused_with_a_reason(tmp_path, damage):
    path = tmp_path / "index.faiss"
    VectorIndex.build(np.arange(1, 21), unit_vectors(20), fingerprint="m", dim=32, version=1).save(path)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "delete":
        path.unlink()
    elif damage == "delete_meta":
        meta_path(path).unlink()
    else:
        meta_path(path).write_text("{not json")
    with pytest.raises(KBError, match="index"):
        VectorIndex.load(path)


def test_filter_cache_never_serves_vectors_older_than_the_index():
    x = unit_vectors(300, seed=8)
    index = VectorIndex.build(np.arange(1, 301), x, fingerprint="m", dim=32, version=1)
    allowed = np.array([5, 50, 150, 250], dtype=np.int64)
    query = x[49]
    assert index.search(query, 1, allowed)[0][0] == 50
    assert index.search(query, 1, allowed)[0][0] == 50  # served from the cache
    index.upsert(np.array([5]), x[49:50])  # entry 5 now has 50's vector: a tie, broken by id
    assert list(index.search(query, 2, allowed)[0]) == [5, 50]
    index.remove(np.array([5]))
    seqs = list(index.search(query, 4, allowed)[0])
    assert seqs[0] == 50 and 5 not in seqs and sorted(seqs) == [50, 150, 250]
