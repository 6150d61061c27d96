"""Reading a transfer package safely: names, sizes, the manifest and its signature first, then bounded parts.

Members are never read whole: the manifest (max 1 MiB) and its signature are checked before any part is
hashed, each part is hashed in chunks and stops once past the size the manifest declares, and JSONL parts
are read one bounded line at a time (MAX_LINE_BYTES, MAX_LINES).
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from kb.governance.site_keys import SIGNATURE_PART
from kb.models import KBError

PACKAGE_FORMAT = "tacitkb-transfer"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ENTRIES = "entries.jsonl"
LINKS = "links.jsonl"
MAX_PART_BYTES = 512 * 1024 * 1024
MAX_PACKAGE_BYTES = 1024 * 1024 * 1024
MAX_PARTS = 10_000

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
