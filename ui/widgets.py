"""Small pieces every page uses: error guard, page links, hit and link rendering, styling."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from ingest.vocabulary import Vocabulary
from kb.formatting import md_escape
from kb.governance.roles import PermissionDenied
from kb.governance.users import Unaccounted, actor_for_cli, authenticate, create_user, users_exist
from kb.knowledge_base import KnowledgeBase
from kb.models import Entry, Hit, KBError, Link
from ui import state
from ui.state import author, log

# Page files, relative to ui/app.py (the main script), for st.switch_page.
PAGES: dict[str, str] = {
    "quick_log": "pages/quick_log.py",
    "workshop": "pages/workshop.py",
    "search": "pages/search.py",
    "entry": "pages/entry.py",
    "qa": "pages/qa.py",
    "coverage": "pages/coverage.py",
    "import": "pages/import_data.py",
}
GENERIC_ERROR = "Something went wrong on this page. Nothing you typed was lost; the details were logged."
_FLASH = "_flash_messages"

# Relation wording from the point of view of the entry on the given side of the link.
_OUTGOING = {
    "fixed_by": "fixed by",
    "duplicate_of": "duplicate of",
    "related": "related to",
    "chunk_of": "part of",
}
_INCOMING = {
    "fixed_by": "fixes",
    "duplicate_of": "has duplicate",
    "related": "related to",
    "chunk_of": "has part",
}

TABLET_CSS = """
<style>
/* Big targets for gloved hands on a tablet */
div[data-testid="stTextInput"] input, div[data-testid="stTextArea"] textarea { font-size: 1.15rem; }
div[data-testid="stTextInput"] input { min-height: 3rem; }
div[data-testid="stSelectbox"] div[data-baseweb="select"] { font-size: 1.1rem; min-height: 3rem; }
div[data-testid="stButton"] button, div[data-testid="stFormSubmitButton"] button,
div[data-testid="stDownloadButton"] button { min-height: 3rem; font-size: 1.05rem; }
</style>
"""


def inject_css() -> None:
    """Apply the app-wide styling (large inputs and buttons)."""
    st.html(TABLET_CSS)


def guarded(render: Callable[[], None]) -> None:
    """Run a page body inside the app's sidebar; KBError messages shown plainly, other errors generically."""
    if not login_gate():  # not logged in: the login form (or the first admin's account) instead of the page
        state.mark_first_page()
        return
    sidebar_identity()
    show_flash()
    try:
        render()
    except KBError as exc:
        st.error(md_escape(error_text(exc)))
    except Exception:  # noqa: BLE001 - page-level guard: log, never show a stack trace
        log.exception("unexpected error on a page")
        st.error(GENERIC_ERROR)
    state.mark_first_page()
    sidebar_footer()


# --- permissions ----------------------------------------------------------------------------------

# How a refused action reads in a message: "your role (operator) may not retire entries".
ACTION_WORDS: dict[str, str] = {
    "retire": "retire entries",
    "restore": "restore entries",
    "edit": "edit entries",
    "link": "link entries",
    "import": "import files",
    "workshop": "run workshops",
    "sign": "sign entries",
    "cluster": "re-run the clustering",
    "users": "manage accounts",
}
_DENIED = re.compile(r"^(?P<name>.+) \((?P<role>[a-z]+)\) may not (?P<action>.+)$")


def denied_text(role: str, action: str) -> str:
    """Return the message for an action a role may not take."""
    if action.startswith("add "):
        words = f"add {action[4:].replace('_', '-')} entries"
    else:
        words = ACTION_WORDS.get(action, action)
    return f"Not allowed: your role ({role}) may not {words}. Ask an admin if you need to."


def error_text(exc: KBError) -> str:
    """Return the message to show for a KBError; a refused permission in plain words."""
    if isinstance(exc, PermissionDenied):
        match = _DENIED.match(str(exc))
        if match:
            return denied_text(match["role"], match["action"])
        return f"Not allowed: {exc}"
    return str(exc)


# --- login ----------------------------------------------------------------------------------------

_LOGIN_SECRETS = ("login_password", "first_password", "first_password_again")


def _forget_passwords() -> None:
    """Blank every password box of the login forms (called from their callbacks, after use)."""
    for key in _LOGIN_SECRETS:
        if key in st.session_state:
            st.session_state[key] = ""


def _attempt(action: Callable[[], None], error_key: str) -> None:
    """Run a login action; remember its message (never a trace) for the next render."""
    try:
        action()
        st.session_state.pop(error_key, None)
    except KBError as exc:
        st.session_state[error_key] = error_text(exc)
    except Exception:  # noqa: BLE001 - no stack traces in the browser
        log.exception("unexpected error while logging in")
        st.session_state[error_key] = GENERIC_ERROR
    finally:
        _forget_passwords()


def client_key() -> str:
    """Return who is knocking, for the per-client login limit: the browser's IP address (else the session)."""
    ip = getattr(st.context, "ip_address", None)
    if ip:
        return f"ui:{ip}"
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run_ctx = get_script_run_ctx()
    return f"ui-session:{run_ctx.session_id if run_ctx else 'unknown'}"


def _log_in() -> None:
    def action() -> None:
        name = (st.session_state.get("login_name") or "").strip()
        password = st.session_state.get("login_password") or ""
        if not name or not password:
            raise KBError("Enter your account name and password.")
        kb = state.get_kb()
        state.log_in(kb, authenticate(kb, name, password, client=client_key()))

    _attempt(action, "login_error")


def _create_first_admin() -> None:
    def action() -> None:
        kb = state.get_kb()
        name = (st.session_state.get("first_name") or "").strip()
        password = st.session_state.get("first_password") or ""
        if not name:
            raise KBError("Enter an account name for the admin.")
        if password != (st.session_state.get("first_password_again") or ""):
            raise KBError("The two passwords differ; type the same password twice.")
        create_user(kb, name, "admin", password, by=None, full_name=None)
        actor = authenticate(kb, name, password, client=client_key())
        state.log_in(kb, actor)
        flash("success", f"Account '{actor.name}' (admin) created; you are logged in.")

    _attempt(action, "first_admin_error")


def _log_out() -> None:
    via = (state.current_user() or {}).get("via")
    state.log_out()
    if via == "oidc":
        st.logout()


def _login_form() -> None:
    st.title("Log in to TacitKB")
    with st.form("login", border=True):
        st.text_input("Account name", key="login_name", autocomplete="username")
        st.text_input("Password", type="password", key="login_password", autocomplete="current-password")
        st.form_submit_button("Log in", type="primary", on_click=_log_in, key="login_submit")
    if st.session_state.get("login_error"):
        st.error(md_escape(st.session_state["login_error"]))
    st.caption("No account yet? Ask an admin to create one (`tacitkb users create`).")


def _first_admin_form() -> None:
    st.title("Create the first admin")
    st.info(
        "This knowledge base has no accounts yet. Create the first one: an admin, who then creates the "
        "other accounts and their roles (operator, engineer, qa, admin)."
    )
    with st.form("first_admin", border=True):
        st.text_input("Account name", key="first_name", help="Letters, digits, '.', '_', '@' or '-'")
        st.text_input("Password (at least 8 characters)", type="password", key="first_password")
        st.text_input("Password again", type="password", key="first_password_again")
        st.form_submit_button(
            "Create admin and log in", type="primary", on_click=_create_first_admin, key="first_submit"
        )
    if st.session_state.get("first_admin_error"):
        st.error(md_escape(st.session_state["first_admin_error"]))


def _oidc_gate() -> bool:
    """Log in with the configured identity provider; the role comes from the local account of that name."""
    user = st.user
    if not getattr(user, "is_logged_in", False):
        st.title("Log in to TacitKB")
        st.button("Log in", type="primary", on_click=st.login, key="oidc_login")
        return False
    name = str(user.get("email") or user.get("name") or "")
    actor = actor_for_cli(state.get_kb(), name)
    if actor is None or isinstance(actor, Unaccounted):
        why = actor.why if isinstance(actor, Unaccounted) else "this knowledge base has no accounts yet"
        st.error(md_escape(f"Logged in as {name}, but {why}."))
        st.button("Log out", on_click=st.logout, key="oidc_logout")
        return False
    state.log_in(state.get_kb(), actor, via="oidc")
    return True


def login_gate() -> bool:
    """Return True when this session is logged in; otherwise draw the login or first-admin form."""
    if state.current_user():
        return True
    try:
        if state.oidc_configured():
            return _oidc_gate()
        kb = state.get_kb()
        if users_exist(kb):
            _login_form()
        else:
            _first_admin_form()
    except KBError as exc:
        st.error(md_escape(error_text(exc)))
    except Exception:  # noqa: BLE001 - no stack traces in the browser
        log.exception("could not show the login form")
        st.error(GENERIC_ERROR)
    return False


def sidebar_identity() -> None:
    """Show who is logged in, in which role, and the Log out button."""
    user = state.current_user()
    if not user:
        return
    with st.sidebar:
        full = f" ({md_escape(user['full_name'])})" if user.get("full_name") else ""
        st.markdown(f"**You:** {md_escape(user['name'])}{full}  \n*{user['role']}*")
        st.button("Log out", key="log_out", on_click=_log_out)


def sidebar_footer() -> None:
    """Show where the data lives and the start-up timings."""
    with st.sidebar:
        st.divider()
        try:
            kb = state.get_kb()
        except KBError as exc:
            st.error(md_escape(f"Could not open the knowledge base: {exc}"))
            return
        except Exception:  # noqa: BLE001 - no stack traces in the browser
            log.exception("could not open the knowledge base")
            st.error(GENERIC_ERROR)
            return
        s = state.STARTUP
        st.caption(
            # On a shared database the folder holds only this server's caches: name the database instead.
            f"Knowledge base: `{getattr(kb.store, 'location', None) or kb.home}` · {kb.store.count()} active entries  \n"
            f"Model loaded once in {s['model_load_s']} s · first page {s['first_page_s']} s after start"
        )


def safe_callback(fn: Callable[..., None]) -> Callable[..., None]:
    """Wrap a widget callback so that its errors become messages shown on the next render."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except KBError as exc:
            flash("error", error_text(exc))
        except Exception:  # noqa: BLE001 - same guard as the page body
            log.exception("unexpected error in a callback")
            flash("error", GENERIC_ERROR)

    return wrapper


def flash(kind: str, message: str) -> None:
    """Queue a message (success, info, warning, error) for the next render of the page."""
    st.session_state.setdefault(_FLASH, []).append((kind, message))


def show_flash() -> None:
    """Show and clear the queued messages."""
    for kind, message in st.session_state.pop(_FLASH, []):
        getattr(st, kind)(md_escape(message))  # messages quote titles and names: always plain text


def require_author(action: str = "save", permission: str | None = None) -> str | None:
    """Return the session's account name, or show why this session may not `action` (None then).

    `permission` is the role action (e.g. "retire") the step needs; hiding or disabling a button on it
    is a courtesy only: the knowledge base checks the account's role again on the write itself.
    """
    who = author()
    if who is None:
        st.warning(f"Log in to {action}. What you typed is kept.")
        return None
    if permission and not state.can(permission):
        role = (state.current_user() or {}).get("role", "?")
        st.warning(denied_text(role, permission.replace(":", " ")))
        return None
    return who


def open_entry(entry_id: str) -> None:
    """Switch to the Entry page for one entry (stops the current run)."""
    st.session_state["entry_id"] = entry_id
    st.switch_page(PAGES["entry"], query_params={"id": entry_id})


def open_button(entry_id: str, key: str, label: str | None = None) -> None:
    """Show a button that opens an entry."""
    if st.button(label or f"Open {entry_id}", key=key):
        open_entry(entry_id)


# --- text -----------------------------------------------------------------------------------------


def snippet_markdown(snippet: str) -> str:
    """Return a search snippet as Markdown: its **highlights** kept, everything else escaped."""
    parts = (snippet or "").split("**")
    return "**".join(md_escape(p) if i % 2 == 0 else md_escape(p).strip() for i, p in enumerate(parts))


def entry_meta(entry: Entry, vocabulary: Vocabulary | None = None) -> str:
    """Return a one-line summary: type · process · step · site · date (· severity)."""
    step = entry.step
    if vocabulary is not None and entry.step:
        step = vocabulary.step_label(entry.step, entry.process)
    parts = [
        entry.type,
        entry.process,
        step,
        entry.site,
        (entry.occurred_at or "")[:10] or None,
        entry.severity,
        entry.batch,
    ]
    retired = " · RETIRED" if entry.status != "active" else ""
    return " · ".join(p for p in parts if p) + retired


# --- links ----------------------------------------------------------------------------------------


def describe_links(kb: KnowledgeBase, entry_id: str, links: Iterable[Link]) -> list[dict[str, Any]]:
    """Return the links of one entry as rows: relation (from its side), other id, title, type, site."""
    links = list(links)
    others = [lk.target if lk.source == entry_id else lk.source for lk in links]
    found = kb.store.get_many(others) if others else {}
    rows = []
    for link, other in zip(links, others, strict=True):
        outgoing = link.source == entry_id
        entry = found.get(other)
        rows.append(
            {
                "relation": (_OUTGOING if outgoing else _INCOMING).get(link.relation, link.relation),
                "code": link.relation,
                "outgoing": outgoing,
                "id": other,
                "title": entry.title if entry else "(missing)",
                "type": entry.type if entry else None,
                "site": entry.site if entry else None,
                "status": entry.status if entry else None,
            }
        )
    order = {"fixed by": 0, "fixes": 1, "duplicate of": 2, "has duplicate": 3, "related to": 4}
    return sorted(rows, key=lambda r: (order.get(r["relation"], 9), r["id"]))


def link_sentence(entry: Entry, rows: list[dict[str, Any]]) -> str:
    """Return "this looks like KB-1, fixed by KB-2" style wording for the most useful link."""
    fixes = [r for r in rows if r["relation"] == "fixed by"]
    if fixes:
        listed = ", ".join(f"{r['id']} ({md_escape(r['title'])})" for r in fixes[:3])
        return f"Looks like {entry.id}, fixed by {listed}"
    fixed = [r for r in rows if r["relation"] == "fixes"]
    if fixed:
        return f"{entry.id} is the fix for " + ", ".join(r["id"] for r in fixed[:5])
    return ""


def render_links(rows: list[dict[str, Any]], key: str, *, limit: int = 8, buttons: bool = True) -> None:
    """Show link rows; fixed-by links first, each with an Open button."""
    for i, row in enumerate(rows[:limit]):
        cols = st.columns([5, 1]) if buttons else [st.container()]
        retired = " (retired)" if row["status"] == "retired" else ""
        where = f" · {row['type']} · {row['site']}" if row["type"] else ""
        icon = ":material/build: " if row["code"] == "fixed_by" else ":material/link: "
        cols[0].markdown(
            f"{icon}{row['relation']} **{row['id']}**: {md_escape(row['title'])}{md_escape(where)}{retired}"
        )
        if buttons:
            with cols[1]:
                open_button(row["id"], key=f"{key}-link-{i}-{row['id']}", label="Open")
    if len(rows) > limit:
        st.caption(f"and {len(rows) - limit} more links")


def render_hit(
    kb: KnowledgeBase,
    hit: Hit,
    key: str,
    *,
    vocabulary: Vocabulary | None = None,
    more_like_this: Callable[[str], None] | None = None,
    compact: bool = False,
    judge: Callable[[str, bool], None] | None = None,
) -> None:
    """Show one search hit: id, title, metadata, snippet, why it matched, links and actions.

    With `judge`, two buttons let the user say the hit helped or was not relevant (judge(id, helped)).
    """
    entry = hit.entry
    rows = describe_links(kb, entry.id, hit.links)
    with st.container(border=True):
        st.markdown(f"**{entry.id}** · {md_escape(entry.title)}")
        st.caption(
            md_escape(entry_meta(entry, vocabulary) + (f" · by {entry.author}" if entry.author else ""))
        )
        if hit.snippet:
            st.markdown(snippet_markdown(hit.snippet))
        st.caption(f"Why it matched: {hit.why}")
        evidence = explain_lines(hit)
        if evidence:
            st.caption(" · ".join(md_escape(line) for line in evidence))
        sentence = link_sentence(entry, rows)
        if sentence:
            st.info(sentence)
        if not compact and rows:
            render_links(rows, key=key, limit=5)
        cols = st.columns(4 if judge is not None else 2)
        with cols[0]:
            open_button(entry.id, key=f"{key}-open", label=f"Open {entry.id}")
        if more_like_this is not None and cols[1].button("More like this", key=f"{key}-more"):
            more_like_this(entry.id)
        if judge is not None:
            if cols[2].button("This helped", key=f"{key}-helped"):
                judge(entry.id, True)
            if cols[3].button("Not relevant", key=f"{key}-not-relevant"):
                judge(entry.id, False)


def explain_lines(hit: Hit) -> list[str]:
    """Return the hit's evidence in words: matched words, semantic similarity, boosts from judgments."""
    x = hit.explain
    out = []
    if x.get("matched_words"):
        out.append("matched words: " + ", ".join(x["matched_words"]))
    if x.get("semantic_similarity") is not None:
        out.append(f"semantic similarity {x['semantic_similarity']:.2f}")
    boost = x.get("judgment_boost")
    if boost:
        because = "; ".join(f"{b['judgment']} for '{b['query']}'" for b in boost["because"])
        out.append(f"earlier judgments {boost['value']:+.2f} ({because})")
    related = x.get("related_boost")
    if related:
        because = "; ".join(f"'{q}'" for q in related["because"])
        out.append(
            f"helped together with the best match {related['best_match']} {related['value']:+.2f} (for {because})"
        )
    return out


# --- vocabulary helpers ---------------------------------------------------------------------------


def step_choices(vocabulary: Vocabulary, process: str | None) -> list[str]:
    """Return the step codes of a process (all steps when no process is chosen)."""
    if process:
        return vocabulary.steps_for(process)
    return vocabulary.codes("steps")


def label_of(vocabulary: Vocabulary, list_name: str, process: str | None = None) -> Callable[[Any], str]:
    """Return a format_func for selectboxes showing a code's label (and the code)."""

    def fmt(code: Any) -> str:
        if code in (None, ""):
            return "—"
        if list_name == "steps":
            return vocabulary.step_label(code, process)
        label = vocabulary.label(list_name, code)
        return label if label == code else f"{label} ({code})"

    return fmt
