"""Backup and restore of a knowledge base.

`backup` copies the database with SQLite's online backup API from a separate read connection: it
takes a consistent snapshot while other processes keep writing (WAL mode), checks the copy with
PRAGMA integrity_check, and writes a manifest (sha256, row counts, audit head) beside it.

`restore` checks the file against its manifest and with integrity_check, copies it into an empty
folder (or, with force, moves the old files aside - nothing is deleted), rebuilds the index from the
stored vectors and records who restored what in the audit trail.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.files import file_sha256
from kb.governance.audit import verify_chain
from kb.governance.integrity import verify_knowledge_base
from kb.governance.roles import Actor
from kb.models import KBError, utc_now
from kb.storage.governance_queries import DatabaseError, GovernanceQueries, ReadOnlyDatabase

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase
    from kb.retrieval.embed import Embedder

BACKUP_FORMAT = "tacitkb-backup/1"
KB_FILES: tuple[str, ...] = (
    "tacitkb.db",
    "tacitkb.db-wal",
    "tacitkb.db-shm",
    "index.faiss",
    "index.faiss.json",
    "keywords.npz",
    "keywords.npz.json",
)


def manifest_path(backup_file: Path | str) -> Path:
    """Return where the manifest of a backup file lives (FILE.manifest.json)."""
    backup_file = Path(backup_file)
    return backup_file.with_name(backup_file.name + ".manifest.json")


def _describe(path: Path) -> dict[str, Any]:
    """Return integrity, counts, schema version and audit head of a database file (opened read-only)."""
    with ReadOnlyDatabase(path) as db:
        integrity = db.database_integrity()
        missing = sorted({"meta", "entries", "revisions", "audit_events"} - db.table_names())
        if missing:
            raise KBError(f"{path}: not a TacitKB database (no table '{missing[0]}')")
        check = verify_chain(db)  # type: ignore[arg-type]
        return {
            "integrity_check": integrity,
            "schema_version": db.schema_version(),
            "counts": db.counts(),
            "audit": {
                "ok": check.ok,
                "events": check.events,
                "head_hash": check.head_hash,
                "reason": check.reason,
            },
            "fingerprints": db.fingerprint_counts(),
        }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, path)


def backup(
    kb: KnowledgeBase, out_path: Path | str, *, by: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Copy the database to out_path while others may write; write and return its manifest."""
    if kb.actor is not None:
        kb.actor.require("backup")
        by = kb.actor.name
    if getattr(kb.store, "path", None) is None:
        raise KBError(
            f"tacitkb backup copies a SQLite file; {kb.store.location} is backed up with pg_dump "
            "(docs/deployment.md, 'Backup and restore')"
        )
    out = Path(out_path)
    if out.exists() and not force:
        raise KBError(f"argument '--out': {out} already exists (choose another name, or --force)")
    if out.resolve().parent == kb.home.resolve() and out.name in KB_FILES:
        raise KBError(f"argument '--out': {out} is one of the knowledge base's own files")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        # One step: a single read snapshot, consistent even while other processes commit.
        GovernanceQueries.snapshot(kb.store.path, tmp)
        described = _describe(tmp)
    except DatabaseError as exc:
        tmp.unlink(missing_ok=True)
        raise KBError(f"backup to {out} failed: {exc}") from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KBError(f"backup to {out} failed: {exc.strerror or exc}") from exc
    if described["integrity_check"] != "ok":
        tmp.unlink(missing_ok=True)
        raise KBError(f"backup copy failed its integrity check: {described['integrity_check']}")
    _fsync(tmp)
    os.replace(tmp, out)
    manifest = {
        "format": BACKUP_FORMAT,
        "file": out.name,
        "sha256": file_sha256(out),
        "bytes": out.stat().st_size,
        "created_at": utc_now(),
        "created_by": by,
        "source": str(kb.store.path),
        **described,
    }
    _write_json_atomically(manifest_path(out), manifest)
    kb.store.record_event(
        by,
        "backup",
        None,
        {"file": str(out), "sha256": manifest["sha256"], "counts": manifest["counts"]},
        manifest["created_at"],
    )
    return manifest | {"manifest": str(manifest_path(out))}


def check_backup(backup_path: Path | str) -> dict[str, Any]:
    """Check a backup file against its manifest and with integrity_check; return what it holds."""
    path = Path(backup_path)
    if not path.is_file():
        raise KBError(f"{path}: no such backup file")
    digest = file_sha256(path)
    mpath = manifest_path(path)
    manifest: dict[str, Any] | None = None
    if mpath.is_file():
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise KBError(f"{mpath}: the manifest is not valid JSON ({exc})") from exc
        if manifest.get("sha256") != digest:
            raise KBError(
                f"{path}: does not match its manifest (sha256 {digest[:12]}…, manifest says "
                f"{str(manifest.get('sha256'))[:12]}…): the file was changed or damaged"
            )
    try:
        described = _describe(path)
    except DatabaseError as exc:
        raise KBError(f"{path}: not a readable SQLite database ({exc})") from exc
    if described["integrity_check"] != "ok":
        raise KBError(f"{path}: failed PRAGMA integrity_check: {described['integrity_check']}")
    if manifest is not None and manifest.get("counts") and manifest["counts"] != described["counts"]:
        raise KBError(
            f"{path}: row counts {described['counts']} differ from the manifest's {manifest['counts']}"
        )
    return {"file": str(path), "sha256": digest, "manifest": str(mpath) if manifest else None, **described}


def restore(
    backup_path: Path | str,
    home: Path | str,
    *,
    force: bool = False,
    embedder: Embedder | None = None,
    by: Actor | str | None = None,
) -> dict[str, Any]:
    """Restore a checked backup into an empty folder (or, with force, move the old files aside)."""
    from kb.knowledge_base import DB_NAME, KnowledgeBase

    checked = check_backup(backup_path)
    home = Path(home)
    present = list(home.iterdir()) if home.is_dir() else []
    moved_to: Path | None = None
    if present and not force:
        raise KBError(
            f"{home} is not empty (it holds {present[0].name}); restore into an empty folder or use --force"
        )
    home.mkdir(parents=True, exist_ok=True)
    if present:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        moved_to = home / f"replaced-{stamp}"
        moved_to.mkdir()
        for name in KB_FILES:
            if (home / name).exists():
                os.replace(home / name, moved_to / name)
    db = home / DB_NAME
    tmp = home / f".{DB_NAME}.restore.{os.getpid()}.tmp"
    GovernanceQueries.snapshot(Path(backup_path), tmp, read_only_source=True)
    _fsync(tmp)
    os.replace(tmp, db)
    author = by.name if isinstance(by, Actor) else by
    with KnowledgeBase(home, embedder=embedder) as kb:
        kb.store.record_event(
            author,
            "restore_backup",
            None,
            {
                "file": checked["file"],
                "sha256": checked["sha256"],
                "manifest_checked": checked["manifest"] is not None,
                "moved_aside": str(moved_to) if moved_to else None,
            },
            utc_now(),
        )
        index = kb.reindex()
        report = verify_knowledge_base(kb)
    return {
        "home": str(home),
        "file": checked["file"],
        "sha256": checked["sha256"],
        "manifest_checked": checked["manifest"] is not None,
        "counts": checked["counts"],
        "audit_in_backup": checked["audit"],
        "moved_aside": str(moved_to) if moved_to else None,
        "index": index,
        "verify": report,
    }
