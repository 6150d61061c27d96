"""Transfer packages: the knowledge of one process (or one step) moved from one site's knowledge base to another.

A package is a .zip (or a folder) holding
- entries.jsonl: one line per entry, with its full revision history at the exporting site;
- links.jsonl: links between exported entries (by the exporting site's ids);
- templates/shipped/*.yaml, templates/org/*.yaml: the elicitation templates in use;
- vocabulary.yaml (and vocabulary.org.yaml when the site has its own);
- manifest.json: format, package id, exporting site and knowledge base id, time, who, counts, the model
  fingerprint of the stored vectors and the sha256 of every other part.

Importing verifies every part against the manifest and refuses a package with a changed, missing or
extra part. Each entry keeps its provenance (fields.origin_site, origin_id, origin_kb, origin_ext_id;
ext_id becomes "SITE:ext_id" so it never collides with the receiving site's own source ids), the full
origin history goes to the transfer_provenance table, and re-importing adds nothing twice: entries are
matched by origin site + origin id, and a newer origin revision becomes a local revision.
The manifest is signed with the exporting site's Ed25519 key (manifest.sig; see site_keys.py): an import
refuses an unsigned manifest, or one signed by a key no admin registered for that site, unless the caller
explicitly allows unsigned packages. The package id must be the format's own (32 hex digits), every
written path is resolved and kept inside the knowledge base's transfers/ folder, and templates and
vocabulary are only stored there for review, never activated. Members are read in bounded chunks and
lines (MAX_LINE_BYTES, MAX_LINES), after the manifest and its signature are checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.governance import site_keys
from kb.governance.package_reader import (
    ENTRIES,
    FORMAT_VERSION,
    LINKS,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    MAX_REFERENCE_BYTES,
    PACKAGE_FORMAT,
    Package,
    open_package,
    read_package,
)
from kb.governance.site_keys import SIGNATURE_PART
from kb.models import LINK_RELATIONS, TEXT_FIELDS, Entry, KBError, Link, check_entry, utc_now
from kb.storage.base import Store

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

ORIGIN_FIELDS: tuple[str, ...] = ("origin_site", "origin_id", "origin_kb", "origin_ext_id")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(
        json.dumps(r, ensure_ascii=False, sort_keys=True, default=str) + "\n" for r in rows
    ).encode()


def kb_identity(kb: KnowledgeBase, site: str | None = None) -> tuple[str, str]:
    """Return (site name, knowledge base uuid); the uuid is created once and kept in the meta table."""
    store = kb.store
    kb_id = store.meta_value("kb_uuid") or store.set_meta_default("kb_uuid", uuid.uuid4().hex)
    if not site:
        site = os.environ.get("TACITKB_SITE") or store.meta_value("site_name") or socket.gethostname()
    return site, kb_id


def export_package(
    kb: KnowledgeBase,
    process: str,
    step: str | None = None,
    out: Path | str = "transfer.zip",
    *,
    site: str | None = None,
    by: str | None = None,
    include_retired: bool = False,
    attachments: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """Write a transfer package (.zip, or a folder for any other name) for one process or step.

    `attachments` are extra package parts by name (the sending site's templates and vocabulary, which
    ingest/ supplies: the core does not know where templates live).
    """
    if kb.actor is not None:
        kb.actor.require("transfer")
        by = kb.actor.name
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise KBError(f"argument '--out': {out} already exists")
    store = kb.store
    site, kb_id = kb_identity(kb, site)
    ids = store.entry_ids_in_scope(process, step, include_retired)
    if not ids:
        known = store.process_names()
        scope = f"process '{process}'" + (f", step '{step}'" if step else "")
        raise KBError(f"no entries for {scope} (processes here: {', '.join(known) or 'none'})")
    entries = store.get_many(ids)
    entry_rows, revisions = [], 0
    for entry_id in ids:
        history = [asdict(r) for r in store.history(entry_id)]
        revisions += len(history)
        entry_rows.append({"entry": entries[entry_id].to_dict(), "history": history})
    chosen = set(ids)
    links = [asdict(x) for x in store.all_links() if x.source in chosen and x.target in chosen]
    parts: dict[str, bytes] = {ENTRIES: _jsonl(entry_rows), LINKS: _jsonl(links), **(attachments or {})}
    fingerprints = Counter(store.fingerprints_of(ids))
    manifest = {
        "format": PACKAGE_FORMAT,
        "format_version": FORMAT_VERSION,
        "package_id": uuid.uuid4().hex,
        "site": site,
        "kb_id": kb_id,
        "created_at": utc_now(),
        "created_by": by,
        "process": process,
        "step": step,
        "counts": {
            "entries": len(entry_rows),
            "revisions": revisions,
            "links": len(links),
            "templates": sum(1 for name in parts if name.startswith("templates/")),
        },
        "model": {
            "fingerprint": fingerprints.most_common(1)[0][0] if fingerprints else None,
            "fingerprints": dict(fingerprints),
        },
        "parts": {name: {"sha256": _sha(data), "bytes": len(data)} for name, data in sorted(parts.items())},
    }
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode()
    signature = site_keys.sign_manifest(kb.home, manifest_bytes)
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, manifest_bytes)
            archive.writestr(SIGNATURE_PART, signature)
            for name, data in sorted(parts.items()):
                archive.writestr(name, data)
        os.replace(tmp, out)
    else:
        for name, data in {MANIFEST: manifest_bytes, SIGNATURE_PART: signature, **parts}.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    store.record_event(
        by,
        "transfer_export",
        None,
        {
            "package_id": manifest["package_id"],
            "file": str(out),
            "process": process,
            "step": step,
            "counts": manifest["counts"],
            "manifest_sha256": _sha(manifest_bytes),
        },
        manifest["created_at"],
    )
    return manifest | {"file": str(out), "manifest_sha256": _sha(manifest_bytes)}


def _draft(
    row: dict[str, Any], manifest: dict[str, Any], number: int, package: Path
) -> tuple[Entry, dict[str, Any]]:
    """Return (draft entry with provenance, origin record) for one entries.jsonl line."""
    data = row.get("entry")
    where = f"package {package}: {ENTRIES} line {number}"
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise KBError(f"{where}: no entry object with an id")
    values = {k: data.get(k) for k in TEXT_FIELDS if data.get(k) not in (None, "")}
    for key, value in values.items():
        if not isinstance(value, str):
            raise KBError(f"{where}: field '{key}': must be text, not {type(value).__name__}")
    fields = data.get("fields") or {}
    tags = data.get("tags") or []
    if not isinstance(fields, dict):
        raise KBError(f"{where}: field 'fields': must be an object")
    origin = {
        "origin_site": fields.get("origin_site") or manifest["site"],
        "origin_id": fields.get("origin_id") or data["id"],
        "origin_kb": fields.get("origin_kb") or manifest["kb_id"],
        "origin_ext_id": fields.get("origin_ext_id") or data.get("ext_id"),
    }
    fields = {**fields, **{k: v for k, v in origin.items() if v is not None}}
    if origin["origin_ext_id"]:
        values["ext_id"] = f"{origin['origin_site']}:{origin['origin_ext_id']}"
    try:
        entry = Entry(**values, tags=tags, fields=fields)
        check_entry(entry)
    except (TypeError, KBError) as exc:
        raise KBError(f"{where}: {exc}") from exc
    history = row.get("history") or []
    revision = data.get("revision")
    # The origin's revision number is only what its own history proves: revisions 1..n, one per step.
    if not isinstance(history, list) or [
        h.get("revision") if isinstance(h, dict) else None for h in history
    ] != list(range(1, len(history) + 1)):
        raise KBError(f"{where}: field 'history': not a run of revisions 1..n")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision != len(history):
        raise KBError(
            f"{where}: field 'revision': {revision!r}, but the history shows {len(history)} revisions; refused"
        )
    origin |= {
        "package_id_in": data["id"],
        "revision": revision,
        "content_hash": data.get("content_hash"),
        "status": data.get("status"),
        "history": history,
    }
    return entry, origin


def import_package(
    kb: KnowledgeBase, path: Path | str, *, author: str | None, allow_unsigned: bool = False
) -> dict[str, Any]:
    """Import a verified, signed transfer package idempotently, keeping provenance and recreating links.

    The manifest must be signed by a key an admin registered for its site, unless `allow_unsigned`
    (an explicit, audited choice).
    """
    if kb.actor is not None:
        kb.actor.require("transfer")
        author = kb.actor.name
    path = Path(path)
    store = kb.store

    def check_signature(site: str, manifest_bytes: bytes, signature: bytes | None) -> str | None:
        try:
            return site_keys.verify_manifest(store, site, manifest_bytes, signature)
        except KBError:
            if allow_unsigned:
                return None
            raise

    manifest, package = open_package(path, check_signature)
    try:
        signed_by = _signed_key(store, manifest, package)
        drafts = [_draft(row, manifest, number, path) for number, row in package.lines(ENTRIES)]
        link_rows = list(package.lines(LINKS))
        parts = {
            n: package.read(n, MAX_REFERENCE_BYTES)
            for n in manifest["parts"]
            if n.startswith("templates/") or n.startswith("vocabulary")
        }
    finally:
        package.close()
    local_site, local_kb = kb_identity(kb)
    package_ids = {origin["package_id_in"] for _, origin in drafts}
    for number, row in link_rows:
        if row.get("relation") not in LINK_RELATIONS:
            raise KBError(f"package {path}: {LINKS} line {number}: unknown relation '{row.get('relation')}'")
        if row.get("source") not in package_ids or row.get("target") not in package_ids:
            raise KBError(f"package {path}: {LINKS} line {number}: links an entry that is not in the package")
    reason = f"transfer package {manifest['package_id']} from {manifest['site']}"

    # Plan outside the write lock (encoding is slow); the plan is re-checked inside the transaction.
    known = store.known_origins()
    new: list[tuple[Entry, dict[str, Any]]] = []
    changed: list[tuple[str, Entry, dict[str, Any]]] = []
    for entry, origin in drafts:
        if origin["origin_kb"] == local_kb:
            continue
        local_id = known.get((origin["origin_site"], origin["origin_id"]))
        if local_id is None:
            new.append((entry, origin))
        elif store.get(local_id).content_hash != entry.compute_hash():
            changed.append((local_id, entry, origin))
    vectors = kb.embedder.encode([e.search_text() for e, _ in new] + [e.search_text() for _, e, _ in changed])
    fingerprint = kb.embedder.fingerprint

    outcome: Counter[str] = Counter()
    now = utc_now()
    with kb.lock, store.transaction():
        known = store.known_origins()
        id_map: dict[str, str] = {}
        pairs: list[tuple[Entry, Any]] = []
        to_insert: list[tuple[Entry, dict[str, Any], Any]] = []
        vector_of = {id(e): v for (e, _), v in zip(new, vectors[: len(new)], strict=True)}
        vector_of |= {id(e): v for (_, e, _), v in zip(changed, vectors[len(new) :], strict=True)}
        for entry, origin in drafts:
            if origin["origin_kb"] == local_kb:
                mine = origin["origin_id"]
                try:
                    id_map[origin["package_id_in"]] = store.get(mine).id
                    outcome["own"] += 1
                except KBError:
                    outcome["own_missing"] += 1
                continue
            local_id = known.get((origin["origin_site"], origin["origin_id"]))
            if local_id is None:
                if id(entry) not in vector_of:  # appeared between plan and lock: encode now
                    vector_of[id(entry)] = kb.embedder.encode([entry.search_text()])[0]
                to_insert.append((entry, origin, vector_of[id(entry)]))
                continue
            id_map[origin["package_id_in"]] = local_id
            local = store.get(local_id)
            if local.content_hash == entry.compute_hash():
                outcome["unchanged"] += 1
                continue
            if local.status != "active":
                outcome["retired_here"] += 1
                continue
            seen = store.highest_origin_revision(origin["origin_site"], origin["origin_id"])
            if seen is not None and origin["revision"] is not None and int(origin["revision"]) <= int(seen):
                outcome["kept_local_edit"] += 1
                continue
            changes = {
                k: getattr(entry, k)
                for k in (*TEXT_FIELDS, "tags", "fields")
                if k != "author" and getattr(entry, k) != getattr(local, k)
            }
            updated = store.update(
                local_id,
                changes,
                author=author,
                reason=f"{reason}: changed at origin (revision {origin['revision']})",
            )
            vector = vector_of.get(id(entry))
            pairs.append(
                (updated, vector if vector is not None else kb.embedder.encode([updated.search_text()])[0])
            )
            _provenance(store, local_id, origin, manifest, now, author)
            outcome["updated"] += 1
        stored = store.insert([e for e, _, _ in to_insert], author=author, reason=reason)
        for entry, (_, origin, vector) in zip(stored, to_insert, strict=True):
            id_map[origin["package_id_in"]] = entry.id
            pairs.append((entry, vector))
            _provenance(store, entry.id, origin, manifest, now, author)
        outcome["added"] += len(stored)
        store.put_vectors(pairs, fingerprint)
        linked = 0
        existing = store.link_keys()  # links are idempotent: count only the ones this import adds
        for _, row in link_rows:
            source, target = id_map.get(row["source"]), id_map.get(row["target"])
            if source is None or target is None or source == target:
                outcome["links_skipped"] += 1
                continue
            store.add_link(Link(source, row["relation"], target, author=author, note=row.get("note")))
            key = (source, row["relation"], target)
            linked += int(key not in existing)
            existing.add(key)
        store.record_event(
            author,
            "transfer_import",
            None,
            {
                "package_id": manifest["package_id"],
                "from_site": manifest["site"],
                "from_kb": manifest["kb_id"],
                "process": manifest.get("process"),
                "step": manifest.get("step"),
                "file": str(path),
                "added": outcome["added"],
                "updated": outcome["updated"],
                "unchanged": outcome["unchanged"],
                "links_added": linked,
                "signed_by_key": signed_by,
            },
            now,
        )
    kept = _keep_reference_parts(kb, manifest, parts)
    kb.ensure_index()
    return {
        "file": str(path),
        "package_id": manifest["package_id"],
        "from_site": manifest["site"],
        "to_site": local_site,
        "process": manifest.get("process"),
        "step": manifest.get("step"),
        "entries": len(drafts),
        "added": outcome["added"],
        "updated": outcome["updated"],
        "unchanged": outcome["unchanged"],
        "kept_local_edit": outcome["kept_local_edit"],
        "retired_here": outcome["retired_here"],
        "own_records": outcome["own"],
        "links_added": linked,
        "same_model": manifest.get("model", {}).get("fingerprint") in (None, fingerprint),
        "reference_files": kept,
    }


def _signed_key(store: Store, manifest: dict[str, Any], package: Package) -> str | None:
    """Return the key id that signed the manifest (None for an unsigned package let in explicitly)."""
    if SIGNATURE_PART not in package.sizes:
        return None
    try:
        return site_keys.verify_manifest(
            store,
            manifest["site"],
            package.read(MANIFEST, MAX_MANIFEST_BYTES),
            package.read(SIGNATURE_PART, 4096),
        )
    except KBError:
        return None


def _provenance(
    store: Store,
    entry_id: str,
    origin: dict[str, Any],
    manifest: dict[str, Any],
    now: str,
    author: str | None,
) -> None:
    store.put_provenance(entry_id, origin, manifest["package_id"], now, author)


def _keep_reference_parts(kb: KnowledgeBase, manifest: dict[str, Any], parts: dict[str, bytes]) -> str | None:
    """Save the package's templates and vocabulary for review (they are not activated)."""
    reference = {n: d for n, d in parts.items() if n.startswith("templates/") or n.startswith("vocabulary")}
    if not reference:
        return None
    root = (kb.home / "transfers").resolve()
    folder = (root / manifest["package_id"]).resolve()
    if folder.parent != root:  # the id shape was checked; this guards the path itself
        raise KBError(f"package id {manifest['package_id']!r} points outside {root}; refused")
    for name, data in reference.items():
        target = (folder / name).resolve()
        if not target.is_relative_to(folder):
            raise KBError(f"package part '{name}' points outside {folder}; refused")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return str(folder)


def origin_history(kb: KnowledgeBase, entry_id: str) -> list[dict[str, Any]]:
    """Return the revisions an imported entry had at its origin site (from the newest package)."""
    return kb.store.newest_origin_history(entry_id.upper())


def is_package(path: Path | str) -> bool:
    """Return True if a path looks like a transfer package (a zip or folder with a TacitKB manifest)."""
    path = Path(path)
    try:
        if path.is_dir():
            return (path / MANIFEST).is_file()
        if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return MANIFEST in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return False


__all__ = ["export_package", "import_package", "read_package", "is_package", "origin_history", "kb_identity"]
