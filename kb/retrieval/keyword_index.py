"""The keyword index: BM25 over title, text, equipment and tags, held in memory beside the FAISS index.

Why not SQLite FTS5's bm25(): FTS5 has no top-k pruning, so an OR of the query's words scores every
matching row, about 240k rows and 2 s for a typical query at 1M entries (docs/benchmarks.md). Here the
postings are numpy arrays and a query is planned: the rare terms' short lists are merged into a sorted
candidate set; MaxScore then leaves the common terms' long lists to a lookup of the candidates that can
still reach the top k, or, when the candidates grow large, the lists are added into one dense array and a
sampled threshold picks the top k from it; a selective filter looks only its own entries up in each list. Why not block-max postings: on the benchmark's queries (every word
common), bounds per block of documents still let almost every block reach the top k (docs/benchmarks.md).

The formula is FTS5's (k1 1.2, b 0.75, weighted term frequency over the columns, idf floor 1e-6) with the
same Porter stemming, so ranks stay what they were. Like the FAISS index, this is a cache: the database
is the source of truth, and the file is rebuilt from the entries table whenever it is missing, stale or
unreadable.

Layout: a compacted *main* segment (term-major CSR: for each term, the positions of the documents that
contain it, sorted, and a code for the posting's (weighted tf, document length) pair) plus a small *delta*
segment of documents added since the last compaction (document-major). Removing a document only clears
its `alive` flag; compaction drops the dead and folds the delta in once the delta outgrows an eighth of
the main segment.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from kb.files import atomic_write, read_meta, write_meta
from kb.models import KBError
from kb.retrieval.tokens import stem, terms, words  # noqa: F401 (words, stem: part of this module's API)
from kb.retrieval.topk import at_least_kth, pair_codes, top_k

K1 = 1.2
B = 0.75
IDF_FLOOR = 1e-6  # FTS5's: a term in more than half the documents still counts a little
# Column weights. A title word counts as much as a body word: x1 beside x2 and x3 was measured on three
# labelled sets (bench/quality.py, docs/benchmarks.md section 3), and the chosen default search uses x1.
FIELD_WEIGHTS: Mapping[str, float] = {"title": 1.0, "text": 1.0, "equipment": 1.0, "tags": 0.5}
# Query planning: a sorted candidate set up to SPARSE_LIMIT documents, else a dense accumulator; a
# candidate lookup (binary search) costs about LOOKUP_COST sequential postings.
SPARSE_LIMIT = 30_000
LOOKUP_COST = 16
FORMAT = 3  # bump when tokenisation, field weights or the file layout change: older files are rebuilt


class _Delta(NamedTuple):
    """The delta segment as flat arrays: one row per (document, term), plus per-document columns."""

    terms: np.ndarray
    tf: np.ndarray
    doc: np.ndarray
    length: np.ndarray
    alive: np.ndarray
    seq: np.ndarray


class _QueryTerm(NamedTuple):
    """One query term: its id, idf, main-segment posting range and live delta-posting indexes."""

    term: int
    idf: float
    start: int
    end: int
    in_delta: np.ndarray


class _Weights(NamedTuple):
    """The parts of the BM25 term weight that are the same for every document in one query."""

    saturation: float  # k1 * (1 - b)
    per_length: float  # k1 * b / avgdl
    pairs: np.ndarray  # the weight without idf of each main-segment (tf, length) pair

    def bm25(self, idf: float, tf: np.ndarray, length: np.ndarray) -> np.ndarray:
        """Return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl)), element-wise."""
        # The main segment's pair-table arithmetic, operation for operation and in float64 (a float32
        # length would stay float32 under NumPy 2's promotion rules): the same document gets the
        # bit-identical score in either segment, so ties between them break by seq as everywhere else.
        tf, length = tf.astype(np.float64), length.astype(np.float64)
        return idf * ((K1 + 1) * tf / (tf + self.saturation + self.per_length * length))


@dataclass
class KeywordMeta:
    """What a keyword index file reflects: the store version, the number of documents, the format."""

    version: int
    count: int
    format: int = FORMAT


class KeywordIndex:
    """BM25 postings of the active entries, keyed by entry sequence numbers (KB-000123 -> 123)."""

    def __init__(self, version: int = 0) -> None:
        self.meta = KeywordMeta(version=version, count=0)
        self.vocab: dict[str, int] = {}
        # Main segment: documents at positions [0, M); CSR over term ids < len(indptr) - 1.
        self._indptr = np.zeros(1, dtype=np.int64)
        self._post_pos = np.zeros(0, dtype=np.int32)
        # Each posting's (tf, document length) pair as a code into two small tables: BM25 then needs one
        # division per distinct pair per query (thousands), not per posting (millions), and stays exact.
        self._post_code = np.zeros(0, dtype=np.intp)  # intp: a table lookup with it needs no conversion
        self._pair_tf = np.zeros(0, dtype=np.float64)
        self._pair_len = np.zeros(0, dtype=np.float64)
        self._main_seq = np.zeros(0, dtype=np.int64)
        self._main_len = np.zeros(0, dtype=np.float32)
        self._main_alive = np.zeros(0, dtype=bool)
        self._main_dead = 0
        self._seq_sorted: tuple[np.ndarray, np.ndarray] | None = None  # main seqs sorted, and their order
        # Delta segment: documents at positions M + i, one (term ids, tf) pair each.
        self._delta_seq: list[int] = []
        self._delta_len: list[float] = []
        self._delta_alive: list[bool] = []
        self._delta_terms: list[np.ndarray] = []
        self._delta_tf: list[np.ndarray] = []
        self._delta_flat: _Delta | None = None
        self._position: dict[int, int] = {}
        self._length_sum = 0.0

    # -- building and changing ----------------------------------------------------------------------

    @classmethod
    def build(cls, rows: Iterable[tuple[int, Mapping[str, object]]], *, version: int) -> KeywordIndex:
        """Return a compacted index over (seq, fields) rows, fields holding title, text, equipment, tags."""
        index = cls(version)
        index.upsert(rows, compact=False)
        index.compact()
        return index

    def __len__(self) -> int:
        return len(self._position)

    def upsert(self, rows: Iterable[tuple[int, Mapping[str, object]]], *, compact: bool = True) -> None:
        """Add documents, replacing any already held for the same seqs."""
        for seq, fields in rows:
            seq = int(seq)
            if seq in self._position:
                self.remove([seq])
            counts: Counter[int] = Counter()
            length = 0
            for name, weight in FIELD_WEIGHTS.items():
                value = fields.get(name)
                if not value:
                    continue
                text = " ".join(value) if isinstance(value, list | tuple) else str(value)
                field_terms = terms(text)
                length += len(field_terms)
                for term in field_terms:
                    counts[self.vocab.setdefault(term, len(self.vocab))] += weight
            ids = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
            tfs = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            self._position[seq] = len(self._main_seq) + len(self._delta_seq)
            self._delta_seq.append(seq)
            self._delta_len.append(float(length))
            self._delta_alive.append(True)
            self._delta_terms.append(ids)
            self._delta_tf.append(tfs)
            self._length_sum += length
        self._delta_flat = None
        self.meta.count = len(self._position)
        if compact and len(self._delta_seq) > max(1_000, len(self._main_seq) // 8):
            self.compact()

    def remove(self, seqs: Iterable[int]) -> None:
        """Remove documents by seq (seqs not present are ignored)."""
        main = len(self._main_seq)
        for seq in seqs:
            position = self._position.pop(int(seq), None)
            if position is None:
                continue
            if position < main:
                self._main_alive[position] = False
                self._main_dead += 1
                self._length_sum -= float(self._main_len[position])
            else:
                self._delta_alive[position - main] = False
                self._length_sum -= self._delta_len[position - main]
        self._delta_flat = None
        self.meta.count = len(self._position)

    def compact(self) -> None:
        """Fold the delta segment into the main one and drop removed documents."""
        main = len(self._main_seq)
        counts = np.diff(self._indptr)
        term_of = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        keep = self._main_alive[self._post_pos] if len(self._post_pos) else np.zeros(0, dtype=bool)
        delta = self._delta()
        delta_keep = delta.alive[delta.doc]
        # New positions: surviving main documents first, then surviving delta documents, in order.
        alive = np.concatenate([self._main_alive, delta.alive])
        new_position = np.cumsum(alive, dtype=np.int64) - 1
        all_terms = np.concatenate([term_of[keep], delta.terms[delta_keep]])
        all_pos = np.concatenate(
            [new_position[self._post_pos[keep]], new_position[main + delta.doc[delta_keep]]]
        )
        all_tf = np.concatenate(
            [self._pair_tf[self._post_code[keep]].astype(np.float32), delta.tf[delta_keep]]
        )
        order = np.lexsort((all_pos, all_terms))
        self._post_pos = all_pos[order].astype(np.int32)
        post_tf = all_tf[order]
        self._main_len = np.concatenate([self._main_len, delta.length])[alive]
        self._post_code, self._pair_tf, self._pair_len = pair_codes(post_tf, self._main_len[self._post_pos])
        self._indptr = np.zeros(len(self.vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(all_terms, minlength=len(self.vocab)), out=self._indptr[1:])
        self._main_seq = np.concatenate([self._main_seq, delta.seq])[alive]
        self._main_alive = np.ones(len(self._main_seq), dtype=bool)
        self._main_dead = 0
        self._seq_sorted = None
        self._delta_seq, self._delta_len, self._delta_alive = [], [], []
        self._delta_terms, self._delta_tf = [], []
        self._delta_flat = None
        self._position = {int(s): i for i, s in enumerate(self._main_seq.tolist())}
        self._length_sum = float(self._main_len.sum(dtype=np.float64))

    def _delta(self) -> _Delta:
        """Return the delta segment as flat arrays (cached until the next change)."""
        if self._delta_flat is None:
            sizes = [len(t) for t in self._delta_terms]
            self._delta_flat = _Delta(
                terms=np.concatenate(self._delta_terms) if sizes else np.zeros(0, dtype=np.int32),
                tf=np.concatenate(self._delta_tf) if sizes else np.zeros(0, dtype=np.float32),
                doc=np.repeat(np.arange(len(sizes), dtype=np.int64), sizes),
                length=np.array(self._delta_len, dtype=np.float32),
                alive=np.array(self._delta_alive, dtype=bool),
                seq=np.array(self._delta_seq, dtype=np.int64),
            )
        return self._delta_flat

    # -- searching ------------------------------------------------------------------------------------

    def search(
        self, query_terms: Iterable[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (seqs, BM25 scores, higher is better) of the k best documents for these terms."""
        ids = list(dict.fromkeys(self.vocab[t] for t in query_terms if t in self.vocab))
        live = len(self._position)
        if not ids or not live or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        saturation, per_length = K1 * (1 - B), K1 * B * live / max(self._length_sum, 1e-9)
        pairs = (K1 + 1) * self._pair_tf / (self._pair_tf + saturation + per_length * self._pair_len)
        weights = _Weights(saturation, per_length, pairs)
        query = self._plan(ids, live)
        if not query:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        postings = sum(t.end - t.start for t in query)
        if allowed is not None and len(allowed) * LOOKUP_COST < postings:
            # A selective filter: look its few documents up in each list instead of reading the lists.
            main_pos, main_scores = self._score_among(query, allowed, weights)
        else:
            main_pos, main_scores = self._score_main(query, k, allowed, weights)
        delta_seqs, delta_scores = self._score_delta(query, allowed, weights)
        return top_k(
            np.concatenate([self._main_seq[main_pos], delta_seqs]),
            np.concatenate([main_scores, delta_scores]),
            k,
        )

    def _plan(self, ids: list[int], live: int) -> list[_QueryTerm]:
        """Return the query's terms that occur in a live document, with their idf and postings."""
        delta = self._delta()
        query: list[_QueryTerm] = []
        for term in ids:
            start = end = 0
            if term < len(self._indptr) - 1:
                start, end = int(self._indptr[term]), int(self._indptr[term + 1])
            df = end - start
            if self._main_dead and df:
                df = int(self._main_alive[self._post_pos[start:end]].sum())
            in_delta = np.zeros(0, dtype=np.int64)
            if len(delta.terms):
                in_delta = np.flatnonzero(delta.terms == term)
                in_delta = in_delta[delta.alive[delta.doc[in_delta]]]
            df += len(in_delta)
            if df:
                idf = max(math.log((live - df + 0.5) / (df + 0.5)), IDF_FLOOR)
                query.append(_QueryTerm(term, idf, start, end, in_delta))
        # Rarest first, in every plan: floating-point sums depend on their order, and adding a document's
        # terms in one fixed order gives it the same score whichever plan scored it (exact ties stay ties).
        return sorted(query, key=lambda t: (-t.idf, t.term))

    def _score_delta(
        self, query: list[_QueryTerm], allowed: np.ndarray | None, weights: _Weights
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (seqs, exact scores) of the allowed delta-segment documents that match a term."""
        delta = self._delta()
        hits = np.concatenate([np.zeros(0, dtype=np.int64), *(t.in_delta for t in query)])
        if not len(hits):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        contribution = np.concatenate(
            [weights.bm25(t.idf, delta.tf[t.in_delta], delta.length[delta.doc[t.in_delta]]) for t in query]
        )
        docs, inverse = np.unique(delta.doc[hits], return_inverse=True)
        seqs, scores = delta.seq[docs], np.bincount(inverse, weights=contribution)
        if allowed is not None:
            keep = np.isin(seqs, allowed)
            seqs, scores = seqs[keep], scores[keep]
        return seqs, scores

    def _score_main(
        self, query: list[_QueryTerm], k: int, allowed: np.ndarray | None, weights: _Weights
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions, exact scores) of main-segment documents that can reach the top k.

        Terms are taken rarest first (highest idf, shortest posting list), merging into a small sorted
        candidate set. MaxScore (Turtle and Flood, 1995): once the k-th best score so far beats the most
        that all remaining terms together could add (each adds less than idf * (k1 + 1)), no other
        document can reach the top k, so the long lists of common words are only looked up for the
        candidates. When the candidates grow large instead, the remaining lists go into a dense array
        (`_score_dense`). Either way the returned scores are exact.
        """
        order = query  # rarest first (`_plan`)
        bound = np.cumsum([t.idf * (K1 + 1) for t in order][::-1])[::-1]  # terms i.. can add < bound[i]
        postings_left = np.cumsum([t.end - t.start for t in order][::-1])[::-1]
        cand = np.zeros(0, dtype=np.int32)
        part = np.zeros(0, dtype=np.float64)
        for i, term in enumerate(order):
            if (
                len(cand) >= k
                and len(cand) * LOOKUP_COST < postings_left[i]
                and np.partition(part, len(part) - k)[len(part) - k] > bound[i]
            ):
                for rest in order[i:]:
                    part += self._lookup(rest, cand, weights)
                return cand, part
            if len(cand) + term.end - term.start > SPARSE_LIMIT:
                return self._score_dense(order[i:], cand, part, k, allowed, weights)
            pos, contribution = self._postings(term, allowed, weights)
            if not len(cand):  # a posting list is sorted and unique: it is the candidate set as it is
                cand, part = pos, contribution.astype(np.float64)
                continue
            # Both runs are sorted: a stable sort merges them in linear time.
            merged = np.concatenate([cand, pos])
            by_pos = np.argsort(merged, kind="stable")
            merged = merged[by_pos]
            values = np.concatenate([part, contribution])[by_pos]
            first = np.flatnonzero(np.concatenate([[True], merged[1:] != merged[:-1]]))
            cand, part = merged[first], np.add.reduceat(values, first) if len(first) else values
        return cand, part

    def _score_among(
        self, query: list[_QueryTerm], allowed: np.ndarray, weights: _Weights
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions, exact scores) of the allowed main-segment documents that match a term."""
        if self._seq_sorted is None:
            order = np.argsort(self._main_seq, kind="stable")
            self._seq_sorted = (self._main_seq[order], order)
        sorted_seqs, order = self._seq_sorted
        if not len(sorted_seqs):
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        seqs = np.asarray(allowed, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_seqs, seqs), len(sorted_seqs) - 1)
        pos = order[at[sorted_seqs[at] == seqs]]
        if self._main_dead:
            pos = pos[self._main_alive[pos]]
        cand = np.sort(pos).astype(np.int32)
        part = np.zeros(len(cand), dtype=np.float64)
        for term in query:
            part += self._lookup(term, cand, weights)
        keep = part > 0
        return cand[keep], part[keep]

    def _score_dense(
        self,
        terms: list[_QueryTerm],
        cand: np.ndarray,
        part: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        weights: _Weights,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions, exact scores) of the main-segment documents that can reach the top k.

        The candidates' scores so far go into a dense array and each remaining list (rarest first) is
        added to it in place; the top k are then picked above a sampled threshold (`at_least_kth`).
        (MaxScore between the dense lists, looking the last common lists up for the documents still
        within reach, was tried: at 1M it pruned too rarely to pay for its checks, 10.1 -> 11.0 ms CPU p95.)
        """
        acc = np.zeros(len(self._main_seq), dtype=np.float64)
        acc[cand] = part
        for term in terms:
            # One unbuffered add per list, in place (NumPy 2's fast add.at), instead of concatenating every
            # list and bincounting it: the keyword leg at 1M went from 7.0 / 19.4 to 4.0 / 10.1 ms CPU
            # p50 / p95 with the sampled threshold below (docs/benchmarks.md).
            pos, contribution = self._postings(term, allowed, weights)
            np.add.at(acc, pos, contribution)
        top = at_least_kth(acc, k)
        return top, acc[top]

    def _postings(
        self, term: _QueryTerm, allowed: np.ndarray | None, weights: _Weights
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions, BM25 contributions) of a term's live, allowed main-segment postings."""
        pos = self._post_pos[term.start : term.end]
        code = self._post_code[term.start : term.end]
        keep = self._main_alive[pos] if self._main_dead else None
        if allowed is not None:
            member = np.isin(self._main_seq[pos], allowed, kind="table") if len(allowed) else pos < 0
            keep = member if keep is None else keep & member
        if keep is not None:
            pos, code = pos[keep], code[keep]
        # idf times the small pair table, then one gather: the same products as idf * pairs[code].
        return pos, (term.idf * weights.pairs)[code]

    def _lookup(self, term: _QueryTerm, cand: np.ndarray, weights: _Weights) -> np.ndarray:
        """Return the term's BM25 contribution to each candidate position (0 where it is absent)."""
        out = np.zeros(len(cand), dtype=np.float64)
        postings = self._post_pos[term.start : term.end]
        if not len(postings) or not len(cand):
            return out
        at = np.minimum(np.searchsorted(postings, cand), len(postings) - 1)
        hit = postings[at] == cand
        at = term.start + at[hit]
        out[hit] = term.idf * weights.pairs[self._post_code[at]]
        return out

    # -- persistence ----------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index and its meta atomically, as it is (no compaction: saving follows every write)."""
        delta = self._delta()
        arrays = {
            "vocab": np.frombuffer("\n".join(self.vocab).encode(), dtype=np.uint8),
            "indptr": self._indptr,
            "post_pos": self._post_pos,
            "post_code": self._post_code.astype(np.uint32),  # half the size on disk
            "pair_tf": self._pair_tf,
            "pair_len": self._pair_len,
            "seq": self._main_seq,
            "length": self._main_len,
            "alive": self._main_alive,
            "delta_terms": delta.terms,
            "delta_tf": delta.tf,
            "delta_sizes": np.array([len(t) for t in self._delta_terms], dtype=np.int64),
            "delta_length": delta.length,
            "delta_alive": delta.alive,
            "delta_seq": delta.seq,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, _npz_bytes(arrays), what="keyword index file")
        write_meta(path, self.meta, what="keyword index file")

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        """Read an index and its meta, or raise KBError saying what is wrong with the files."""
        meta = read_meta(path, KeywordMeta, what="keyword index file")
        if meta.format != FORMAT:
            raise KBError(f"keyword index file {path} has format {meta.format}, this version reads {FORMAT}")
        try:
            with np.load(path, allow_pickle=False) as data:
                a = {name: data[name] for name in data.files}
            index = cls(meta.version)
            raw = a["vocab"].tobytes().decode()
            index.vocab = {term: i for i, term in enumerate(raw.split("\n"))} if raw else {}
            index._indptr, index._post_pos = a["indptr"], a["post_pos"]
            index._post_code = a["post_code"].astype(np.intp)
            index._pair_tf, index._pair_len = a["pair_tf"], a["pair_len"]
            index._main_seq, index._main_len, index._main_alive = a["seq"], a["length"], a["alive"].copy()
            ends = np.cumsum(a["delta_sizes"])
            index._delta_terms = np.split(a["delta_terms"], ends[:-1]) if len(ends) else []
            index._delta_tf = np.split(a["delta_tf"], ends[:-1]) if len(ends) else []
            index._delta_len = a["delta_length"].tolist()
            index._delta_alive = a["delta_alive"].tolist()
            index._delta_seq = a["delta_seq"].tolist()
            consistent = (
                len(index._indptr) <= len(index.vocab) + 1
                and len(index._post_pos) == index._indptr[-1] == len(index._post_code)
                and len(index._pair_tf) == len(index._pair_len)
                and (not len(index._post_code) or int(index._post_code.max()) < len(index._pair_tf))
                and (not len(index._post_pos) or int(index._post_pos.max()) < len(index._main_seq))
                and len(index._main_seq) == len(index._main_len) == len(index._main_alive)
                and len(index._delta_terms)
                == len(index._delta_seq)
                == len(index._delta_alive)
                == len(index._delta_len)
                and (not len(ends) or ends[-1] == len(a["delta_terms"]))
            )
        except (OSError, ValueError, KeyError, UnicodeDecodeError, EOFError, zipfile.BadZipFile) as exc:
            raise KBError(f"keyword index file {path} is unreadable (truncated or corrupt): {exc}") from exc
        if not consistent:
            raise KBError(
                f"keyword index file {path} is inconsistent (vocabulary, postings and entries disagree)"
            )
        index._main_dead = int((~index._main_alive).sum())
        main = len(index._main_seq)
        live_main = np.flatnonzero(index._main_alive)
        index._position = dict(zip(index._main_seq[live_main].tolist(), live_main.tolist(), strict=True))
        index._position.update(
            (seq, main + i)
            for i, (seq, alive) in enumerate(zip(index._delta_seq, index._delta_alive, strict=True))
            if alive
        )
        index._length_sum = float(index._main_len[live_main].sum(dtype=np.float64)) + sum(
            length for length, alive in zip(index._delta_len, index._delta_alive, strict=True) if alive
        )
        if len(index) != meta.count:
            raise KBError(f"keyword index file {path} holds {len(index)} entries, its meta says {meta.count}")
        index.meta = meta
        return index


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
