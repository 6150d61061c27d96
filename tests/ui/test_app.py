"""The app shell: identity asked once per session, the model loaded once per process, errors without traces."""

from __future__ import annotations

import pytest

from kb.knowledge_base import KnowledgeBase
from kb.models import KBError
from tests.ui.conftest import PASSWORD, assert_clean, ensure_account, texts, unescape
from ui import state
from ui.widgets import GENERIC_ERROR

PAGES = ("quick_log", "workshop", "search", "entry", "qa", "coverage", "import_data")


def test_login_is_asked_once_and_kept(open_app, ui_home):
    ensure_account(ui_home, "Ben.de.Boer", "qa", full_name="Ben de Boer")
    at = open_app(user=None)
    assert at.title[0].value == "Log in to TacitKB"
    assert not at.sidebar.button, "no page and no sidebar before logging in"
    at.button(key="login_submit").click().run()  # empty name
    assert "Enter your account name and password." in [unescape(e.value) for e in at.error]
    at.text_input(key="login_name").input("Ben.de.Boer")
    at.text_input(key="login_password").input(PASSWORD)
    at.button(key="login_submit").click().run()
    assert_clean(at)
    assert at.session_state["user"] == {
        "name": "Ben.de.Boer",
        "role": "qa",
        "via": "password",
        "full_name": "Ben de Boer",
    }
    assert "Ben de Boer" in unescape(at.sidebar.markdown[0].value) and "qa" in at.sidebar.markdown[0].value
    assert PASSWORD not in [str(at.session_state[k]) for k in at.session_state], "the password is not kept"
    for page in ("search", "coverage", "quick_log"):
        at.switch_page(f"pages/{page}.py").run()
        assert_clean(at)
        assert "login_name" not in [getattr(t, "key", None) for t in at.text_input], "asked once per session"
        assert at.sidebar.button(key="log_out")
    at.sidebar.button(key="log_out").click().run()
    assert "user" not in at.session_state
    assert at.title[0].value == "Log in to TacitKB"


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
def test_pages_need_a_login(open_app, page):
    open_app()  # an account exists in this knowledge base
    at = open_app(page, user=None)
    assert_clean(at)
    assert not at.error
    assert at.title[0].value == "Log in to TacitKB", "no page is shown before logging in"
    assert at.text_input(key="login_password")
