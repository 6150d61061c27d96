"""AppTest helpers: a copy of the sample knowledge base per test module, the session's model shared.

The app needs a login once the knowledge base has accounts: `open_app(user=(name, role))` creates that
account (and the first admin) in the module's knowledge base and starts the session logged in as it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kb.governance import users
from kb.governance.roles import Actor
from kb.knowledge_base import KnowledgeBase
from tests.conftest import FAST_HASHER

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
RUN_TIMEOUT = 120  # the first run of the process loads the model
PASSWORD = "floor-notes-2025"  # every test account's password
ADMIN = "admin"
# The old free-text roles of the tests' users, as account roles.
ROLE_OF = {
    "operator": "operator",
    "receiving-site staff": "operator",
    "other": "operator",
    "QA": "qa",
    "workshop facilitator": "engineer",
    "MSAT / process engineer": "engineer",
}


def account_name(display: str) -> str:
    """Return the account name for a person's name ("Ana de Wit" -> "Ana.de.Wit")."""
    return ".".join(display.split())


def ensure_account(
    home: Path, name: str, role: str, password: str = PASSWORD, full_name: str | None = None
) -> str:
    """Create an account (and the first admin, if none exists) in the knowledge base at `home`."""
    base = KnowledgeBase(home)
    try:
        if not users.users_exist(base):
            users.create_user(base, ADMIN, "admin", password, by=None)
        if users.get_user(base, name) is None:
            users.create_user(base, name, role, password, by=Actor(ADMIN, "admin"), full_name=full_name)
    finally:
        base.close()
    return name


@pytest.fixture(scope="module")
def ui_home(sample_kb_dir: Path, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """$TACITKB_HOME for this module: a fresh copy of the sample knowledge base; the UI uses our model."""
    from ui import state

    home = tmp_path_factory.mktemp("ui") / "kb"
    shutil.copytree(sample_kb_dir, home)
    state.set_embedder(embedder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TACITKB_HOME", str(home))
        mp.setattr(users, "HASHER", FAST_HASHER)
        yield home


@pytest.fixture
def open_app(ui_home: Path) -> Callable[..., AppTest]:
    """Return a factory: a new browser session (AppTest) on a page, optionally logged in.

    `user` is (person's name, role); the account is created on first use and the session starts logged
    in as it (the login form itself is tested in test_login.py). None: a session that is not logged in.
    """

    def factory(
        page: str | None = None, *, user: tuple[str, str] | None = ("Ana", "engineer"), **params: str
    ) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
        if user:
            role = ROLE_OF.get(user[1], user[1])
            name = ensure_account(ui_home, account_name(user[0]), role, full_name=user[0])
            at.session_state["user"] = {"name": name, "role": role, "via": "password", "full_name": user[0]}
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(f"pages/{page}.py").run()
        assert_clean(at)
        return at

    return factory


@pytest.fixture
def check_kb(ui_home: Path, embedder) -> Iterator[KnowledgeBase]:
    """An independent connection to this module's knowledge base (as another process would see it)."""
    base = KnowledgeBase(ui_home, embedder=embedder)
    yield base
    base.close()


def assert_clean(at: AppTest) -> None:
    """No uncaught exception reached the page."""
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    """Return all markdown, caption, heading and alert text of the page, joined."""
    parts: list[str] = []
    for group in (
        at.title,
        at.header,
        at.subheader,
        at.markdown,
        at.caption,
        at.info,
        at.success,
        at.warning,
        at.error,
    ):
        parts.extend(str(e.value) for e in group)
    for expander in at.expander:
        parts.append(str(expander.label))
    return "\n".join(parts)


def unescape(text: str) -> str:
    """Remove Markdown escapes (and the word joiners that stop autolinks) so assertions can use plain text."""
    return text.replace("\\", "").replace("\u2060", "")
