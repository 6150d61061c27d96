"""The two index caches beside the database: open, check, catch up from the change log, rebuild, report.

Both caches (FAISS vectors in `index.faiss`, BM25 postings in `keywords.npz`) are derived from the store:
either can be deleted and is rebuilt without re-encoding. Each file records the store version it was
built at; on open it is caught up from the store's change log, or rebuilt when it is missing, damaged,
built with another model or newer than the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kb.models import KBError, format_id, parse_id
from kb.retrieval.embed import Embedder
from kb.retrieval.keyword_index import KeywordIndex
from kb.retrieval.vector_index import EXACT_LIMIT, VectorIndex
from kb.storage.base import Store

INDEX_NAME = "index.faiss"
KEYWORDS_NAME = "keywords.npz"


class IndexCaches:
    """The vector and keyword caches of one knowledge base folder, kept in step with its store."""

    def __init__(
        self,
        store: Store,
        home: Path,
        embedder: Callable[[], Embedder],
        *,
        exact_limit: int = EXACT_LIMIT,
        lock: threading.RLock | None = None,
    ) -> None:
        self.store = store
        self.index_path = home / INDEX_NAME
        self.keywords_path = home / KEYWORDS_NAME
        self.exact_limit = exact_limit
        self._embedder = embedder  # a getter: the model is loaded only when a cache needs it
        self._index: VectorIndex | None = None
        self._keywords: KeywordIndex | None = None
        self.lock = lock or threading.RLock()
        self.last_repair: str | None = None
        # Caught up in memory with other processes' writes since the files were last saved.
        self._unsaved = False

    @property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use)."""
        return self._embedder()

    @property
    def index(self) -> VectorIndex:
        """The FAISS index, checked against the store and repaired or caught up if needed."""
        with self.lock:
            if self._index is None:
                self._index = self._open_index()
            self._refresh(self._index)
            return self._index

    @property
    def keywords(self) -> KeywordIndex:
        """The BM25 keyword index, checked against the store and rebuilt or caught up if needed."""
        with self.lock:
            if self._keywords is None:
                self._keywords = self._open_keywords()
            self._refresh(self._keywords)
            return self._keywords

    def current(self) -> tuple[VectorIndex, KeywordIndex]:
        """Both caches, checked against the store with one read of its version when neither is behind.

        A search needs both; on a server database each version read is a round trip.
        """
        with self.lock:
            if self._index is None:
                self._index = self._open_index()
            if self._keywords is None:
                self._keywords = self._open_keywords()
            version = self.store.version()
            if self._index.meta.version != version or self._keywords.meta.version != version:
                self._refresh(self._index)
                self._refresh(self._keywords)
            return self._index, self._keywords

    def _refresh(self, cache: VectorIndex | KeywordIndex) -> None:
        """Apply what other processes wrote since the cache was loaded (in memory: see flush)."""
        # Saving here would rewrite both whole files on a search after every write another app server
        # makes; the files are saved with this process's own writes and by flush(), and a process that
        # opens older files catches up from the change log anyway.
        if self._catch_up(cache):
            self._unsaved = True

    def flush(self) -> None:
        """Save the caches if they caught up with other processes' writes since they were last saved."""
        with self.lock:
            if self._unsaved:
                self.save()

    def _open_index(self) -> VectorIndex:
        """Load the index file if it matches the store, else rebuild it from stored vectors."""
        fingerprint = self.embedder.fingerprint
        try:
            index = VectorIndex.load(self.index_path)
            if index.meta.fingerprint != fingerprint:
                raise KBError(
                    f"index was built with model {index.meta.fingerprint}, the model is {fingerprint}"
                )
            if index.meta.version > self.store.version():
                raise KBError("index is newer than the database (a restored database?)")
            if self._catch_up(index):
                try:
                    index.save(self.index_path)
                except KBError as problem:  # caught up in memory; the file is saved next time
                    self.last_repair = str(problem)
            expected = self.expected_vectors()
            if index.meta.count != expected:
                raise KBError(
                    f"index holds {index.meta.count} vectors, the database has {expected} active entries"
                )
            return index
        except KBError as problem:
            self.last_repair = str(problem)
            return self.rebuild_index()

    def _open_keywords(self) -> KeywordIndex:
        """Load the keyword index file if it matches the store, else rebuild it from the entries."""
        try:
            keywords = KeywordIndex.load(self.keywords_path)
            if keywords.meta.version > self.store.version():
                raise KBError("keyword index is newer than the database (a restored database?)")
            if self._catch_up(keywords):
                self._save_keywords(keywords)
            if keywords.meta.count != self.store.count():
                raise KBError(
                    f"keyword index holds {keywords.meta.count} entries, the database has {self.store.count()}"
                )
            return keywords
        except KBError as problem:
            self.last_repair = str(problem)
            return self.rebuild_keywords()

    def rebuild_keywords(self, strict: bool = False) -> KeywordIndex:
        """Build the keyword index from the active entries and save it."""
        keywords = KeywordIndex.build(self.store.keyword_rows(), version=self.store.version())
        try:
            keywords.save(self.keywords_path)
        except KBError as problem:
            if strict:
                raise
            self.last_repair = str(problem)
        return keywords

    def _save_keywords(self, keywords: KeywordIndex) -> None:
        try:
            keywords.save(self.keywords_path)
        except KBError as problem:  # the database, the source of truth, already holds the change
            self.last_repair = str(problem)

    def expected_vectors(self) -> int:
        """Return how many vectors the index should hold: active entries with a current vector."""
        return self.store.count_vectors(self.embedder.fingerprint)

    def _catch_up(self, index: VectorIndex | KeywordIndex) -> bool:
        """Apply changes other processes made since the index was saved; return True if any were applied."""
        version = self.store.version()
        if index.meta.version == version:
            return False
        changes = self.store.changes_since(index.meta.version)
        seqs = np.array([s for s, _ in changes], dtype=np.int64)
        index.remove(seqs)
        if isinstance(index, KeywordIndex):
            index.upsert(self.store.keyword_rows([s for s, status in changes if status == "active"]))
            index.meta.version = version
            return True
        active = [format_id(s) for s, status in changes if status == "active"]
        vectors = self.store.vectors_for(active, self.embedder.fingerprint)
        if vectors:
            ids = sorted(vectors, key=parse_id)
            index.upsert(
                np.array([parse_id(i) for i in ids], dtype=np.int64), np.vstack([vectors[i] for i in ids])
            )
        index.meta.version = version
        return True

    def rebuild_index(self, strict: bool = False) -> VectorIndex:
        """Encode what has no vector yet, then build and save the index from stored vectors."""
        self.encode_missing()
        version = self.store.version()
        seqs, matrix = self.store.vectors(self.embedder.fingerprint)
        index = VectorIndex.build(
            seqs,
            matrix,
            fingerprint=self.embedder.fingerprint,
            dim=self.embedder.dim,
            version=version,
            exact_limit=self.exact_limit,
        )
        try:
            index.save(self.index_path)
        except KBError as problem:
            if strict:
                raise
            self.last_repair = str(problem)  # search works from memory; the file is saved next time
        return index

    def encode_missing(self, progress: Callable[[int], None] | None = None, batch: int = 256) -> int:
        """Encode and store vectors for active entries that lack one for the current model."""
        missing = self.store.missing_vectors(self.embedder.fingerprint)
        for start in range(0, len(missing), batch):
            part = missing[start : start + batch]
            vectors = self.embedder.encode([e.search_text() for e in part])
            self.store.put_vectors(zip(part, vectors, strict=True), self.embedder.fingerprint)
            if progress:
                progress(len(part))
        return len(missing)

    def reindex(self, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Rebuild both indexes from the database (encoding only entries that have no vector)."""
        with self.lock:
            encoded = self.encode_missing(progress)
            self._index = self.rebuild_index(strict=True)
            self._keywords = self.rebuild_keywords(strict=True)
            return {
                "encoded": encoded,
                "indexed": self._index.meta.count,
                "kind": self._index.meta.kind,
                "keywords": self._keywords.meta.count,
            }

    def save(self) -> None:
        """Save the loaded indexes, each caught up to the store's version first."""
        self._unsaved = False
        if self._index is not None:
            self._catch_up(self._index)
            try:
                self._index.save(self.index_path)
            except KBError as problem:  # the database, the source of truth, already holds the change
                self.last_repair = str(problem)
        if self._keywords is not None:
            self._catch_up(self._keywords)
            self._save_keywords(self._keywords)

    def loaded_index(self) -> VectorIndex | None:
        """Return the vector index if it is loaded in this process (without loading it)."""
        return self._index

    def report(self) -> dict[str, dict[str, Any]]:
        """Return the state of both index files against the database (changing neither)."""
        return {
            "index": self._file_report(self.index_path, VectorIndex.load, self.expected_vectors(), "vectors"),
            "keywords": self._file_report(
                self.keywords_path, KeywordIndex.load, self.store.count(), "entries"
            ),
        }

    def _file_report(
        self, path: Path, load: Callable[[Path], VectorIndex | KeywordIndex], expected: int, unit: str
    ) -> dict[str, Any]:
        """Return the state of one index file against the database."""
        try:
            cache = load(path)
        except KBError as problem:
            return {"state": f"broken: {problem}", "file": str(path)}
        meta = cache.meta
        behind = self.store.version() - meta.version
        built_with = getattr(meta, "fingerprint", self.embedder.fingerprint)  # only vectors have a model
        if built_with != self.embedder.fingerprint:
            state = f"stale: built with model {built_with}"
        elif behind < 0:
            state = "stale: the index is newer than the database (a restored database?)"
        elif behind > 0:
            # Only behind the change log (ordinary work in another process): apply the log in memory and
            # check the result; the file itself catches up at its next use, so this is not a problem.
            changed = len(self.store.changes_since(meta.version))
            self._catch_up(cache)
            state = (
                f"stale: {meta.count} {unit} after applying {changed} changes, database has {expected}"
                if meta.count != expected
                else f"ok: {changed} changed entries behind the change log, applied at next use"
            )
        elif meta.count != expected:
            state = f"stale: {meta.count} {unit}, database has {expected}"
        else:
            state = "ok"
        return {"state": state, "count": meta.count, "file": str(path), "kind": getattr(meta, "kind", "bm25")}


def cache_ok(state: str) -> bool:
    """Return True for a cache state that is consistent (possibly behind the change log)."""
    return state == "ok" or state.startswith("ok:")
