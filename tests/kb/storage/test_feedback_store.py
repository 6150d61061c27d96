"""The feedback mixin of the store: judgments with query, user, time and fingerprint, each audited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.governance.audit import verify_chain
from kb.models import KBError
from kb.storage.sqlite import Store


def test_judgment_is_stored_with_its_context_and_audited(tmp_path: Path):
    store = Store(tmp_path / "kb.db")
    assert store.feedback_stamp() == (0, 0) and store.feedback_rows() == []
    vector = np.arange(4, dtype=np.float32)
    row = store.add_feedback(
        "filter choking",
        "KB-000012",
        "helped",
        user="ana",
        fingerprint="m:1:4",
        vector=vector,
        at="2026-01-01T00:00:00Z",
    )
    assert store.feedback_stamp() == (1, row["id"])
    [stored] = store.feedback_rows()
    assert (stored["query"], stored["entry_id"], stored["seq"], stored["judgment"], stored["user"]) == (
        "filter choking",
        "KB-000012",
        12,
        "helped",
        "ana",
    )
    assert stored["fingerprint"] == "m:1:4" and np.array_equal(stored["vector"], vector)
    [event] = [e for e in store.audit_events("KB-000012") if e["action"] == "feedback"]
    assert event["actor"] == "ana" and event["details"]["query"] == "filter choking"
    assert str(verify_chain(store)) == "ok"
    store.close()


def test_a_bad_judgment_leaves_nothing_behind(tmp_path: Path):
    store = Store(tmp_path / "kb.db")
    with pytest.raises(KBError, match="'judgment': 'maybe'"):
        store.add_feedback("q", "KB-000001", "maybe", user="ana", fingerprint="f", vector=None, at="t")
    assert store.feedback_stamp() == (0, 0)
    assert [e for e in store.audit_events() if e["action"] == "feedback"] == []
    store.close()
