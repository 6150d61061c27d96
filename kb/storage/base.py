"""The Store protocol: what the rest of TacitKB may ask of a database, whatever the backend.

Only kb/storage/ writes SQL or holds a connection. The facade, retrieval, analytics and governance ask a
Store for records; a backend (kb/storage/sqlite.py, the embedded default; a server database later) is one
module that implements this protocol and applies the shared migration list (kb/storage/schema.py).

Also here: what every backend must compute the same way (the audit hash, the vector byte format, the
entries columns), so two backends produce the same chain and the same vectors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kb.models import TEXT_FIELDS, Entry, Link, Revision, SearchFilters

# Column order of the entries table: ids, the caller's fields, then what the store maintains.
ENTRY_COLUMNS: tuple[str, ...] = (
    "seq", "id", *TEXT_FIELDS, "tags", "fields", "created_at", "updated_at", "status", "revision", "content_hash",
    "changed_version",
)  # fmt: skip
FILTER_COLUMNS: tuple[str, ...] = ("type", "process", "step", "site", "status")
GENESIS_HASH = "0" * 64


def event_hash(at: str, actor: str | None, action: str, entry_id: str | None, details: Any, prev: str) -> str:
    """Return the hash an audit event carries: sha256 of its body, which includes the previous hash."""
    body = json.dumps(
        {"at": at, "actor": actor, "action": action, "entry_id": entry_id, "details": details, "prev": prev},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def vector_to_blob(vector: np.ndarray) -> bytes:
    """Return a float32 vector as little-endian bytes for storage."""
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes) -> np.ndarray:
    """Return the float32 vector stored in a blob."""
    return np.frombuffer(blob, dtype="<f4")


def links_by_entry(entry_ids: Sequence[str], rows: Iterable[Sequence[Any]]) -> dict[str, list[Link]]:
    """Return link rows (source, relation, target, author, created_at, note) grouped under each entry id."""
    out: dict[str, list[Link]] = {i: [] for i in entry_ids}
    for row in rows:
        link = Link(*row)
        for key in (link.source, link.target):
            if key in out and link not in out[key]:
                out[key].append(link)
    return out


@runtime_checkable
class Store(Protocol):
    """Entries with revisions, links, vectors, the change log and the audit chain, in one database.

    Writes are atomic: `transaction()` nests (inner blocks join the outer one), and a failed block leaves
    nothing behind. Ids and the audit chain head are allocated inside the write transaction, under the
    backend's write lock, so several writers never get the same id or fork the chain.
    """

    def close(self) -> None:
        """Release the connection(s)."""

    def transaction(self) -> AbstractContextManager[None]:
        """Run a block as one atomic write (nested calls join the outer transaction)."""

    # entries and their history
    def get(self, entry_id: str) -> Entry:
        """Return one entry by id, or raise NotFoundError."""

    def get_many(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        """Return the entries with these ids, keyed by id (unknown ids are left out)."""

    def get_many_with_links(self, entry_ids: Sequence[str]) -> tuple[dict[str, Entry], dict[str, list[Link]]]:
        """Return (get_many(ids), links_for(ids)): the hits of a search and their links, in one go
        (a server database answers both in one round trip)."""

    def find_by_ext_id(self, ext_id: str) -> Entry | None:
        """Return the newest entry carrying this source-system id, if any."""

    def find_by_hash(self, content_hash: str) -> Entry | None:
        """Return an active entry with exactly this content, if any."""

    def find_by_ext_ids(self, ext_ids: Sequence[str]) -> dict[str, Entry]:
        """Return find_by_ext_id for many ids at once, keyed by ext_id (ids with no entry left out)."""

    def find_by_hashes(self, content_hashes: Sequence[str]) -> dict[str, Entry]:
        """Return find_by_hash for many hashes at once, keyed by hash (hashes with no entry left out)."""

    def iter_entries(self, *, status: str | None = "active", type: str | None = None) -> Iterator[Entry]:
        """Yield entries in id order, optionally only one status and type."""

    def count(self, *, status: str | None = "active") -> int:
        """Return how many entries there are (of one status, by default active)."""

    def filter_seqs(self, filters: SearchFilters) -> np.ndarray:
        """Return the sequence numbers of every entry that passes the filters (compiled by the backend)."""

    def keyword_rows(self, seqs: Sequence[int] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (seq, searchable fields) of active entries, all of them or those with these seqs."""

    def history(self, entry_id: str) -> list[Revision]:
        """Return the revisions of one entry, oldest first."""

    def insert(
        self, entries: Sequence[Entry], *, author: str | None, reason: str | None = None
    ) -> list[Entry]:
        """Insert new entries in one transaction, with revision 1 and an audit event each."""

    def update(self, entry_id: str, changes: dict[str, Any], *, author: str | None, reason: str) -> Entry:
        """Apply field changes to an entry as a new revision (old and new values recorded)."""

    def set_status(self, entry_id: str, status: str, *, author: str | None, reason: str) -> Entry:
        """Retire (or restore) an entry with a reason; nothing is ever hard-deleted."""

    # links
    def add_link(self, link: Link) -> Link:
        """Store a link between two existing entries (idempotent)."""

    def links(self, entry_id: str) -> list[Link]:
        """Return every link from or to an entry."""

    def links_for(self, entry_ids: Sequence[str]) -> dict[str, list[Link]]:
        """Return the links of many entries at once, keyed by entry id."""

    def all_links(self) -> list[Link]:
        """Return every link, in a stable order."""

    # vectors
    def vectors(self, fingerprint: str, *, status: str = "active") -> tuple[np.ndarray, np.ndarray]:
        """Return (seqs, matrix) of stored vectors of one model for entries of one status."""

    def count_vectors(self, fingerprint: str, *, status: str = "active") -> int:
        """Return how many entries of a status have a current vector for this model."""

    def vectors_for(self, entry_ids: Sequence[str], fingerprint: str) -> dict[str, np.ndarray]:
        """Return the stored vectors of some entries (current content only), keyed by id."""

    def missing_vectors(self, fingerprint: str) -> list[Entry]:
        """Return active entries with no current vector for this model (to encode)."""

    def fingerprints(self) -> dict[str, int]:
        """Return how many vectors are stored per model fingerprint."""

    def put_vectors(self, items: Iterable[tuple[Entry, np.ndarray]], fingerprint: str) -> None:
        """Store vectors for entries' current content (replacing older ones of the same model)."""

    # the change log that caches follow
    def version(self) -> int:
        """Return the change counter: it grows with every write that affects the index caches."""

    def changes_since(self, version: int) -> list[tuple[int, str]]:
        """Return (seq, status) of entries changed after a cache's version."""

    # the audit chain
    def audit_events(self, entry_id: str | None = None) -> list[dict[str, Any]]:
        """Return audit events (of one entry, or all), oldest first."""

    def append_event(
        self, actor: str | None, action: str, entry_id: str | None, details: dict[str, Any], at: str
    ) -> None:
        """Append one audit event chained by hash to the previous one (inside the caller's transaction)."""

    # housekeeping
    def stats_counts(self) -> dict[str, Any]:
        """Return active counts by type, process and site, and the number of links and revisions."""

    def integrity_check(self) -> str:
        """Return 'ok', or what the database engine's own consistency check found."""

    def schema_version(self) -> int:
        """Return the last migration applied to this database."""

    def get_meta(self, key: str) -> str | None:
        """Return a value of the key/value meta table, or None."""

    def set_meta(self, key: str, value: str, *, overwrite: bool = True) -> str:
        """Store a meta value (or keep the existing one when overwrite is False); return the stored value."""
