"""Array helpers of the keyword index: posting codes, and the exact top k of a score array."""

from __future__ import annotations

import numpy as np


def pair_codes(tf: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (code per posting, tf per code, length per code) for float32 tf and length arrays."""
    key = (tf.astype(np.float32).view(np.uint32).astype(np.uint64) << np.uint64(32)) | length.astype(
        np.float32
    ).view(np.uint32).astype(np.uint64)
    keys, codes = np.unique(key, return_inverse=True)
    pair_tf = (keys >> np.uint64(32)).astype(np.uint32).view(np.float32).astype(np.float64)
    pair_len = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32).astype(np.float64)
    return codes.astype(np.intp), pair_tf, pair_len


def top_k(seqs: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the k best (seq, score) pairs, ties broken by seq so that the order is deterministic."""
    if len(scores) > k:
        # Everything tied with the k-th score stays in, so ties break by seq, not by partition order.
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= kth
        seqs, scores = seqs[keep], scores[keep]
    order = np.lexsort((seqs, -scores))[:k]
    return seqs[order], scores[order]


def at_least_kth(acc: np.ndarray, k: int, stride: int = 64) -> np.ndarray:
    """Return the positions whose score is at least the k-th best of `acc` (all matches when few).

    The k-th best of any subset is at most the k-th best of the whole, so the k-th best of every
    stride-th score is a safe threshold: one comparison pass keeps the top k with all their ties and
    only a few thousand others, where ranking every match (~600k at 1M) cost most of a query.
    """
    sample = acc[::stride]
    sample = sample[sample > 0]  # introselect slows down badly on many equal values (the zeros)
    if len(sample) > k:
        threshold = np.partition(sample, len(sample) - k)[len(sample) - k]
        if threshold > 0:
            return np.flatnonzero(acc >= threshold)
    # Every posting adds more than 0 (idf floor), so `acc > 0` is every matching document.
    return np.flatnonzero(acc > 0)
