"""The whole integrity check: the knowledge base's own (database, vectors, caches) plus the audit chain."""

from __future__ import annotations

from typing import Any

from kb.governance.audit import verify_chain
from kb.knowledge_base import KnowledgeBase


def verify_knowledge_base(kb: KnowledgeBase) -> dict[str, Any]:
    """Return KnowledgeBase.verify()'s report with the audit chain's state added and folded into 'ok'."""
    report = kb.verify()
    report["audit_chain"] = str(verify_chain(kb.store))  # 'ok', or names the edited/deleted event
    report["ok"] = report["ok"] and report["audit_chain"] == "ok"
    return report
