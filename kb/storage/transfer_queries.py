"""SQL of transfer packages, site signing keys and backup snapshots (part of the governance queries).

`GovernanceQueries` (kb/storage/governance_queries.py) inherits `TransferQueries`, and `Store` inherits that.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any


class TransferQueries:
    """One named method per query of transfer packages, site keys and backups."""

    conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:  # provided by Store
        """Run the block in one IMMEDIATE transaction."""
        raise NotImplementedError

    def table_exists(self, name: str) -> bool:  # provided by GovernanceQueries
        """Return True when a table of this name exists."""
        raise NotImplementedError

    @staticmethod
    def _json_text(column: str, key: str) -> str:  # provided by GovernanceQueries
        raise NotImplementedError

    # -- transfer packages ------------------------------------------------------------------------

    def meta_value(self, key: str) -> str | None:
        """Return one value of the meta table, or None."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta_default(self, key: str, value: str) -> str:
        """Store a meta value unless one is there, and return the value that is kept."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", (key, value)
            )
            return self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    def entry_ids_in_scope(self, process: str, step: str | None, include_retired: bool) -> list[str]:
        """Return the ids of the entries of a process (and step), by seq."""
        where, params = ["process = ?"], [process]
        if step:
            where.append("step = ?")
            params.append(step)
        if not include_retired:
            where.append("status = 'active'")
        return [
            r[0]
            for r in self.conn.execute(
                f"SELECT id FROM entries WHERE {' AND '.join(where)} ORDER BY seq", params
            )
        ]

    def process_names(self) -> list[str]:
        """Return every process name used by an entry, sorted."""
        rows = self.conn.execute("SELECT DISTINCT process FROM entries WHERE process IS NOT NULL")
        return sorted(r[0] for r in rows)

    def fingerprints_of(self, entry_ids: Sequence[str]) -> dict[str, int]:
        """Return how many vectors per model fingerprint these entries have."""
        out: dict[str, int] = {}
        ids = list(entry_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for fingerprint, n in self.conn.execute(
                f"SELECT fingerprint, COUNT(*) FROM vectors WHERE entry_id IN ({marks}) GROUP BY fingerprint",
                chunk,
            ):
                out[fingerprint] = out.get(fingerprint, 0) + n
        return out

    def known_origins(self) -> dict[tuple[str, str], str]:
        """Return {(origin site, origin id): local entry id} of every imported entry."""
        site, origin = self._json_text("fields", "origin_site"), self._json_text("fields", "origin_id")
        rows = self.conn.execute(
            f"SELECT id, {site}, {origin} FROM entries WHERE {origin} IS NOT NULL ORDER BY seq"
        ).fetchall()
        return {(site, origin_id): entry_id for entry_id, site, origin_id in rows if site}

    def highest_origin_revision(self, origin_site: str, origin_id: str) -> int | None:
        """Return the highest origin revision imported so far for one origin entry."""
        if not self.table_exists("transfer_provenance"):
            return None
        row = self.conn.execute(
            "SELECT MAX(origin_revision) FROM transfer_provenance WHERE origin_site = ? AND origin_id = ?",
            (origin_site, origin_id),
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def put_provenance(
        self,
        entry_id: str,
        origin: dict[str, Any],
        package_id: str,
        at: str,
        author: str | None,
    ) -> None:
        """Record where an imported entry came from (origin site, id, revision, history)."""
        self.conn.execute(
            "INSERT INTO transfer_provenance(entry_id, origin_site, origin_id, origin_kb, "
            "origin_revision, origin_content_hash, package_id, imported_at, imported_by, history) "
            "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (origin_site, origin_id, package_id) DO UPDATE SET "
            "entry_id = excluded.entry_id, origin_kb = excluded.origin_kb, "
            "origin_revision = excluded.origin_revision, origin_content_hash = excluded.origin_content_hash, "
            "imported_at = excluded.imported_at, imported_by = excluded.imported_by, history = excluded.history",
            (
                entry_id,
                origin["origin_site"],
                origin["origin_id"],
                origin["origin_kb"],
                origin["revision"],
                origin["content_hash"],
                package_id,
                at,
                author,
                json.dumps(origin["history"], ensure_ascii=False, default=str),
            ),
        )

    def newest_origin_history(self, entry_id: str) -> list[dict[str, Any]]:
        """Return the origin history of an imported entry from its newest package ([] when none)."""
        if not self.table_exists("transfer_provenance"):
            return []
        row = self.conn.execute(
            "SELECT history FROM transfer_provenance WHERE entry_id = ? ORDER BY imported_at DESC LIMIT 1",
            (entry_id,),
        ).fetchone()
        return json.loads(row[0]) if row else []

    # -- site keys --------------------------------------------------------------------------------

    def site_key_rows(self) -> list[tuple[str, str, str, str, str | None, str]]:
        """Return (site, key_id, public_key, added_at, added_by, status) of every registered key."""
        if not self.table_exists("site_keys"):
            return []
        return self.conn.execute(
            "SELECT site, key_id, public_key, added_at, added_by, status FROM site_keys ORDER BY site, added_at"
        ).fetchall()

    def insert_site_key(self, site: str, key_id: str, public_key: str, at: str, by: str | None) -> bool:
        """Register a site's public key; return False when that key is already registered."""
        cur = self.conn.execute(
            "INSERT INTO site_keys(site, key_id, public_key, added_at, added_by) VALUES (?,?,?,?,?) "
            "ON CONFLICT DO NOTHING",
            (site, key_id, public_key, at, by),
        )
        return bool(cur.rowcount)

    # -- backups (other database files) ------------------------------------------------------------

    @staticmethod
    def snapshot(source: Path, target: Path, *, read_only_source: bool = False) -> None:
        """Copy a database file to another file in one read snapshot (SQLite's online backup API)."""
        uri = source.resolve().as_uri() + "?mode=ro" if read_only_source else str(source)
        src = sqlite3.connect(uri, uri=read_only_source, timeout=60)
        try:
            src.execute("PRAGMA busy_timeout = 60000")
            dst = sqlite3.connect(str(target))
            try:
                src.backup(dst)
                if not read_only_source:
                    dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
        finally:
            src.close()
