"""Roles are enforced by the KnowledgeBase itself, and writes are attributed to the acting user."""

from __future__ import annotations

import pytest

from kb.governance.roles import Actor, PermissionDenied, actions_of
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError


def test_roles_are_cumulative():
    assert "add:cue" in actions_of("operator") and "edit" not in actions_of("operator")
    assert {"edit", "link", "add:fix"} <= actions_of("engineer") and "retire" not in actions_of("engineer")
    assert {"retire", "sign", "edit"} <= actions_of("qa")
    assert "users" in actions_of("admin") and "users" not in actions_of("qa")
    with pytest.raises(KBError, match="unknown role"):
        actions_of("intern")


def test_operator_logs_cues_but_cannot_edit_or_retire(tmp_path, embedder):
    home = tmp_path / "kb"
    with KnowledgeBase(home, embedder=embedder, actor=Actor("olga", "operator")) as op:
        cue = op.add({"type": "cue", "text": "Bag felt warm at harvest", "author": "someone-else"})
        assert cue.author == "olga", "the acting user is recorded, not what the caller claims"
        with pytest.raises(PermissionDenied, match="olga \\(operator\\) may not edit"):
            op.edit(cue.id, {"text": "x"}, author="olga", reason="r")
        with pytest.raises(PermissionDenied, match="retire"):
            op.retire(cue.id, author="olga", reason="r")
        with pytest.raises(PermissionDenied, match="add fix"):
            op.add({"type": "fix", "text": "a fix"})
        assert op.store.count() == 1
    with KnowledgeBase(home, embedder=embedder, actor=Actor("quinn", "qa")) as qa:
        qa.retire("KB-000001", author=None, reason="test entry")
        assert qa.history("KB-000001")[-1].author == "quinn"
