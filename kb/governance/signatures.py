"""Electronic signatures (21 CFR Part 11 / Annex 11): signer, meaning, UTC time, bound to one record version.

Signing needs the signer's name and password again (two components, every time), and a role allowed
to sign (qa, admin). A signature stores the entry's revision and content hash at the moment of signing,
so any later edit, retirement or restore shows it as "for an earlier version". Signatures are kept in
their own table and written to the hash-chained audit trail; they are never removed.

A clustering run (`run-...`) can be signed too: its content hash covers its clusters, members and events.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kb.governance.roles import Actor
from kb.governance.users import authenticate, get_user
from kb.models import KBError, NotFoundError, utc_now
from kb.storage.base import Store

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

MEANINGS: tuple[str, ...] = ("reviewed", "approved")
INCONSISTENT = "inconsistent:"  # marks a content hash that differs from the stored column


@dataclass
class Signature:
    """One electronic signature and, when read back, whether it still holds for the current version."""

    id: int
    signer: str
    signer_role: str
    meaning: str
    at: str
    entry_id: str
    revision: int
    content_hash: str
    kind: str = "entry"
    signer_full_name: str | None = None
    comment: str | None = None
    valid: bool | None = None
    state: str = ""

    def manifestation(self) -> str:
        """Return the human-readable line Part 11 asks for: printed name, date and time, meaning."""
        who = self.signer_full_name or self.signer
        return f"{self.meaning} by {who} ({self.signer_role}) at {self.at} for {self.entry_id} revision {self.revision}"

    def to_dict(self) -> dict[str, Any]:
        """Return the signature as a JSON-ready dict."""
        return asdict(self) | {"manifestation": self.manifestation()}


def _store(kb: KnowledgeBase | Store) -> Store:
    return getattr(kb, "store", kb)


def run_content_hash(store: Store, run_id: str) -> str:
    """Return a sha256 over a stored clustering run: its parameters, clusters, members and events."""
    parts = store.cluster_run_parts(run_id)
    if parts is None:
        raise NotFoundError(f"no clustering run '{run_id}'")
    digest = hashlib.sha256()
    digest.update(json.dumps(parts, ensure_ascii=False, default=str).encode("utf-8"))
    return digest.hexdigest()


def current_version(kb: KnowledgeBase | Store, target_id: str) -> tuple[str, str, int, str, str | None, str]:
    """Return (kind, id, revision, content_hash, author, status) of an entry or clustering run now."""
    store = _store(kb)
    target = target_id.strip()
    if target.lower().startswith("run-"):
        return "cluster_run", target, 1, run_content_hash(store, target), None, "active"
    entry = store.get(target)
    # Recomputed from the content, never trusted from the stored column: a change behind the store's back
    # (of the content, or of the column) makes the version match no signature.
    content = entry.compute_hash()
    if content != entry.content_hash:
        content = f"{INCONSISTENT}{content}"
    return "entry", entry.id, entry.revision, content, entry.author, entry.status


def _wrote_any_revision(store: Store, name: str, entry_id: str, author: str | None) -> bool:
    """Return True if this person is the entry's author or wrote any of its revisions."""
    return any(_same_person(name, who) for who in [author, *store.revision_authors(entry_id)])


def _same_person(name: str, author: str | None) -> bool:
    if not author:
        return False
    # Authors may be recorded as "name" or "name (role)" (the UI's form).
    return author.strip().lower() == name.lower() or author.split(" (")[0].strip().lower() == name.lower()


def sign(
    kb: KnowledgeBase | Store,
    target_id: str,
    meaning: str,
    *,
    signer: Actor | str,
    password: str,
    comment: str | None = None,
    client: str = "local",
) -> Signature:
    """Sign an entry (or clustering run) as reviewed or approved, re-checking the signer's password."""
    if meaning not in MEANINGS:
        raise KBError(f"argument 'meaning': '{meaning}' is not one of {', '.join(MEANINGS)}")
    store = _store(kb)
    name = signer.name if isinstance(signer, Actor) else signer
    kind, ident, _, _, _, _ = current_version(store, target_id)  # fail early on an unknown id
    actor = authenticate(store, name, password, purpose=f"signature: {meaning} {ident}", client=client)
    actor.require("sign")
    account = get_user(store, actor.name)
    now = utc_now()
    with store.transaction():
        # Read the version inside the write transaction: the signature binds to exactly what is stored.
        kind, ident, revision, content_hash, author, status = current_version(store, ident)
        if status != "active":
            raise KBError(f"{ident} is {status}; restore it before signing")
        if content_hash.startswith(INCONSISTENT):
            raise KBError(f"{ident}: its content does not match its stored hash; run `tacitkb verify` first")
        if kind == "entry" and _wrote_any_revision(store, actor.name, ident, author):
            raise KBError(
                f"{actor.name} authored or edited {ident}; a second person must sign it as {meaning}"
            )
        if store.signature_exists(ident, revision, content_hash, meaning, actor.name):
            raise KBError(f"{actor.name} already signed revision {revision} of {ident} as {meaning}")
        signature_id = store.insert_signature(
            kind,
            ident,
            revision,
            content_hash,
            meaning,
            actor.name,
            actor.role,
            account.full_name if account else None,
            now,
            comment,
        )
        store.record_event(
            actor.name,
            "sign",
            ident,
            {
                "signature_id": signature_id,
                "meaning": meaning,
                "kind": kind,
                "signed_revision": revision,
                "content_hash": content_hash,
                "signer_role": actor.role,
                "comment": comment,
            },
            now,
        )
    return Signature(
        id=signature_id,
        signer=actor.name,
        signer_role=actor.role,
        meaning=meaning,
        at=now,
        entry_id=ident,
        revision=revision,
        content_hash=content_hash,
        kind=kind,
        signer_full_name=account.full_name if account else None,
        comment=comment,
        valid=True,
        state="valid for the current version",
    )


def signatures_for(kb: KnowledgeBase | Store, target_id: str) -> list[Signature]:
    """Return every signature of an entry or run, oldest first, each marked valid or for an earlier version."""
    store = _store(kb)
    kind, ident, revision, content_hash, _, status = current_version(store, target_id)
    rows = store.signature_rows(ident)
    out = []
    for row in rows:
        sig = Signature(*row)
        if sig.revision == revision and sig.content_hash == content_hash and status == "active":
            sig.valid, sig.state = True, "valid for the current version"
        elif sig.revision == revision:
            sig.valid, sig.state = False, "content changed since signing (hash mismatch)"
        else:
            sig.valid = False
            sig.state = f"for an earlier version (signed revision {sig.revision}; now revision {revision})"
        out.append(sig)
    return out
