"""File helpers: atomic writes and JSON meta files for the caches beside the database, file checksums."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from kb.models import KBError

Meta = TypeVar("Meta")


def atomic_write(path: Path, data: bytes, *, what: str = "index file") -> None:
    """Write bytes to a temp file, fsync it and rename it over `path`, or raise KBError saying why not."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        reason = "no space left on the disk" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise KBError(
            f"{what} {path} could not be written: {reason}; the database is unaffected and the index "
            "is rebuilt from it (tacitkb reindex) once this is fixed"
        ) from exc


def file_sha256(path: Path) -> str:
    """Return the sha256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def meta_path(path: Path) -> Path:
    """Return the path of the JSON file that describes a cache file (FILE.json)."""
    return path.with_suffix(path.suffix + ".json")


def write_meta(path: Path, meta: Any, *, what: str) -> None:
    """Write a cache file's meta dataclass beside it, atomically."""
    atomic_write(meta_path(path), json.dumps(asdict(meta), indent=2).encode(), what=what)


def read_meta(path: Path, meta_type: type[Meta], *, what: str) -> Meta:
    """Return the meta of a cache file, or raise KBError if either file is missing or the meta unreadable."""
    mpath = meta_path(path)
    for p in (path, mpath):
        if not p.exists():
            raise KBError(f"{what} {p} is missing")
    try:
        return meta_type(**json.loads(mpath.read_text()))
    except (ValueError, TypeError) as exc:
        raise KBError(f"{what} {mpath} is unreadable: {exc}") from exc
