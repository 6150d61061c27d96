"""Site signing keys for transfer packages (Ed25519, from the `cryptography` package).

Each knowledge base has one private key, created on its first export in `site_key.pem` beside the
database with mode 0600 (only the OS account that runs TacitKB can read it). A receiving site's admin
registers the sending site's public key (`tacitkb site-key add SITE KEY`); an import then refuses a
manifest that is unsigned, signed by an unknown key, or signed by a key registered for another site.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kb.governance.roles import Actor
from kb.models import KBError, utc_now
from kb.storage.base import Store

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

KEY_FILE = "site_key.pem"
SIGNATURE_PART = "manifest.sig"


def key_id(public_key: str) -> str:
    """Return the short id of a public key (first 16 hex digits of the sha256 of its raw bytes)."""
    return hashlib.sha256(_raw_public(public_key)).hexdigest()[:16]


def _raw_public(public_key: str) -> bytes:
    try:
        raw = base64.b64decode(public_key.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KBError(f"argument 'key': not a base64 Ed25519 public key ({exc})") from exc
    if len(raw) != 32:
        raise KBError(f"argument 'key': an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return raw


def _private_key(home: Path) -> Ed25519PrivateKey:
    """Return this site's private key, creating it (mode 0600, never overwritten) on first use."""
    path = home / KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return _private_key(home)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return key
    if path.stat().st_mode & 0o077:
        raise KBError(f"{path}: the site key is readable by other users; run `chmod 600 {path}`")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KBError(f"{path}: not an Ed25519 private key")
    return key


def public_key(home: Path | str) -> str:
    """Return this site's public key as base64 (creating the key pair on first use)."""
    raw = (
        _private_key(Path(home))
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode("ascii")


def sign_manifest(home: Path | str, manifest_bytes: bytes) -> bytes:
    """Return the signature part for a manifest: JSON with the key id and the base64 Ed25519 signature."""
    import json

    key = _private_key(Path(home))
    signature = base64.b64encode(key.sign(manifest_bytes)).decode("ascii")
    return json.dumps({"key_id": key_id(public_key(home)), "signature": signature}, sort_keys=True).encode()


def register(
    kb_or_store: KnowledgeBase | Store, site: str, public: str, *, by: Actor | None
) -> dict[str, Any]:
    """Register another site's public key (an admin's step while accounts exist); audited."""
    store: Store = getattr(kb_or_store, "store", kb_or_store)
    from kb.governance.users import users_exist

    if users_exist(store):
        if by is None:
            raise KBError("only an admin may register a site key: act as an admin (--as NAME) and log in")
        by.require("transfer")
    if not site or not site.strip():
        raise KBError("argument 'site': a site name is required")
    ident = key_id(public)
    now = utc_now()
    with store.transaction():
        added = store.insert_site_key(site.strip(), ident, public.strip(), now, by.name if by else None)
        if added:
            store.record_event(
                by.name if by else None, "site_key_add", None, {"site": site.strip(), "key_id": ident}, now
            )
    return {"site": site.strip(), "key_id": ident, "added": added}


def registered(kb_or_store: KnowledgeBase | Store) -> list[dict[str, Any]]:
    """Return the registered site keys."""
    store: Store = getattr(kb_or_store, "store", kb_or_store)
    cols = ("site", "key_id", "public_key", "added_at", "added_by", "status")
    return [dict(zip(cols, row, strict=True)) for row in store.site_key_rows()]


def verify_manifest(store: Store, site: str, manifest_bytes: bytes, signature_part: bytes | None) -> str:
    """Return the key id that signed a manifest for this site, or raise KBError saying why it is refused."""
    import json

    if signature_part is None:
        raise KBError(f"the manifest is not signed ({SIGNATURE_PART} missing); refused")
    try:
        data = json.loads(signature_part.decode("utf-8"))
        ident, signature = str(data["key_id"]), base64.b64decode(data["signature"], validate=True)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise KBError(f"{SIGNATURE_PART} is not a TacitKB manifest signature ({exc}); refused") from exc
    keys = {row[1]: row for row in store.site_key_rows() if row[5] == "active"}
    if ident not in keys:
        raise KBError(
            f"the manifest is signed by key {ident}, which is not registered here; an admin registers the "
            "sending site's key with `tacitkb site-key add SITE KEY` (compare it out of band first)"
        )
    key_site, _, public, *_ = keys[ident]
    if key_site != site:
        raise KBError(f"the manifest says site '{site}' but key {ident} is registered for site '{key_site}'")
    try:
        Ed25519PublicKey.from_public_bytes(_raw_public(public)).verify(signature, manifest_bytes)
    except InvalidSignature as exc:
        raise KBError(f"the manifest signature does not verify with key {ident} (forged or changed)") from exc
    return ident
