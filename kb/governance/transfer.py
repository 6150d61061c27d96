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
import re
import socket
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kb.governance import site_keys
from kb.governance.site_keys import SIGNATURE_PART
from kb.models import LINK_RELATIONS, TEXT_FIELDS, Entry, KBError, Link
from kb.storage.sqlite import Store, utc_now

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

PACKAGE_FORMAT = "tacitkb-transfer"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ENTRIES = "entries.jsonl"
LINKS = "links.jsonl"
MAX_PART_BYTES = 512 * 1024 * 1024
MAX_PACKAGE_BYTES = 1024 * 1024 * 1024
MAX_PARTS = 10_000
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
    if out.exists() and (out.is_file() or any(out.iterdir())):
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


# --- reading a package ----------------------------------------------------------------------------

# The format's own package id: uuid4().hex. Anything else (a path, "..", a NUL byte) is refused.
PACKAGE_ID = re.compile(r"^[0-9a-f]{32}$")
SITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_REFERENCE_BYTES = 4 * 1024 * 1024  # one template or vocabulary file
MAX_LINE_BYTES = 4 * 1024 * 1024  # one entry with its history
MAX_LINES = 200_000  # lines of entries.jsonl or links.jsonl
_CHUNK = 1024 * 1024


def _safe_name(name: str, package: Path) -> str:
    """Return a part name if it is a plain relative path inside the package, else refuse."""
    pure = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or pure.is_absolute()
        or ".." in pure.parts
        or (pure.parts and ":" in pure.parts[0])
    ):
        raise KBError(f"package {package}: part name '{name}' is not a plain relative path; refused")
    return str(pure)


class Package:
    """An opened transfer package: its members by name, read in bounded chunks (never all at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self.sizes: dict[str, int] = {}
        self._files: dict[str, Path] = {}
        if path.is_file():
            if not zipfile.is_zipfile(path):
                raise KBError(f"package {path}: not a zip file")
            try:
                self._zip = zipfile.ZipFile(path)
                infos = [i for i in self._zip.infolist() if not i.is_dir()]
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise KBError(f"package {path}: damaged zip file ({exc})") from exc
            if len(infos) > MAX_PARTS:
                raise KBError(f"package {path}: {len(infos)} parts, more than {MAX_PARTS}")
            for info in infos:
                name = _safe_name(info.filename, path)
                if name in self.sizes:
                    raise KBError(f"package {path}: part '{name}' appears twice; refused")
                self.sizes[name] = info.file_size
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_symlink():
                    raise KBError(
                        f"package {path}: part '{file.relative_to(path)}' is a symbolic link; refused"
                    )
                if not file.is_file():
                    continue
                if len(self.sizes) >= MAX_PARTS:
                    raise KBError(f"package {path}: more than {MAX_PARTS} parts")
                name = _safe_name(file.relative_to(path).as_posix(), path)
                self.sizes[name] = file.stat().st_size
                self._files[name] = file
        else:
            raise KBError(f"package {path}: no such file or folder")
        if sum(self.sizes.values()) > MAX_PACKAGE_BYTES:
            raise KBError(f"package {path}: larger than {MAX_PACKAGE_BYTES // 2**20} MiB unpacked")

    def close(self) -> None:
        """Close the zip file."""
        if self._zip is not None:
            self._zip.close()

    def _guard(self, name: str) -> Any:
        """Open a member; turn a damaged zip into a KBError naming the part."""
        try:
            if self._zip is not None:
                return self._zip.open(name)
            return self._files[name].open("rb")
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise KBError(f"package {self.path}: part '{name}' cannot be read ({exc})") from exc

    def read(self, name: str, limit: int) -> bytes:
        """Return a whole (small) member, refusing one over `limit` bytes (counted while reading)."""
        if self.sizes[name] > limit:
            raise KBError(f"package {self.path}: part '{name}' is larger than {limit // 1024} KiB; refused")
        try:
            with self._guard(name) as fh:
                data = fh.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise KBError(f"package {self.path}: part '{name}' cannot be read ({exc})") from exc
        if len(data) > limit:
            raise KBError(f"package {self.path}: part '{name}' is larger than {limit // 1024} KiB; refused")
        return data

    def digest(self, name: str, declared: int) -> str:
        """Return the sha256 of a member, read in chunks and stopped as soon as it passes its declared size."""
        hasher, total = hashlib.sha256(), 0
        try:
            with self._guard(name) as fh:
                while chunk := fh.read(_CHUNK):
                    total += len(chunk)
                    if total > declared:
                        raise KBError(
                            f"package {self.path}: part '{name}' is larger than the manifest says; refused"
                        )
                    hasher.update(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise KBError(f"package {self.path}: part '{name}' cannot be read ({exc})") from exc
        return hasher.hexdigest()

    def lines(self, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (line number, object) of a JSONL member, one bounded line at a time."""
        where = f"package {self.path}: {name}"
        with self._guard(name) as fh:
            number = 0
            while True:
                raw = fh.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    return
                number += 1
                if number > MAX_LINES:
                    raise KBError(f"{where}: more than {MAX_LINES} lines; refused")
                if len(raw) > MAX_LINE_BYTES:
                    raise KBError(
                        f"{where} line {number}: longer than {MAX_LINE_BYTES // 2**20} MiB; refused"
                    )
                if not raw.strip():
                    continue
                yield number, _json_object(raw, f"{where} line {number}")


def _json_object(raw: bytes, where: str) -> dict[str, Any]:
    """Return one JSON object from bytes, with a clear error for bad UTF-8, bad JSON or absurd nesting."""
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise KBError(f"{where}: not UTF-8 ({exc})") from exc
    except RecursionError as exc:
        raise KBError(f"{where}: nested too deeply to be a record") from exc
    except ValueError as exc:
        raise KBError(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(row, dict):
        raise KBError(f"{where}: not a JSON object")
    return row


def open_package(
    path: Path | str, check_signature: Callable[[str, bytes, bytes | None], Any] | None = None
) -> tuple[dict[str, Any], Package]:
    """Return (manifest, opened package) after checking the manifest, its signature and every part's sha256.

    The cheap checks come first: names, sizes and the manifest (and its signature, when a checker is
    given) before any part is hashed, and no part is parsed before all of them match.
    """
    path = Path(path)
    package = Package(path)
    try:
        if MANIFEST not in package.sizes:
            raise KBError(f"package {path}: no {MANIFEST}; not a TacitKB transfer package")
        manifest_bytes = package.read(MANIFEST, MAX_MANIFEST_BYTES)
        try:
            manifest = json.loads(manifest_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise KBError(f"package {path}: {MANIFEST} is not valid JSON ({exc})") from exc
        _check_manifest(manifest, path)
        if check_signature is not None:
            signature = package.read(SIGNATURE_PART, 4096) if SIGNATURE_PART in package.sizes else None
            try:
                check_signature(manifest["site"], manifest_bytes, signature)
            except KBError as exc:
                raise KBError(f"package {path}: {exc}") from exc
        listed = manifest["parts"]
        for name in sorted(listed):
            spec = listed[name]
            if name not in package.sizes:
                raise KBError(f"package {path}: part '{name}' listed in the manifest is missing; refused")
            declared = spec.get("bytes") if isinstance(spec, dict) else None
            if not isinstance(declared, int) or declared < 0 or declared > MAX_PART_BYTES:
                raise KBError(f"package {path}: {MANIFEST} gives part '{name}' no valid size; refused")
            if package.sizes[name] != declared or package.digest(name, declared) != spec.get("sha256"):
                raise KBError(
                    f"package {path}: part '{name}' does not match the sha256 in the manifest "
                    "(changed or damaged after export); refused"
                )
        extra = sorted(set(package.sizes) - set(listed) - {MANIFEST, SIGNATURE_PART})
        if extra:
            raise KBError(f"package {path}: part '{extra[0]}' is not listed in the manifest; refused")
    except BaseException:
        package.close()
        raise
    return manifest, package


def _check_manifest(manifest: Any, path: Path) -> None:
    """Raise KBError unless a manifest has the format's shape (ids, site name, parts)."""
    if not isinstance(manifest, dict) or manifest.get("format") != PACKAGE_FORMAT:
        raise KBError(f"package {path}: {MANIFEST} is not a TacitKB transfer manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise KBError(
            f"package {path}: format version {manifest.get('format_version')} (this TacitKB reads {FORMAT_VERSION})"
        )
    listed = manifest.get("parts")
    if not isinstance(listed, dict) or ENTRIES not in listed or LINKS not in listed:
        raise KBError(f"package {path}: {MANIFEST} does not list {ENTRIES} and {LINKS}")
    for key in ("site", "kb_id", "package_id"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            raise KBError(f"package {path}: {MANIFEST} has no '{key}'")
    if not PACKAGE_ID.match(manifest["package_id"]):
        raise KBError(
            f"package {path}: {MANIFEST}: package_id {manifest['package_id']!r} is not a package id "
            "(32 hex digits); refused"
        )
    if not SITE_NAME.match(manifest["site"]):
        raise KBError(f"package {path}: {MANIFEST}: site {manifest['site']!r} is not a site name; refused")


def read_package(path: Path | str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Return (manifest, reference parts) of a package after checking every part (no signature check)."""
    manifest, package = open_package(path)
    try:
        return manifest, {
            n: package.read(n, MAX_REFERENCE_BYTES) for n in manifest["parts"] if n not in (ENTRIES, LINKS)
        }
    finally:
        package.close()


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
        Store.check_entry(entry)
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
    store.ensure_governance_schema()
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
        for _, row in link_rows:
            source, target = id_map.get(row["source"]), id_map.get(row["target"])
            if source is None or target is None or source == target:
                outcome["links_skipped"] += 1
                continue
            before = store.total_changes()
            store.add_link(Link(source, row["relation"], target, author=author, note=row.get("note")))
            linked += int(store.total_changes() > before)
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
