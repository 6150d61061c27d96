"""Documents stored as a parent entry with linked chunks; idempotent; a changed file adds revisions."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.document_import import import_document

FIXTURES = Path(__file__).parent / "fixtures"


def test_document_import_links_chunks_and_is_idempotent(kb, tmp_path):
    path = tmp_path / "sop_lvv_transfection.md"
    shutil.copy(FIXTURES / "sop_lvv_transfection.md", path)
    first = import_document(kb, path, author="ana", process="LVV", step="transfection")
    parent = kb.get(first["id"])
    assert parent.type == "document" and parent.fields["sha256"]
    chunk_ids = [x.source for x in kb.links(parent.id) if x.relation == "chunk_of"]
    assert len(chunk_ids) == first["chunks"] >= 3
    chunk = kb.get(chunk_ids[0])
    assert chunk.fields["source_file"] == path.name and chunk.process == "LVV"
    assert {"char_start", "char_end", "heading"} <= set(chunk.fields)

    again = import_document(kb, path, author="ana", process="LVV", step="transfection")
    assert again["added"] == 0 and kb.store.count() == first["added"]

    hit = kb.search("how long may PEI DNA complexes stand before adding them", k=1, filters=None)[0]
    assert hit.entry.type == "doc_chunk" and hit.entry.fields["source_file"] == path.name

    path.write_text(path.read_text().replace("15 minutes", "12 minutes"))
    changed = import_document(kb, path, author="ana", process="LVV", step="transfection")
    assert changed["added"] == 0 and changed["updated"] >= 2
    assert kb.get(parent.id).revision == 2
    assert kb.verify()["ok"]
