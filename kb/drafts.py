"""From drafts to stored entries: a dict checked into an Entry, long text cut into linked chunks, and
what a re-imported draft changes.
"""

from __future__ import annotations

from typing import Any

from kb.models import EDITABLE_FIELDS, MAX_TEXT_CHARS, Entry, KBError

CHUNK_SIZE = 2000
CHUNK_OVERLAP = 200


def entry_from_dict(data: dict[str, Any]) -> Entry:
    """Return an Entry from a dict of canonical fields (unknown keys are an error)."""
    allowed = set(Entry.__dataclass_fields__)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise KBError(f"field '{unknown[0]}': not an entry field")
    return Entry(**data)


def split_long_text(text: str) -> list[str]:
    """Return the chunks of a text over MAX_TEXT_CHARS (empty when the text fits in one entry)."""
    if len(text) <= MAX_TEXT_CHARS:
        return []
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return splitter.split_text(text)


def chunk_entry(parent: Entry, index: int, total: int, text: str) -> Entry:
    """Return a doc_chunk entry for one part of a long entry, carrying the parent's metadata."""
    return Entry(
        type="doc_chunk",
        text=text,
        title=f"{parent.title} ({index + 1}/{total})",
        ext_id=f"{parent.ext_id}#{index}" if parent.ext_id else None,
        **parent.context(),
        author=parent.author,
        tags=list(parent.tags),
        fields={"parent_id": parent.id, "parent_type": parent.type, "chunk_index": index, "n_chunks": total},
    )


def draft_changes(previous: Entry, draft: Entry) -> dict[str, Any]:
    """Return the editable fields (author aside) in which a re-imported draft differs from the stored entry."""
    return {
        k: getattr(draft, k)
        for k in EDITABLE_FIELDS
        if getattr(draft, k) != getattr(previous, k) and k != "author"
    }
