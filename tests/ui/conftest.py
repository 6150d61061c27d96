"""AppTest helpers: a copy of the sample knowledge base per test module, the session's model shared."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kb.kb import KnowledgeBase

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
RUN_TIMEOUT = 120  # the first run of the process loads the model


@pytest.fixture(scope="module")
def ui_home(sample_kb_dir: Path, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """$TACITKB_HOME for this module: a fresh copy of the sample knowledge base; the UI uses our model."""
    from ui import state

    home = tmp_path_factory.mktemp("ui") / "kb"
    shutil.copytree(sample_kb_dir, home)
    state.set_embedder(embedder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TACITKB_HOME", str(home))
        yield home


@pytest.fixture
def open_app(ui_home: Path) -> Callable[..., AppTest]:
    """Return a factory: a new browser session (AppTest) on a page, optionally signed in."""

    def factory(
        page: str | None = None, *, user: tuple[str, str] | None = ("Ana", "operator"), **params: str
    ) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
        if user:
            at.session_state["user"] = {"name": user[0], "role": user[1]}
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
    """Remove Markdown escapes so assertions can use plain text."""
    return text.replace("\\", "")
