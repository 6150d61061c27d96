"""The FAISS index: a cache of the stored vectors, saved atomically and rebuilt from the store when in doubt.

Index type by size: below `EXACT_LIMIT` vectors an exact inner-product index (IndexFlatIP), above it an
inverted-file index (IndexIVFFlat, nlist ~ 4*sqrt(n), trained on a fixed-seed sample) searched with
`nprobe` lists, where nprobe is tuned at build time: the smallest power of two whose recall@10 against
exact search, on a fixed-seed sample of the stored vectors used as queries, reaches `TARGET_RECALL`.
Filtered searches are exact and complete whatever the index type: up to `EXACT_FILTER_LIMIT` allowed
entries, their vectors are looked up by id and scored directly (a selective filter costs a few
milliseconds even at 1M entries); above it, an id selector is passed and every list is probed.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.files import atomic_write, read_meta, write_meta
from kb.models import KBError

if TYPE_CHECKING:  # faiss is imported where an index is built or read: commands without one skip it
    import faiss

EXACT_LIMIT = 50_000
DEFAULT_NPROBE = 32
TRAIN_SAMPLE = 50_000
RANDOM_STATE = 0
TARGET_RECALL = 0.97
MIN_NPROBE = 8
TUNING_QUERIES = 200
EXACT_FILTER_LIMIT = 20_000
# Vectors of recent filters kept in memory (all filters together, at most): a user who sets a filter
# usually runs several queries under it, and reading 10k vectors scattered over a 1M index costs ~20 ms.
FILTER_CACHE_VECTORS = 100_000


@dataclass
class IndexMeta:
    """What an index file reflects: model fingerprint, store version, vector count, index kind."""

    fingerprint: str
    version: int
    count: int
    kind: str
    dim: int
    nprobe: int = DEFAULT_NPROBE


class VectorIndex:
    """A FAISS index keyed by entry sequence numbers (KB-000123 -> 123)."""

    def __init__(self, index: faiss.Index, meta: IndexMeta) -> None:
        self.index = index
        self.meta = meta
        self._filter_cache: OrderedDict[bytes, np.ndarray] = OrderedDict()  # allowed ids -> their vectors

    # -- building ---------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        seqs: np.ndarray,
        matrix: np.ndarray,
        *,
        fingerprint: str,
        dim: int,
        version: int,
        exact_limit: int = EXACT_LIMIT,
        nprobe: int = DEFAULT_NPROBE,
    ) -> VectorIndex:
        """Return a new index over these vectors, exact or IVF depending on their number."""
        import faiss

        n = int(len(seqs))
        if n and matrix.shape[1] != dim:
            raise KBError(f"stored vectors have dimension {matrix.shape[1]}, the model has {dim}")
        if n <= exact_limit:
            index: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
            kind = "flat"
        else:
            nlist = int(4 * math.sqrt(n))
            quantizer = faiss.IndexFlatIP(dim)
            ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.cp.seed = RANDOM_STATE
            rng = np.random.default_rng(RANDOM_STATE)
            sample = (
                matrix if n <= TRAIN_SAMPLE else matrix[np.sort(rng.choice(n, TRAIN_SAMPLE, replace=False))]
            )
            ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
            # A by-id map, so that the vectors of a filtered candidate set can be scored directly.
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            index = ivf
            kind = "ivf"
        if n:
            index.add_with_ids(np.ascontiguousarray(matrix, dtype=np.float32), seqs.astype(np.int64))
        if kind == "ivf":
            nprobe = tune_nprobe(index, seqs, matrix)
            index.nprobe = nprobe
        return cls(index, IndexMeta(fingerprint, version, n, kind, dim, nprobe))

    # -- changing ---------------------------------------------------------------------------------

    def upsert(self, seqs: np.ndarray, matrix: np.ndarray) -> None:
        """Add vectors, replacing any already held for the same ids."""
        if not len(seqs):
            return
        self._filter_cache.clear()
        self.remove(seqs)
        self.index.add_with_ids(
            np.ascontiguousarray(matrix, dtype=np.float32), np.asarray(seqs, dtype=np.int64)
        )
        self.meta.count = int(self.index.ntotal)

    def remove(self, seqs: np.ndarray) -> None:
        """Remove vectors by id (ids not present are ignored)."""
        import faiss

        if not len(seqs):
            return
        self._filter_cache.clear()
        ids = np.ascontiguousarray(seqs, dtype=np.int64)
        if self.meta.kind == "ivf":
            # An IVF index with a by-id map only accepts an array selector (it looks each id up).
            self.index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)))
        else:  # a flat index tests every stored id against the selector: a hashed batch is O(1) each
            self.index.remove_ids(faiss.IDSelectorBatch(ids))
        self.meta.count = int(self.index.ntotal)

    # -- searching --------------------------------------------------------------------------------

    def search(
        self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (seqs, similarities) of the k nearest vectors, optionally only among allowed ids."""
        import faiss

        if self.index.ntotal == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        k = min(k, int(self.index.ntotal))
        if allowed is None:
            scores, ids = self.index.search(query, k)
        else:
            if not len(allowed):
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            if len(allowed) <= EXACT_FILTER_LIMIT:
                found = self._search_among(query[0], k, np.asarray(allowed, dtype=np.int64))
                if found is not None:
                    return found
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            if self.meta.kind == "ivf":
                # Probe every list: with a filter, completeness matters more than speed.
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nlist)
            else:
                params = faiss.SearchParameters(sel=selector)
            scores, ids = self.index.search(query, min(k, len(allowed)), params=params)
        keep = ids[0] >= 0
        seqs, sims = ids[0][keep], scores[0][keep]
        # Ties break by id so that the same data always gives the same order.
        order = np.lexsort((seqs, -sims))
        return seqs[order], sims[order]

    def _search_among(
        self, query: np.ndarray, k: int, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Score the allowed ids' vectors directly; None if some id has no vector (then use a selector)."""
        import faiss

        vectors = self._vectors_of(allowed)
        if vectors is None:
            return None
        # faiss's single-threaded inner products, not `vectors @ query`: OpenBLAS's worker threads keep
        # spinning after a call and slowed the next query's encoding 5x on 2 cores (1M benchmark).
        sims = np.empty(len(vectors), dtype=np.float32)
        query = np.ascontiguousarray(query, dtype=np.float32)
        faiss.fvec_inner_products_ny(
            faiss.swig_ptr(sims), faiss.swig_ptr(query), faiss.swig_ptr(vectors), len(query), len(vectors)
        )
        if len(sims) > k:  # keep the k best and everything tied with the k-th, then order those
            kth = np.partition(sims, len(sims) - k)[len(sims) - k]
            near = np.flatnonzero(sims >= kth)
            allowed, sims = allowed[near], sims[near]
        order = np.lexsort((allowed, -sims))[:k]
        return allowed[order], sims[order]

    def _vectors_of(self, allowed: np.ndarray) -> np.ndarray | None:
        """Return the vectors of these ids (from the filter cache when the same set came lately)."""
        key = hashlib.blake2b(allowed.tobytes(), digest_size=16).digest()
        vectors = self._filter_cache.get(key)
        if vectors is not None:
            self._filter_cache.move_to_end(key)
            return vectors
        try:
            vectors = np.ascontiguousarray(self.index.reconstruct_batch(allowed), dtype=np.float32)
        except RuntimeError:  # an allowed entry without a vector for this model (not yet encoded)
            return None
        self._filter_cache[key] = vectors
        while sum(len(v) for v in self._filter_cache.values()) > FILTER_CACHE_VECTORS:
            self._filter_cache.popitem(last=False)
        return vectors

    # -- persistence ------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index and its meta atomically (temp file, fsync, rename)."""
        import faiss

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, faiss.serialize_index(self.index).tobytes())
        write_meta(path, self.meta, what="index file")

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """Read an index and its meta, or raise KBError saying what is wrong with the files."""
        import faiss

        meta = read_meta(path, IndexMeta, what="index file")
        try:
            raw = np.frombuffer(path.read_bytes(), dtype=np.uint8)
            index = faiss.deserialize_index(raw)
        except RuntimeError as exc:
            raise KBError(f"index file {path} is unreadable (truncated or corrupt)") from exc
        if int(index.ntotal) != meta.count:
            raise KBError(f"index file {path} holds {index.ntotal} vectors, its meta says {meta.count}")
        if meta.kind == "ivf":
            # Files tuned before the MIN_NPROBE floor may say 4; recall at 4 was measured below target.
            meta.nprobe = max(meta.nprobe, MIN_NPROBE)
            index.nprobe = meta.nprobe
            if index.direct_map.type != faiss.DirectMap.Hashtable:  # a file from before the by-id map
                index.set_direct_map_type(faiss.DirectMap.Hashtable)
        return cls(index, meta)


def tune_nprobe(index: faiss.IndexIVF, seqs: np.ndarray, matrix: np.ndarray, k: int = 10) -> int:
    """Return the smallest power-of-two nprobe whose recall@k on sampled stored vectors meets TARGET_RECALL."""

    rng = np.random.default_rng(RANDOM_STATE)
    picks = np.sort(rng.choice(len(seqs), min(TUNING_QUERIES, len(seqs)), replace=False))
    queries = np.ascontiguousarray(matrix[picks], dtype=np.float32)
    exact = np.argsort(-(queries @ matrix.T), axis=1, kind="stable")[:, :k]
    truth = [set(seqs[row]) for row in exact]
    # Stored vectors used as queries find themselves easily, which flatters recall; start at MIN_NPROBE
    # (the benchmark measured recall@10 0.98 at 100k and 0.96 at 1M with 8 lists, 0.94/0.88 with 4).
    nprobe = MIN_NPROBE
    while nprobe < index.nlist:
        index.nprobe = nprobe
        _, found = index.search(queries, k)
        recall = np.mean([len(truth[i] & set(found[i])) / k for i in range(len(truth))])
        if recall >= TARGET_RECALL:
            return nprobe
        nprobe *= 2
    return index.nlist
