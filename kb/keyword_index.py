"""The keyword index: BM25 over title, text, equipment and tags, held in memory beside the FAISS index.

Why not SQLite FTS5's bm25(): FTS5 has no top-k pruning, so an OR of the query's words scores every
matching row, about 240k rows and 2 s for a typical query at 1M entries (docs/benchmarks.md). Here the
postings are numpy arrays and a query is a few vectorised gathers and one bincount.

The formula is FTS5's (k1 1.2, b 0.75, weighted term frequency over the columns, idf floor 1e-6) with the
same Porter stemming, so ranks stay what they were. Like the FAISS index, this is a cache: the database
is the source of truth, and the file is rebuilt from the entries table whenever it is missing, stale or
unreadable.

Layout: a compacted *main* segment (term-major CSR: for each term, the positions of the documents that
contain it and the weighted term frequency) plus a small *delta* segment of documents added since the last
compaction (document-major). Removing a document only clears its `alive` flag; compaction drops the dead
and folds the delta in once the delta outgrows an eighth of the main segment.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import snowballstemmer

from kb.files import atomic_write
from kb.models import KBError

K1 = 1.2
B = 0.75
IDF_FLOOR = 1e-6  # FTS5's: a term in more than half the documents still counts a little
# Column weights: a word in the title says more about the entry than one in the body.
FIELD_WEIGHTS: Mapping[str, float] = {"title": 2.0, "text": 1.0, "equipment": 1.0, "tags": 0.5}
FORMAT = 1  # bump when tokenisation or the file layout changes: older files are then rebuilt
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_STEMMER = snowballstemmer.stemmer("porter")


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """Return the Porter stem of a lower-case word (cached: stemming is the slow part of indexing)."""
    return _STEMMER.stemWord(word)


def words(text: str) -> list[str]:
    """Return the lower-case words of a text, accents removed (what FTS5's unicode61 tokenizer yields)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    if not folded.isascii():
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(folded)


def terms(text: str) -> list[str]:
    """Return the index terms of a text: its words, stemmed."""
    return [stem(w) for w in words(text)]


class _Delta(NamedTuple):
    """The delta segment as flat arrays: one row per (document, term), plus per-document columns."""

    terms: np.ndarray
    tf: np.ndarray
    doc: np.ndarray
    length: np.ndarray
    alive: np.ndarray
    seq: np.ndarray


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
        self._post_tf = np.zeros(0, dtype=np.float32)
        self._post_len = np.zeros(0, dtype=np.float32)  # the document length, per posting: no gather
        self._main_seq = np.zeros(0, dtype=np.int64)
        self._main_len = np.zeros(0, dtype=np.float32)
        self._main_alive = np.zeros(0, dtype=bool)
        self._main_dead = 0
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
        all_tf = np.concatenate([self._post_tf[keep], delta.tf[delta_keep]])
        order = np.lexsort((all_pos, all_terms))
        self._post_pos = all_pos[order].astype(np.int32)
        self._post_tf = all_tf[order]
        self._main_len = np.concatenate([self._main_len, delta.length])[alive]
        self._post_len = self._main_len[self._post_pos]
        self._indptr = np.zeros(len(self.vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(all_terms, minlength=len(self.vocab)), out=self._indptr[1:])
        self._main_seq = np.concatenate([self._main_seq, delta.seq])[alive]
        self._main_alive = np.ones(len(self._main_seq), dtype=bool)
        self._main_dead = 0
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
        main = len(self._main_seq)
        delta = self._delta()
        # BM25 term weight = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl)).
        saturation = K1 * (1 - B)
        per_length = K1 * B * live / max(self._length_sum, 1e-9)
        scores = np.zeros(main + len(delta.seq), dtype=np.float64)
        matched = False
        for term in ids:
            parts = []  # (positions, tf, length) of the live documents holding the term
            if term < len(self._indptr) - 1:
                start, end = self._indptr[term], self._indptr[term + 1]
                pos, tf, length = (
                    self._post_pos[start:end],
                    self._post_tf[start:end],
                    self._post_len[start:end],
                )
                if self._main_dead:
                    keep = self._main_alive[pos]
                    pos, tf, length = pos[keep], tf[keep], length[keep]
                parts.append((pos, tf, length))
            if len(delta.terms):
                hit = np.flatnonzero(delta.terms == term)
                doc = delta.doc[hit][delta.alive[delta.doc[hit]]]
                hit = hit[delta.alive[delta.doc[hit]]]
                parts.append((main + doc, delta.tf[hit], delta.length[doc]))
            df = sum(len(p[0]) for p in parts)
            if not df:
                continue
            matched = True
            idf = max(math.log((live - df + 0.5) / (df + 0.5)), IDF_FLOOR)
            for pos, tf, length in parts:
                # Each document appears once per term, so a fancy-index add is safe (no np.add.at).
                scores[pos] += (idf * (K1 + 1)) * tf / (tf + saturation + per_length * length)
        if not matched:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        candidates = np.flatnonzero(scores)
        seq_of = np.concatenate([self._main_seq, delta.seq]) if len(delta.seq) else self._main_seq
        seqs = seq_of[candidates]
        if allowed is not None:
            # A lookup table over the seq range: linear time, where a sort-based isin is not.
            keep = np.isin(seqs, allowed, kind="table") if len(allowed) else np.zeros(len(seqs), dtype=bool)
            candidates, seqs = candidates[keep], seqs[keep]
        values = scores[candidates]
        if len(values) > k:
            # Everything tied with the k-th score stays in, so ties break by seq, not by partition order.
            kth = np.partition(values, len(values) - k)[len(values) - k]
            keep = values >= kth
            values, seqs = values[keep], seqs[keep]
        order = np.lexsort((seqs, -values))[:k]
        return seqs[order], values[order]

    # -- persistence ----------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index and its meta atomically, as it is (no compaction: saving follows every write)."""
        delta = self._delta()
        arrays = {
            "vocab": np.frombuffer("\n".join(self.vocab).encode(), dtype=np.uint8),
            "indptr": self._indptr,
            "post_pos": self._post_pos,
            "post_tf": self._post_tf,
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
        atomic_write(
            meta_path(path), json.dumps(asdict(self.meta), indent=2).encode(), what="keyword index file"
        )

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        """Read an index and its meta, or raise KBError saying what is wrong with the files."""
        mpath = meta_path(path)
        for p in (path, mpath):
            if not p.exists():
                raise KBError(f"keyword index file {p} is missing")
        try:
            meta = KeywordMeta(**json.loads(mpath.read_text()))
        except (ValueError, TypeError) as exc:
            raise KBError(f"keyword index meta file {mpath} is unreadable: {exc}") from exc
        if meta.format != FORMAT:
            raise KBError(f"keyword index file {path} has format {meta.format}, this version reads {FORMAT}")
        try:
            with np.load(path, allow_pickle=False) as data:
                a = {name: data[name] for name in data.files}
            index = cls(meta.version)
            raw = a["vocab"].tobytes().decode()
            index.vocab = {term: i for i, term in enumerate(raw.split("\n"))} if raw else {}
            index._indptr, index._post_pos, index._post_tf = a["indptr"], a["post_pos"], a["post_tf"]
            index._main_seq, index._main_len, index._main_alive = a["seq"], a["length"], a["alive"].copy()
            ends = np.cumsum(a["delta_sizes"])
            index._delta_terms = np.split(a["delta_terms"], ends[:-1]) if len(ends) else []
            index._delta_tf = np.split(a["delta_tf"], ends[:-1]) if len(ends) else []
            index._delta_len = a["delta_length"].tolist()
            index._delta_alive = a["delta_alive"].tolist()
            index._delta_seq = a["delta_seq"].tolist()
            consistent = (
                len(index._indptr) <= len(index.vocab) + 1
                and len(index._post_pos) == index._indptr[-1] == len(index._post_tf)
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
        index._post_len = index._main_len[index._post_pos]
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


def meta_path(path: Path) -> Path:
    """Return the path of the JSON file that describes a keyword index file."""
    return path.with_suffix(path.suffix + ".json")


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
