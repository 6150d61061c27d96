"""The app shell: identity asked once per session, the model loaded once per process, errors without traces."""

from __future__ import annotations

import pytest

from kb.kb import KnowledgeBase
from kb.models import KBError
from tests.ui.conftest import assert_clean, texts
from ui import state
from ui.widgets import GENERIC_ERROR

PAGES = ("quick_log", "workshop", "search", "entry", "qa", "coverage", "import_data")


def test_identity_is_asked_once_and_kept(open_app):
    at = open_app(user=None)
    assert at.sidebar.text_input(key="user_name_input")
    at.sidebar.button[0].click().run()  # empty name
    assert "Please enter your name." in [e.value for e in at.sidebar.error]
    at.sidebar.text_input(key="user_name_input").input("Ben de Boer")
    at.sidebar.selectbox(key="user_role_input").select("QA")
    at.sidebar.button[0].click().run()
    assert at.session_state["user"] == {"name": "Ben de Boer", "role": "QA"}
    assert "Ben de Boer" in at.sidebar.markdown[0].value
    for page in ("search", "coverage", "quick_log"):
        at.switch_page(f"pages/{page}.py").run()
        assert_clean(at)
        assert not at.sidebar.text_input, "the name is asked once per session, not on every page"
    at.sidebar.button(key="change_user").click().run()
    assert at.sidebar.text_input(key="user_name_input").value == "Ben de Boer"


def test_every_page_renders_and_the_model_loads_once(open_app):
    at = open_app()
    for page in PAGES:
        at.switch_page(f"pages/{page}.py").run()
        assert_clean(at)
        assert not at.error, (page, [e.value for e in at.error])
    for _ in range(3):
        at.run()  # reruns
    open_app("search")  # another browser session
    assert state.STARTUP["model_loads"] == 1, "the model is loaded once per process, not per rerun or session"
    assert state.STARTUP["kb_opens"] >= 1
    assert state.STARTUP["model_load_s"] is not None
    assert state.get_kb() is state.get_kb(), "one KnowledgeBase per home, shared by sessions"


def test_unexpected_errors_show_a_generic_message(open_app, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(KnowledgeBase, "search", boom)
    at = open_app("search")
    at.text_input(key="s_query").input("filter blocked").run()
    assert_clean(at)
    assert [e.value for e in at.error] == [GENERIC_ERROR]
    assert "secret" not in texts(at)
    assert at.text_input(key="s_query").value == "filter blocked", "what was typed is kept"


def test_kb_errors_show_their_message(open_app, monkeypatch):
    def refuse(*args, **kwargs):
        raise KBError("argument '--since': 'x' is not a date (use YYYY-MM-DD)")

    monkeypatch.setattr(KnowledgeBase, "search", refuse)
    at = open_app("search")
    at.text_input(key="s_query").input("filter blocked").run()
    assert_clean(at)
    assert any("is not a date" in e.value for e in at.error)


@pytest.mark.parametrize("page", PAGES)
def test_pages_work_without_a_signed_in_user(open_app, page):
    at = open_app(page, user=None)
    assert_clean(at)
    assert not at.error
