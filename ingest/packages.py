"""Transfer packages with the sending site's templates and vocabulary attached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.templates import SHIPPED_TEMPLATES_DIR
from ingest.vocabulary import SHIPPED_VOCABULARY
from kb.governance import transfer
from kb.knowledge_base import KnowledgeBase


def template_parts(home: Path) -> dict[str, bytes]:
    """Return the shipped and organisation templates and vocabularies as package parts by name."""
    parts: dict[str, bytes] = {}
    for label, folder in (("shipped", SHIPPED_TEMPLATES_DIR), ("org", home / "templates")):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix in (".yaml", ".yml") and path.is_file():
                    parts[f"templates/{label}/{path.name}"] = path.read_bytes()
    parts["vocabulary.yaml"] = SHIPPED_VOCABULARY.read_bytes()
    org_vocabulary = home / "vocabulary.yaml"
    if org_vocabulary.is_file():
        parts["vocabulary.org.yaml"] = org_vocabulary.read_bytes()
    return parts


def export_package(
    kb: KnowledgeBase, process: str, step: str | None = None, out: Path | str = "transfer.zip", **options: Any
) -> dict[str, Any]:
    """Write a transfer package of one process (or step) with this site's templates and vocabulary."""
    return transfer.export_package(kb, process, step, out, attachments=template_parts(kb.home), **options)
