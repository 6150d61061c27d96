"""Process-wide resources (model, knowledge base, templates) and per-session login for the UI.

The model and the knowledge base are loaded once per server process with ``st.cache_resource`` and
shared by every browser session; the KnowledgeBase serialises its own writes with an RLock. The shared
KnowledgeBase never carries a session's actor between writes: ``locked(kb)`` holds the lock around an
operation and, for exactly that long, sets ``kb.actor`` to the logged-in account of *this* session, so
every write from the UI is role-checked and attributed on the server, whatever buttons the page showed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st

from ingest.templates import Template, load_templates
from ingest.vocabulary import QueryExpander, Vocabulary, load_vocabulary
from kb.governance.roles import Actor, actions_of
from kb.governance.users import Unaccounted, actor_for_cli, get_user, users_exist
from kb.knowledge_base import KnowledgeBase, default_home
from kb.retrieval.embed import Embedder, load_embedder

log = logging.getLogger("tacitkb.ui")
if not log.handlers:  # Streamlit configures only its own loggers; ours go to stderr with a time stamp
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

# Start-up and load counters, per server process (read by docs, tests and the sidebar footer).
STARTUP: dict[str, Any] = {
    "model_loads": 0,
    "model_load_s": None,
    "kb_opens": 0,
    "kb_open_s": None,
    "first_run_s": None,
    "first_page_s": None,
}
_startup_lock = threading.Lock()
_embedder_override: Embedder | None = None


def set_embedder(embedder: Embedder | None) -> None:
    """Use an already loaded embedder instead of loading the pinned model (tests share one)."""
    global _embedder_override
    _embedder_override = embedder


def kb_home() -> Path:
    """Return the knowledge base folder: $TACITKB_HOME, else the CLI's default."""
    return default_home()


@st.cache_resource(show_spinner="Loading the language model (once per server process)…")
def load_model() -> Embedder:
    """Load (and verify) the pinned embedding model once per process."""
    start = time.perf_counter()
    embedder = _embedder_override or load_embedder()
    # The embedder loads torch and the weights lazily (CLI commands that never encode skip it); a
    # server loads them here, once, so the first search does not wait for them.
    getattr(embedder, "load", lambda: None)()
    seconds = time.perf_counter() - start
    with _startup_lock:
        STARTUP["model_loads"] += 1
        STARTUP["model_load_s"] = round(seconds, 3)
    log.info("model loaded in %.2f s (%s)", seconds, embedder.fingerprint)
    return embedder


@st.cache_resource(show_spinner="Opening the knowledge base…")
def open_kb(home: str) -> KnowledgeBase:
    """Open the knowledge base at `home` once per process, with its index loaded and checked."""
    embedder = load_model()
    start = time.perf_counter()
    # Searches expand the query with the vocabulary's synonyms (the default chosen on the labelled sets).
    kb = KnowledgeBase(home, embedder=embedder, query_expander=QueryExpander(home=home))
    kb.ensure_index()
    seconds = time.perf_counter() - start
    with _startup_lock:
        STARTUP["kb_opens"] += 1
        STARTUP["kb_open_s"] = round(seconds, 3)
    log.info("knowledge base %s opened in %.2f s", home, seconds)
    return kb


def get_kb() -> KnowledgeBase:
    """Return the shared KnowledgeBase for $TACITKB_HOME."""
    return open_kb(str(kb_home()))


def session_actor(kb: KnowledgeBase) -> Actor | None:
    """Return the Actor this session writes as: its account with the account's *current* role.

    None only while the knowledge base has no accounts at all (as the CLI); a session that is not
    logged in, or whose account was disabled, gets an actor that refuses every write.
    """
    if not users_exist(kb):
        return None
    user = current_user()
    if user is None:
        return Unaccounted("anonymous", "operator", "log in first: writes need an account")
    return actor_for_cli(kb, user["name"])


@contextmanager
def locked(kb: KnowledgeBase) -> Iterator[KnowledgeBase]:
    """Hold the knowledge base's write lock and act as this session's account until the block ends.

    Every UI write goes through here: the KnowledgeBase is shared by all sessions, so its ``actor`` is
    set only while the lock is held and restored afterwards (another session's writes wait for the lock).
    """
    with kb.lock:
        previous = kb.actor
        kb.actor = session_actor(kb)
        try:
            yield kb
        finally:
            kb.actor = previous


def require(kb: KnowledgeBase, action: str) -> None:
    """Raise PermissionDenied unless this session's account may take an action (e.g. import, workshop)."""
    actor = session_actor(kb)
    if actor is not None:
        actor.require(action)


@st.cache_resource(show_spinner=False)
def _catalogue(home: str) -> tuple[dict[str, Template], Vocabulary, list[str]]:
    vocabulary = load_vocabulary(home=home)
    templates, errors = load_templates(vocabulary=vocabulary, home=home)
    return templates, vocabulary, [str(e) for e in errors if e.fatal]


def catalogue() -> tuple[dict[str, Template], Vocabulary, list[str]]:
    """Return the templates, the vocabulary and any template problems (loaded once per home)."""
    return _catalogue(str(kb_home()))


def vocabulary() -> Vocabulary:
    """Return the controlled vocabulary."""
    return catalogue()[1]


# --- who is logged in ------------------------------------------------------------------------------


def current_user() -> dict[str, str] | None:
    """Return {"name", "role", "via", "full_name"} of this session's login, or None before logging in."""
    user = st.session_state.get("user")
    return user if user and user.get("name") else None


def set_user(name: str, role: str, via: str = "password", full_name: str | None = None) -> None:
    """Record the logged-in account of this session (never its password)."""
    st.session_state["user"] = {"name": name, "role": role, "via": via, "full_name": full_name}


def display_name() -> str:
    """Return the logged-in person's full name when the account has one, else the account name."""
    user = current_user() or {}
    return user.get("full_name") or user.get("name", "")


def log_in(kb: KnowledgeBase, actor: Actor, via: str = "password") -> None:
    """Start this session as an authenticated account."""
    account = get_user(kb, actor.name)
    set_user(actor.name, actor.role, via, account.full_name if account else None)


def log_out() -> None:
    """Forget this session's login (the next run shows the login form)."""
    st.session_state.pop("user", None)


def author() -> str | None:
    """Return the author recorded on writes (the account name), or None before logging in."""
    user = current_user()
    return user["name"] if user else None


def can(action: str) -> bool:
    """Return True when the session's role offers an action (to show or hide buttons; not a check)."""
    user = current_user()
    if user is None:
        return False
    try:
        return action in actions_of(user["role"])
    except Exception:  # noqa: BLE001 - an unknown role offers nothing
        return False


def oidc_configured() -> bool:
    """Return True when an OpenID Connect provider is configured for st.login ([auth] in secrets)."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets file, or an unreadable one: local accounts
        return False
    return bool(auth)


# --- start-up timing ------------------------------------------------------------------------------


def process_started_at() -> float | None:
    """Return the wall-clock time this server process started, if the platform tells."""
    try:
        import psutil

        return float(psutil.Process(os.getpid()).create_time())
    except Exception:  # noqa: BLE001 - psutil is optional
        pass
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        start_ticks = int(Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - uptime + start_ticks / ticks
    except (OSError, ValueError, IndexError):
        return None


def mark_first_run() -> None:
    """Record, once per process, how long after process start the first script run began."""
    if STARTUP["first_run_s"] is not None:
        return
    started = process_started_at()
    with _startup_lock:
        if STARTUP["first_run_s"] is None and started is not None:
            STARTUP["first_run_s"] = round(time.time() - started, 3)
            log.info("first script run started %.2f s after process start", STARTUP["first_run_s"])


def mark_first_page() -> None:
    """Record, once per process, how long after process start the first page was rendered."""
    if STARTUP["first_page_s"] is not None:
        return
    started = process_started_at()
    with _startup_lock:
        if STARTUP["first_page_s"] is None and started is not None:
            STARTUP["first_page_s"] = round(time.time() - started, 3)
            log.info("first page rendered %.2f s after process start", STARTUP["first_page_s"])
