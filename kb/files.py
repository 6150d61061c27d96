"""File helpers: atomic writes for the caches beside the database, and file checksums."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from pathlib import Path

from kb.models import KBError


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
