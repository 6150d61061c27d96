"""The write rules every backend shares: check, number, revise and audit each change to an entry.

A backend supplies a handful of row primitives (insert these rows, update these columns, append these
events) inside its own write transaction; the rules that decide what is written (who may change what,
which revision, which diff, what the audit event binds) are here once, so two backends cannot drift
apart and the same write gives the same revision rows and the same hash chain on either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from kb.models import (
    EDITABLE_FIELDS,
    LINK_RELATIONS,
    Entry,
    KBError,
    Link,
    check_entry,
    format_id,
    parse_id,
    utc_now,
)
from kb.storage.base import ENTRY_COLUMNS

AuditEvent = tuple[str | None, str, str | None, dict[str, Any], str]  # actor, action, entry id, details, at
RevisionRow = tuple[str, int, str, str | None, str, str | None, str]  # entry id .. changes (JSON text)


def editable_values(entry: Entry) -> dict[str, Any]:
    """Return the fields a caller may set, by name."""
    return {k: getattr(entry, k) for k in EDITABLE_FIELDS}


def default_title(text: str, limit: int = 80) -> str:
    """Return a title made from the first line of a text, cut at a word boundary."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def revision_digest(
    entry_id: str, revision: int, action: str, author: str | None, at: str, reason: str | None, changes: str
) -> str:
    """Return the sha256 of one revision row (its changes as stored JSON text): what the audit event binds."""
    body = json.dumps(
        [entry_id, revision, action, author, at, reason, changes], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def bound_state(entry: Any, revision_hash: str) -> dict[str, Any]:
    """Return what an audit event binds of the entry state it wrote: content hash, status, author, revision row."""
    # Recomputed from the entry, never taken from the caller: verify re-derives each from the stored rows.
    return {
        "content_hash": entry.compute_hash(),
        "status": entry.status,
        "entry_author": entry.author,
        "revision_hash": revision_hash,
    }


def revision_row(
    entry_id: str, revision: int, action: str, author: str | None, at: str, reason: str | None, changes: dict
) -> tuple[RevisionRow, str]:
    """Return one revision row (changes as JSON text) and its digest."""
    row = (
        entry_id,
        revision,
        action,
        author,
        at,
        reason,
        json.dumps(changes, ensure_ascii=False, default=str),
    )
    return row, revision_digest(*row)


def entry_row(entry: Entry, seq: int, version: int) -> list[Any]:
    """Return the entries-table values of an entry, in ENTRY_COLUMNS order."""
    values = {
        **{c: getattr(entry, c, None) for c in ENTRY_COLUMNS if c not in ("seq", "changed_version")},
        "seq": seq,
        "changed_version": version,
        "tags": json.dumps(entry.tags, ensure_ascii=False),
        "fields": json.dumps(entry.fields, ensure_ascii=False, sort_keys=True, default=str),
    }
    return [values[c] for c in ENTRY_COLUMNS]


class EntryWrites:
    """insert, update, set_status and add_link over a backend's row primitives (mixed into each Store)."""

    # -- what a backend provides; every primitive runs inside the backend's write transaction ----------
    # (The backend also provides transaction() and get(); this class comes last among a store's bases, so
    # these fallbacks never hide the backend's own methods.)
    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]: ...

        def get(self, entry_id: str) -> Entry: ...

    def _next_seq(self) -> int:
        """Return the next entry number (under the backend's write lock)."""
        raise NotImplementedError

    def _bump_version(self) -> int:
        """Raise and return the change counter the caches follow."""
        raise NotImplementedError

    def _insert_entry_rows(self, rows: list[list[Any]]) -> None:
        raise NotImplementedError

    def _update_entry_columns(self, entry_id: str, values: dict[str, Any]) -> None:
        raise NotImplementedError

    def _insert_revision_rows(self, rows: list[RevisionRow]) -> None:
        raise NotImplementedError

    def _append_events(self, events: list[AuditEvent]) -> None:
        """Append audit events to the one hash chain, in order."""
        raise NotImplementedError

    def _insert_link_row(self, link: Link) -> bool:
        """Insert a link row unless it exists; return True when it was new."""
        raise NotImplementedError

    # -- the shared rules -----------------------------------------------------------------------------

    check_entry = staticmethod(check_entry)
    _entry_row = staticmethod(entry_row)

    def insert(
        self, entries: Sequence[Entry], *, author: str | None, reason: str | None = None
    ) -> list[Entry]:
        """Insert new entries in one transaction, with revision 1 and an audit event each."""
        for entry in entries:
            self.check_entry(entry)
        now = utc_now()
        with self.transaction():
            seq = self._next_seq()
            version = self._bump_version()
            rows, revisions, events = [], [], []
            for entry in entries:
                entry.id = format_id(seq)
                entry.title = entry.title or default_title(entry.text)
                entry.author = entry.author or author
                entry.created_at = entry.updated_at = now
                entry.status = "active"
                entry.revision = 1
                entry.content_hash = entry.compute_hash()
                rows.append(entry_row(entry, seq, version))
                changes = {
                    k: {"old": None, "new": v}
                    for k, v in editable_values(entry).items()
                    if v not in (None, "", [], {})
                }
                row, digest = revision_row(entry.id, 1, "create", author, now, reason, changes)
                revisions.append(row)
                events.append(
                    (
                        author,
                        "create",
                        entry.id,
                        {"revision": 1, "reason": reason, **bound_state(entry, digest)},
                        now,
                    )
                )
                seq += 1
            self._insert_entry_rows(rows)
            self._insert_revision_rows(revisions)
            self._append_events(events)
        return list(entries)

    def update(self, entry_id: str, changes: dict[str, Any], *, author: str | None, reason: str) -> Entry:
        """Apply field changes to an entry as a new revision (old and new values recorded)."""
        if not reason or not reason.strip():
            raise KBError("argument 'reason': a reason is required for every edit")
        unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
        if unknown:
            raise KBError(
                f"field '{unknown[0]}': not an editable field (editable: {', '.join(EDITABLE_FIELDS)})"
            )
        with self.transaction():
            entry = self.get(entry_id)
            if entry.status != "active":
                raise KBError(f"{entry_id} is retired; it cannot be edited")
            if "author" in changes and changes["author"] != entry.author:
                # Who wrote an entry is fixed at creation: changing it would let a signer disown it.
                raise KBError("field 'author': read-only after creation (the history names every editor)")
            before = editable_values(entry)
            for key, value in changes.items():
                setattr(entry, key, value)
            self.check_entry(entry)
            after = editable_values(entry)
            diff = {k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k]}
            if not diff:
                return entry
            now = utc_now()
            entry.revision += 1
            entry.updated_at = now
            entry.content_hash = entry.compute_hash()
            version = self._bump_version()
            values = dict(zip(ENTRY_COLUMNS, entry_row(entry, parse_id(entry.id), version), strict=True))
            self._update_entry_columns(entry.id, {c: v for c, v in values.items() if c not in ("id", "seq")})
            row, digest = revision_row(entry.id, entry.revision, "edit", author, now, reason, diff)
            self._insert_revision_rows([row])
            details = {
                "revision": entry.revision,
                "reason": reason,
                "fields": sorted(diff),
                **bound_state(entry, digest),
            }
            self._append_events([(author, "edit", entry.id, details, now)])
        return entry

    def set_status(self, entry_id: str, status: str, *, author: str | None, reason: str) -> Entry:
        """Retire (or restore) an entry with a reason; nothing is ever hard-deleted."""
        if not reason or not reason.strip():
            raise KBError("argument 'reason': a reason is required to retire or restore an entry")
        with self.transaction():
            entry = self.get(entry_id)
            if entry.status == status:
                raise KBError(f"{entry_id} is already {status}")
            now = utc_now()
            old = entry.status
            entry.status = status
            entry.revision += 1
            entry.updated_at = now
            version = self._bump_version()
            self._update_entry_columns(
                entry.id,
                {"status": status, "revision": entry.revision, "updated_at": now, "changed_version": version},
            )
            action = "retire" if status == "retired" else "restore"
            change = {"status": {"old": old, "new": status}}
            row, digest = revision_row(entry.id, entry.revision, action, author, now, reason, change)
            self._insert_revision_rows([row])
            details = {"revision": entry.revision, "reason": reason, **bound_state(entry, digest)}
            self._append_events([(author, action, entry.id, details, now)])
        return entry

    def add_link(self, link: Link) -> Link:
        """Store a link between two existing entries (idempotent)."""
        if link.relation not in LINK_RELATIONS:
            raise KBError(
                f"argument 'relation': unknown relation '{link.relation}' (expected one of {', '.join(LINK_RELATIONS)})"
            )
        if link.source == link.target:
            raise KBError(f"an entry cannot be linked to itself ({link.source})")
        with self.transaction():
            self.get(link.source)
            self.get(link.target)
            link.created_at = link.created_at or utc_now()
            if self._insert_link_row(link):
                details = {"relation": link.relation, "target": link.target}
                self._append_events([(link.author, "link", link.source, details, link.created_at)])
        return link
