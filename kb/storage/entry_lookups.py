"""Bulk entry lookups shared by both stores: which stored entry answers each ext_id or content hash.

The stores differ only in how they fetch the entries whose column holds one of many values
(`_entries_with`); choosing one entry per value is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from kb.models import Entry, parse_id


class EntryLookups:
    """find_by_ext_ids / find_by_hashes on top of a store's `_entries_with(column, values, active_only)`."""

    def _entries_with(self, column: str, values: list[str], *, active_only: bool = False) -> list[Entry]:
        """Return the entries whose `column` is one of `values` (a store implements this)."""
        raise NotImplementedError

    def find_by_ext_ids(self, ext_ids: Sequence[str]) -> dict[str, Entry]:
        """Return find_by_ext_id for many ids at once, keyed by ext_id (ids with no entry left out)."""
        found = self._entries_with("ext_id", sorted({x for x in ext_ids if x is not None}))
        newest: dict[str, Entry] = {}
        for entry in sorted(found, key=lambda e: parse_id(e.id)):
            newest[entry.ext_id] = entry  # ascending seq: the newest one stays
        return newest

    def find_by_hashes(self, content_hashes: Sequence[str]) -> dict[str, Entry]:
        """Return find_by_hash for many hashes at once, keyed by hash (hashes with no entry left out)."""
        wanted = sorted({x for x in content_hashes if x is not None})
        oldest: dict[str, Entry] = {}
        for entry in sorted(
            self._entries_with("content_hash", wanted, active_only=True), key=lambda e: parse_id(e.id)
        ):
            oldest.setdefault(entry.content_hash, entry)  # ascending seq: the oldest active one stays
        return oldest
