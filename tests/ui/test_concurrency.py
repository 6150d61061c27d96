"""Several sessions at once on the one cached KnowledgeBase: writes and reads interleave safely."""

from __future__ import annotations

import threading

from ingest.workshops import Participant, WorkshopBook
from kb.models import Entry
from ui import state


def test_sessions_write_and_search_concurrently(ui_home, check_kb):
    kb = state.open_kb(str(ui_home))
    templates, vocabulary, _ = state.catalogue()
    template = templates["acta_knowledge_audit"]
    with state.locked(kb):
        workshops = [
            WorkshopBook(kb).start(
                template, facilitator=f"f{i}", participants=[Participant("p")], process="LVV"
            )
            for i in range(3)
        ]
    before = check_kb.store.count()
    errors: list[BaseException] = []

    def session(n: int) -> None:
        try:
            for i in range(4):
                kb.add(
                    Entry(
                        type="cue",
                        text=f"session {n} cue {i}: harvest looked cloudy, filter dP rising",
                        process="LVV",
                        step="clarification",
                        site="LEI",
                    ),
                    author=f"user{n}",
                )
                kb.search("cloudy harvest and rising filter pressure", k=5)
                with state.locked(kb):
                    WorkshopBook(kb).save_draft(
                        workshops[n].id, {"expert_role": f"operator {i}"}, template, vocabulary
                    )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert check_kb.store.count() == before + 12
    assert check_kb.verify()["ok"], check_kb.verify()
    for ws in workshops:
        saved = WorkshopBook(check_kb).get(ws.id)
        assert saved.draft_revision == 4 and saved.answers["expert_role"] == "operator 3"
    hits = kb.search("session 2 cue 3 cloudy harvest", k=20)
    assert any(h.entry.text.startswith("session 2 cue 3") for h in hits), "visible to every session at once"
