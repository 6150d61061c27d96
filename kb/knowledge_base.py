"""The KnowledgeBase facade: store, embedder, index and search tied together for the CLI, UI and tests."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.drafts import chunk_entry, draft_changes, entry_from_dict, split_long_text
from kb.models import (
    Entry,
    Hit,
    KBError,
    Link,
    NotFoundError,
    Revision,
    SearchFilters,
    check_entry,
    format_id,
    parse_id,
    utc_now,
)
from kb.retrieval.caches import IndexCaches, cache_ok
from kb.retrieval.embed import Embedder, load_embedder
from kb.retrieval.keyword_index import KeywordIndex
from kb.retrieval.learning import Learned, Learner, helped_together
from kb.retrieval.search import DEFAULT_ALPHA, DEFAULT_FUSION, DEFAULT_NORM, hybrid_search, needs_query_vector
from kb.retrieval.vector_index import EXACT_LIMIT, VectorIndex
from kb.storage.base import Store
from kb.storage.entry_writes import default_title
from kb.storage.factory import DB_FILE, open_store

if TYPE_CHECKING:  # the facade checks roles through the actor it is given; it does not import governance
    from kb.governance.roles import Actor

DB_NAME = DB_FILE  # the SQLite file in the folder (when no server is named)


def default_home() -> Path:
    """Return the knowledge base folder: $TACITKB_HOME, else $XDG_DATA_HOME/tacitkb (~/.local/share/tacitkb)."""
    env = os.environ.get("TACITKB_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "tacitkb"


@dataclass
class WriteResult:
    """What a batch write did: entries added, entries updated to a new revision, duplicates skipped."""

    added: list[Entry] = field(default_factory=list)
    updated: list[Entry] = field(default_factory=list)
    duplicates: list[tuple[int, Entry]] = field(default_factory=list)  # (position in batch, existing entry)
    outcomes: list[tuple[str, Entry]] = field(default_factory=list)  # per input: added/updated/duplicate

    def summary(self) -> dict[str, int]:
        """Return the counts as a dict."""
        return {"added": len(self.added), "updated": len(self.updated), "duplicates": len(self.duplicates)}


class KnowledgeBase:
    """One knowledge base folder: `tacitkb.db` (the source of truth) beside two rebuildable caches,
    `index.faiss` (vectors) and `keywords.npz` (BM25 postings)."""

    def __init__(
        self,
        home: Path | str | None = None,
        *,
        embedder: Embedder | None = None,
        exact_limit: int = EXACT_LIMIT,
        query_expander: Callable[[str], str] | None = None,
        actor: Actor | None = None,
        db: str | None = None,
    ) -> None:
        self.home = Path(home) if home else default_home()
        self.home.mkdir(parents=True, exist_ok=True)
        # The database: a server URL (db, else $TACITKB_DB) shared by several app servers, or by default
        # the SQLite file in this folder. Either way the folder keeps this process's index caches.
        self.store: Store = open_store(db or os.environ.get("TACITKB_DB") or self.home)
        self.query_expander = query_expander
        self._embedder = embedder
        self._lock = threading.RLock()
        self.caches = IndexCaches(
            self.store, self.home, lambda: self.embedder, exact_limit=exact_limit, lock=self._lock
        )
        self.index_path = self.caches.index_path
        self.keywords_path = self.caches.keywords_path
        # With an actor, every write is checked against its role and attributed to it, whatever the
        # caller passes as author; without one (local CLI, scripts) the caller's author is recorded.
        self.actor = actor
        self._learner = Learner(self.store)

    def _authorise(self, action: str, author: str | None) -> str | None:
        """Check the actor's role for an action and return the author to record."""
        if self.actor is None:
            return author
        self.actor.require(action)
        return self.actor.name

    def close(self) -> None:
        """Save caches that caught up with other processes' writes, and close the database connection."""
        try:
            self.caches.flush()
        finally:
            self.store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the model and the index ------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded (and verified) on first use."""
        if self._embedder is None:
            self._embedder = load_embedder()
        return self._embedder

    @property
    def index(self) -> VectorIndex:
        """The FAISS index, checked against the store and repaired or caught up if needed."""
        return self.caches.index

    @property
    def keywords(self) -> KeywordIndex:
        """The BM25 keyword index, checked against the store and rebuilt or caught up if needed."""
        return self.caches.keywords

    @property
    def lock(self) -> threading.RLock:
        """The lock that serialises index changes and multi-step writes within this process."""
        return self._lock

    @property
    def last_index_repair(self) -> str | None:
        """Why an index cache was last rebuilt or could not be saved (None when it never was)."""
        return self.caches.last_repair

    def ensure_index(self) -> VectorIndex:
        """Load, check and if needed repair both indexes now (instead of at the first search)."""
        self.keywords  # noqa: B018 - loading is the point
        return self.index

    def encode_missing(self, progress: Callable[[int], None] | None = None, batch: int = 256) -> int:
        """Encode and store vectors for active entries that lack one for the current model."""
        return self.caches.encode_missing(progress, batch)

    def reindex(self, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Rebuild both indexes from the database (encoding only entries that have no vector)."""
        return self.caches.reindex(progress)

    def _save_index(self) -> None:
        """Save the loaded indexes, each caught up to the store's version first."""
        self.caches.save()

    # -- writing ----------------------------------------------------------------------------------

    def add(
        self, entry: Entry | dict[str, Any], *, author: str | None = None, reason: str | None = None
    ) -> Entry:
        """Add one entry (long text is split into linked chunks) and return it as stored."""
        result = self.add_many([entry], author=author, reason=reason)
        if result.duplicates:
            existing = result.duplicates[0][1]
            raise KBError(f"an identical entry already exists: {existing.id}")
        return (result.added or result.updated)[0]

    def add_many(
        self,
        entries: Sequence[Entry | dict[str, Any]],
        *,
        author: str | None = None,
        reason: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> WriteResult:
        """Add a batch in one transaction: new entries, changed re-imports as revisions, duplicates skipped."""
        drafts = [e if isinstance(e, Entry) else entry_from_dict(e) for e in entries]
        for position, draft in enumerate(drafts):
            try:
                check_entry(draft)
            except KBError as exc:
                raise KBError(f"entry {position + 1}: {exc}") from exc
        for entry_type in sorted({d.type for d in drafts}):
            author = self._authorise(f"add:{entry_type}", author)
        if self.actor is not None:
            for draft in drafts:
                draft.author = self.actor.name
        result = WriteResult()
        new: list[Entry] = []
        changed: list[tuple[Entry, Entry]] = []
        plan: list[tuple[str, Entry]] = []
        seen: dict[str, int] = {}
        for draft in drafts:
            draft.title = draft.title or default_title(draft.text)
        digests = [d.compute_hash() for d in drafts]
        # What the store holds, looked up for the whole batch at once (one query each, not one per row).
        by_ext_id = self.store.find_by_ext_ids([d.ext_id for d in drafts if d.ext_id])
        by_hash = self.store.find_by_hashes(digests)
        for position, (draft, digest) in enumerate(zip(drafts, digests, strict=True)):
            previous = by_ext_id.get(draft.ext_id) if draft.ext_id else None
            # Exactly this content, earlier in the batch or stored (also when one source id carries
            # several texts), is a duplicate; a retired record is not brought back by re-importing it.
            duplicate_of = drafts[seen[digest]] if digest in seen else by_hash.get(digest)
            if duplicate_of is None and previous is not None and previous.content_hash == digest:
                duplicate_of = previous
            if duplicate_of is not None:
                result.duplicates.append((position, duplicate_of))
                plan.append(("duplicate", duplicate_of))
                continue
            seen[digest] = position
            if previous is not None and previous.status == "active":
                changed.append((previous, draft))
                plan.append(("updated", draft))
            else:
                new.append(draft)
                plan.append(("added", draft))
        if changed:
            author = self._authorise("edit", author)
        chunk_plan = [(d, split_long_text(d.text)) for d in new]
        texts = [d.search_text() for d in new] + [c for _, chunks in chunk_plan for c in chunks]
        texts += [d.search_text() for _, d in changed]
        vectors = self._encode(texts, progress)
        fingerprint = self.embedder.fingerprint
        with self._lock, self.store.transaction():
            stored = self.store.insert(new, author=author, reason=reason)
            offset = len(new)
            pairs = list(zip(stored, vectors[:offset], strict=True))
            for parent, (_, chunks) in zip(stored, chunk_plan, strict=True):
                if not chunks:
                    continue
                chunk_entries = [chunk_entry(parent, i, len(chunks), text) for i, text in enumerate(chunks)]
                stored_chunks = self.store.insert(
                    chunk_entries, author=author, reason=f"split from {parent.id}"
                )
                for child, vector in zip(stored_chunks, vectors[offset : offset + len(chunks)], strict=True):
                    self.store.add_link(Link(child.id, "chunk_of", parent.id, author=author))
                    pairs.append((child, vector))
                    result.added.append(child)
                offset += len(chunks)
            for (previous, draft), vector in zip(changed, vectors[offset:], strict=True):
                updated = self.store.update(
                    previous.id,
                    draft_changes(previous, draft),
                    author=author,
                    reason=reason or "re-import of a changed source record",
                )
                pairs.append((updated, vector))
                result.updated.append(updated)
            self.store.put_vectors(pairs, fingerprint)
            result.added[:0] = stored
        # Drafts were stored in place (ids set), so the plan now points at stored entries.
        updated_by_draft = {id(d): u for (_, d), u in zip(changed, result.updated, strict=True)}
        result.outcomes = [(kind, updated_by_draft.get(id(e), e)) for kind, e in plan]
        self._index_changed(pairs)
        return result

    def edit(self, entry_id: str, changes: dict[str, Any], *, author: str | None, reason: str) -> Entry:
        """Change fields of an entry as a new revision; re-embed when its text changed."""
        author = self._authorise("edit", author)
        with self._lock:
            before = self.store.get(entry_id)
            draft = Entry(**{**before.to_dict(), **changes})
            vector = None
            if draft.search_text() != before.search_text():
                vector = self._encode([draft.search_text()])[0]
            with self.store.transaction():
                entry = self.store.update(entry_id, changes, author=author, reason=reason)
                if vector is not None or entry.content_hash != before.content_hash:
                    if vector is None:
                        vector = self.store.vectors_for([before.id], self.embedder.fingerprint).get(before.id)
                        vector = vector if vector is not None else self._encode([entry.search_text()])[0]
                    self.store.put_vectors([(entry, vector)], self.embedder.fingerprint)
            self._index_changed([(entry, vector)] if vector is not None else [])
            return entry

    def retire(self, entry_id: str, *, author: str | None, reason: str) -> Entry:
        """Retire an entry with a reason: it stays in the database and its history, and leaves search."""
        author = self._authorise("retire", author)
        with self._lock:
            entry = self.store.set_status(entry_id, "retired", author=author, reason=reason)
            self._save_index()  # catching up removes the retired entry from both indexes
            return entry

    def restore(self, entry_id: str, *, author: str | None, reason: str) -> Entry:
        """Bring a retired entry back into search, with a reason."""
        author = self._authorise("restore", author)
        with self._lock:
            entry = self.store.set_status(entry_id, "active", author=author, reason=reason)
            self._save_index()
            return entry

    def link(
        self, source: str, relation: str, target: str, *, author: str | None = None, note: str | None = None
    ) -> Link:
        """Link two entries (e.g. deviation fixed_by fix)."""
        author = self._authorise("link", author)
        return self.store.add_link(Link(source.upper(), relation, target.upper(), author=author, note=note))

    def _encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        if progress is None:
            return self.embedder.encode(texts)
        # Chunks of similar length, as sentence-transformers sorts a whole batch (less padding);
        # chunking in input order cost 8 % more encoding time in the ingest benchmark.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        for start in range(0, len(order), 256):
            chunk = order[start : start + 256]
            out[chunk] = self.embedder.encode([texts[i] for i in chunk])
            progress(len(chunk))
        return out

    def _index_changed(self, pairs: Iterable[tuple[Entry, np.ndarray]]) -> None:
        """Apply new vectors to the loaded indexes and save them; unloaded ones catch up when opened."""
        pairs = list(pairs)
        with self._lock:
            if self.caches.loaded_index() is None:
                self._save_index()  # the keyword index, if loaded
                return
            if pairs:
                seqs = np.array([parse_id(e.id) for e, _ in pairs], dtype=np.int64)
                self.caches.loaded_index().upsert(seqs, np.vstack([v for _, v in pairs]))
            self._save_index()

    # -- reading ----------------------------------------------------------------------------------

    def get(self, entry_id: str) -> Entry:
        """Return one entry by id."""
        return self.store.get(entry_id)

    def resolve(self, ref: str) -> Entry:
        """Return the entry an id (KB-000123 or 123) or a source-system ext_id names."""
        text = (ref or "").strip()
        if re.fullmatch(r"(?i)KB-\d+", text):
            return self.store.get(text)
        entry = self.store.find_by_ext_id(text) if text else None
        if entry is None and re.fullmatch(r"\d+", text):  # a bare number that is no ext_id is a seq
            return self.store.get(format_id(int(text)))
        if entry is None:
            raise NotFoundError(f"no entry with id or ext_id '{ref}'")
        return entry

    def history(self, entry_id: str) -> list[Revision]:
        """Return an entry's revisions, oldest first."""
        return self.store.history(entry_id)

    def links(self, entry_id: str) -> list[Link]:
        """Return an entry's links in both directions."""
        return self.store.links(entry_id)

    def helped_together(self, entry_id: str) -> list[tuple[Entry, list[str]]]:
        """Return the active entries judged helpful for the same searches as this one, with those searches.

        Most searches first. Read from the stored judgments alone (no model): what search's links use.
        """
        seq = parse_id(entry_id)
        rows = self.store.feedback_rows()
        together = helped_together((r["query"], r["seq"], r["judgment"] == "helped", r["at"]) for r in rows)
        others = together.get(seq, {})
        entries = self.store.get_many([format_id(s) for s in others])
        found = [(entries[format_id(s)], q) for s, q in others.items() if format_id(s) in entries]
        return sorted(
            [(e, q) for e, q in found if e.status == "active"], key=lambda x: (-len(x[1]), parse_id(x[0].id))
        )

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        filters: SearchFilters | None = None,
        learn: bool = True,
        **options: Any,
    ) -> list[Hit]:
        """Return the top-k hits for a query described in the user's own words.

        With `learn` (the default), earlier judgments of similar queries boost or sink entries, and a
        fusion weight tuned on them is used when the caller sets none; with no judgments nothing changes.
        """
        learned = self.learned() if learn else None  # a snapshot: reloaded only when judgments change
        mode = options.get("mode", "hybrid")
        if options.get("query_vector") is None and query.strip() and needs_query_vector(mode, learned):
            # Encoding needs no knowledge-base state, so it runs outside the lock. The encoder still runs
            # one text at a time (searches per second stay ~105 on the samples, 2 cores), but a search no
            # longer waits behind other threads' whole searches: p95 with 8 searching threads 344 -> 84 ms.
            options["query_vector"] = self.embedder.encode([query])[0]
        with self._lock:
            index, keywords = self.caches.current()
            # The tuned alpha was chosen under the default fusion: it applies only to that fusion.
            default_fusion = (
                options.get("fusion", DEFAULT_FUSION) == DEFAULT_FUSION
                and options.get("norm", DEFAULT_NORM) == DEFAULT_NORM
            )
            if learned is not None and learned.alpha is not None and default_fusion:
                options.setdefault("alpha", learned.alpha)
            return hybrid_search(
                self.store,
                index,
                keywords,
                self.embedder,
                query,
                k=k,
                filters=filters,
                expand=options.pop("expand", self.query_expander),
                learned=learned or None,
                **options,
            )

    def learned(self) -> Learned:
        """Return the stored judgments as the search uses them (cached; reloaded when they change)."""

        def rank(query: str, vector: np.ndarray, alpha: float) -> list[int]:
            hits = hybrid_search(
                self.store,
                self.index,
                self.keywords,
                self.embedder,
                query,
                alpha=alpha,
                query_vector=vector,
                expand=self.query_expander,
            )
            return [parse_id(h.entry.id) for h in hits]

        with self._lock:
            return self._learner.current(
                self.embedder.fingerprint, self.embedder.encode, rank, default_alpha=DEFAULT_ALPHA
            )

    def record_feedback(
        self, query: str, ref: str, *, helped: bool, user: str | None = None
    ) -> dict[str, Any]:
        """Store (and audit) that an entry helped, or was not relevant, for a query; return the judgment."""
        text = (query or "").strip()
        if not text:
            raise KBError("argument 'QUERY': the query is empty (judge a hit for the query that found it)")
        user = self._authorise("feedback", user)
        if not user:
            raise KBError("a judgment needs the user who made it (--as NAME)")
        entry = self.resolve(ref)
        if entry.status != "active":
            raise KBError(f"argument 'ENTRY': {entry.id} is {entry.status} and no longer in search")
        row = self.store.add_feedback(
            text,
            entry.id,
            "helped" if helped else "not_relevant",
            user=user,
            fingerprint=self.embedder.fingerprint,
            vector=self.embedder.encode([text])[0],
            at=utc_now(),
        )
        self._learner.invalidate()
        return row

    def similar(self, entry_id: str, *, k: int = 10, filters: SearchFilters | None = None) -> list[Hit]:
        """Return the entries most similar in meaning to a stored entry, by id or ext_id (itself excluded)."""
        entry = self.resolve(entry_id)
        vector = self.store.vectors_for([entry.id], self.embedder.fingerprint).get(entry.id)
        if vector is None:
            vector = self.embedder.encode([entry.search_text()])[0]
        with self._lock:
            return hybrid_search(
                self.store,
                self.index,
                self.keywords,
                self.embedder,
                "",
                k=k,
                filters=filters,
                mode="dense",
                query_vector=vector,
                exclude={parse_id(entry.id)},
            )

    def stats(self) -> dict[str, Any]:
        """Return counts by type, process, site and status, plus links and vectors."""
        counts = self.store.stats_counts()
        return {
            "home": str(self.home),
            "entries": self.store.count(status=None),
            "active": self.store.count(),
            "retired": self.store.count(status="retired"),
            "by_type": counts["by_type"],
            "by_process": counts["by_process"],
            "by_site": counts["by_site"],
            "links": counts["links"],
            "revisions": counts["revisions"],
            "vectors": self.store.fingerprints(),
        }

    def verify(self) -> dict[str, Any]:
        """Check the database, vectors and both index files against each other without changing anything.

        The audit chain and content hashes are checked one layer up (kb.governance.integrity), which
        calls this and adds its findings.
        """
        report: dict[str, Any] = {"home": str(self.home)}
        report["database"] = self.store.integrity_check()
        fingerprint = self.embedder.fingerprint
        report["model"] = fingerprint
        report["active_entries"] = self.store.count()
        report["missing_vectors"] = len(self.store.missing_vectors(fingerprint))
        report["other_models"] = {f: n for f, n in self.store.fingerprints().items() if f != fingerprint}
        report.update(self.caches.report())
        report["ok"] = (
            report["database"] == "ok"
            and report["missing_vectors"] == 0
            and cache_ok(report["index"]["state"])
            and cache_ok(report["keywords"]["state"])
        )
        return report


__all__ = ["KnowledgeBase", "WriteResult", "default_home"]
