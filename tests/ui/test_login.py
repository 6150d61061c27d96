"""Login, the first admin, lockout, roles checked on the server, and electronic signatures in the UI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kb.governance import users
from kb.governance.signatures import signatures_for
from kb.knowledge_base import KnowledgeBase
from tests.ui.conftest import APP, PASSWORD, RUN_TIMEOUT, assert_clean, ensure_account, texts, unescape


def log_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    at.button(key="login_submit").click().run()
    assert_clean(at)
    return at


@pytest.fixture
def empty_home(sample_kb_dir: Path, ui_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A knowledge base with entries but no accounts yet (as after `tacitkb init` and an import)."""
    home = tmp_path / "kb"
    shutil.copytree(sample_kb_dir, home)
    monkeypatch.setenv("TACITKB_HOME", str(home))
    return home


def test_first_admin_is_created_then_logged_in(empty_home):
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    assert_clean(at)
    assert at.title[0].value == "Create the first admin"
    at.text_input(key="first_name").input("root.admin")
    at.text_input(key="first_password").input("long enough pw")
    at.text_input(key="first_password_again").input("long enough pX")
    at.button(key="first_submit").click().run()
    assert any("two passwords differ" in e.value for e in at.error)
    at.text_input(key="first_password").input("short")
    at.text_input(key="first_password_again").input("short")
    at.button(key="first_submit").click().run()
    assert any("at least 8 characters" in e.value for e in at.error)
    at.text_input(key="first_password").input("long enough pw")
    at.text_input(key="first_password_again").input("long enough pw")
    at.button(key="first_submit").click().run()
    assert_clean(at)
    assert at.session_state["user"]["name"] == "root.admin" and at.session_state["user"]["role"] == "admin"
    assert "long enough pw" not in [str(at.session_state[k]) for k in at.session_state]
    fresh = KnowledgeBase(empty_home)
    account = users.get_user(fresh, "root.admin")
    fresh.close()
    assert account is not None and account.role == "admin" and account.created_by is None
    assert at.sidebar.button(key="log_out"), "logged in: the pages and the Log out button are there"
    # The next session must log in: the first-admin form is gone for good.
    other = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    other.run()
    assert other.title[0].value == "Log in to TacitKB"


def test_wrong_password_and_lockout_are_messages(open_app, ui_home):
    ensure_account(ui_home, "Lena", "operator")
    at = open_app(user=None)
    log_in(at, "Lena", "not the password")
    assert [e.value for e in at.error] == ["wrong user name or password"]
    assert "user" not in at.session_state
    assert at.text_input(key="login_password").value == "", "the password box is emptied"
    log_in(at, "Nobody", "not the password")
    assert [e.value for e in at.error] == ["wrong user name or password"], "unknown names read the same"
    for _ in range(users.MAX_FAILED_ATTEMPTS - 1):
        log_in(at, "Lena", "not the password")
    assert any("is now locked until" in e.value for e in at.error)
    log_in(at, "Lena", PASSWORD)  # even the right password, while locked
    assert any("is locked until" in e.value and "ask an admin" in e.value for e in at.error)
    assert "user" not in at.session_state
    assert "Traceback" not in texts(at)


def test_login_with_the_right_password(open_app, ui_home):
    ensure_account(ui_home, "Cas.QA", "qa")
    at = log_in(open_app(user=None), "cas.qa", PASSWORD)  # names are not case sensitive
    assert at.session_state["user"] == {"name": "Cas.QA", "role": "qa", "via": "password", "full_name": None}
    assert not at.error


def test_operator_sees_no_retire_button(open_app, check_kb):
    entry = check_kb.store.find_by_ext_id("CAM-CUE-0004") or check_kb.store.find_by_ext_id("CAM-CUE-0003")
    at = open_app("entry", user=("Otto", "operator"), id=entry.id)
    at.switch_page("pages/entry.py").run()
    assert_clean(at)
    labels = [e.label for e in at.expander]
    assert "Retire" not in labels and "Edit" not in labels and "Link to another entry" not in labels
    assert not [b for b in at.button if str(b.key).startswith("status_btn_")]


def test_operator_cannot_retire_even_when_the_page_offers_it(open_app, check_kb, ui_home):
    """The page's buttons follow the session; the knowledge base checks the account's role itself."""
    entry = check_kb.store.find_by_ext_id("CAM-CUE-0003")
    at = open_app("entry", user=("Otto", "operator"), id=entry.id)
    # The session claims qa (a role changed after login, or a tampered page): the button shows...
    at.session_state["user"] = {"name": "Otto", "role": "qa", "via": "password", "full_name": "Otto"}
    at.switch_page("pages/entry.py").run()
    at.text_input(key=f"status_reason_{entry.id}").input("trying my luck")
    at.button(key=f"status_btn_{entry.id}").click().run()
    assert_clean(at)
    # ...but the write is refused on the server, with the account's real role.
    assert any("your role (operator) may not retire entries" in unescape(e.value) for e in at.error), [
        e.value for e in at.error
    ]
    assert check_kb.get(entry.id).status == "active"
    assert check_kb.get(entry.id).revision == entry.revision


def test_qa_signs_with_password_and_signatures_are_listed(open_app, check_kb):
    entry = check_kb.store.find_by_ext_id("LEI-CUE-0002")
    at = open_app("entry", user=("Sara", "QA"), id=entry.id)
    at.switch_page("pages/entry.py").run()
    assert "Not signed yet." in texts(at)
    at.selectbox(key=f"sig_meaning_{entry.id}").select("approved")
    at.text_input(key=f"sig_password_{entry.id}").input("wrong password!")
    at.button(key=f"sig_btn_{entry.id}").click().run()
    assert any("Not signed: wrong user name or password" in unescape(e.value) for e in at.error)
    assert signatures_for(check_kb, entry.id) == []
    at.selectbox(key=f"sig_meaning_{entry.id}").select("approved")
    at.text_input(key=f"sig_password_{entry.id}").input(PASSWORD)
    at.text_input(key=f"sig_comment_{entry.id}").input("checked against the batch record")
    at.button(key=f"sig_btn_{entry.id}").click().run()
    assert_clean(at)
    assert at.text_input(key=f"sig_password_{entry.id}").value == "", "the password is not kept"
    [signature] = signatures_for(check_kb, entry.id)
    assert (signature.signer, signature.meaning, signature.revision) == ("Sara", "approved", entry.revision)
    page = unescape(texts(at))
    assert "approved by Sara (qa)" in page and "valid for the current version" in page
    # An edit afterwards: the signature now reads as for an earlier version.
    check_kb.edit(entry.id, {"title": "Retitled after signing"}, author="someone", reason="test")
    at.run()
    assert "for an earlier version" in unescape(texts(at))


def test_operator_cannot_sign(open_app, check_kb):
    entry = check_kb.store.find_by_ext_id("LEI-CUE-0002")
    at = open_app("entry", user=("Otto", "operator"), id=entry.id)
    at.switch_page("pages/entry.py").run()
    assert_clean(at)
    assert not [t for t in at.text_input if str(t.key).startswith("sig_password_")]
