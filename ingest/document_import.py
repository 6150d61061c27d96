"""Store a parsed document: a parent `document` entry plus `doc_chunk` entries linked to it (chunk_of)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.documents import chunk_document, document_entries, read_document
from kb.knowledge_base import KnowledgeBase
from kb.models import Link


def import_document(
    kb: KnowledgeBase,
    path: Path,
    *,
    author: str | None = None,
    process: str | None = None,
    step: str | None = None,
    site: str | None = None,
) -> dict[str, Any]:
    """Import one document idempotently: the same file adds nothing, a changed file adds revisions."""
    path = Path(path)
    doc = read_document(path)
    parent, chunks = document_entries(
        doc, chunk_document(doc), author=author, process=process, step=step, site=site
    )
    for chunk in chunks:
        # The file hash lives on the parent; on chunks it would turn every unchanged chunk into a revision.
        chunk.fields.pop("sha256", None)
    previous = kb.store.find_by_ext_id(parent.ext_id) if parent.ext_id else None
    if previous is not None and previous.status == "active" and previous.fields.get("sha256") == doc.sha256:
        return {
            "file": str(path),
            "id": previous.id,
            "added": 0,
            "updated": 0,
            "duplicates": 1 + len(chunks),
            "retired": 0,
            "chunks": len(chunks),
        }
    reason = f"import of {path.name}"
    with kb.store.transaction():
        result = kb.add_many([parent, *chunks], author=author, reason=reason)
        parent_entry = result.outcomes[0][1]
        for kind, chunk in result.outcomes[1:]:
            if kind != "duplicate" or chunk.id:
                kb.store.add_link(Link(chunk.id, "chunk_of", parent_entry.id, author=author))
        retired = 0
        if previous is not None:
            # A shorter new version leaves old trailing chunks behind: retire them, with the reason.
            n_old = int(previous.fields.get("n_chunks") or 0)
            for index in range(len(chunks), n_old):
                old = kb.store.find_by_ext_id(f"{parent.ext_id}#{index}")
                if old is not None and old.status == "active":
                    kb.retire(old.id, author=author, reason=f"not in the new version of {path.name}")
                    retired += 1
    counts = result.summary()
    return {"file": str(path), "id": parent_entry.id, **counts, "retired": retired, "chunks": len(chunks)}
