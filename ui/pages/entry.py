"""Entry: the full record, its links, similar entries and history; edit, retire or restore with a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from kb.governance.signatures import MEANINGS, sign, signatures_for
from kb.knowledge_base import KnowledgeBase
from kb.models import ENTRY_TYPES, LINK_RELATIONS, SEVERITIES, Entry, KBError
from ui import state
from ui.state import log
from ui.widgets import (
    GENERIC_ERROR,
    client_key,
    describe_links,
    entry_meta,
    error_text,
    flash,
    guarded,
    label_of,
    md_escape,
    open_button,
    render_links,
    require_author,
)

# Fields offered in the edit form, in order; the rest (fields JSON) are changed by import or CLI.
EDIT_TEXT = ("ext_id", "equipment", "batch", "occurred_at", "scale")


def changes_from_form(entry: Entry, values: dict[str, Any]) -> dict[str, Any]:
    """Return only the fields whose form value differs from the entry (blank text means no value)."""
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name == "tags":
            new = [t.strip() for t in str(value or "").split(",") if t.strip()]
        elif name == "text":
            new = value if isinstance(value, str) else ""
        else:
            new = value.strip() if isinstance(value, str) else value
            new = new or None
        if new != getattr(entry, name):
            changes[name] = new
    return changes


def current_id() -> str | None:
    """Return the entry to show: ?id= in the URL first, then the session's last opened entry."""
    from_url = st.query_params.get("id")
    if from_url:
        st.session_state["entry_id"] = from_url
        return from_url
    return st.session_state.get("entry_id")


def _open_typed() -> None:
    ref = (st.session_state.get("e_open_ref") or "").strip()
    if ref:
        st.session_state["entry_id"] = ref
        st.query_params["id"] = ref


def render_record(kb: KnowledgeBase, entry: Entry) -> None:
    """The record itself."""
    vocabulary = state.vocabulary()
    status = " · :red[retired]" if entry.status != "active" else ""
    st.title(entry.id)
    st.subheader(md_escape(entry.title))
    st.markdown(f"{md_escape(entry_meta(entry, vocabulary))}{status}")
    st.caption(
        f"by {md_escape(entry.author or 'unknown')} · created {entry.created_at} · revision {entry.revision}"
    )
    meta = {
        "ext_id": entry.ext_id,
        "type": entry.type,
        "status": entry.status,
        "process": entry.process,
        "step": vocabulary.step_label(entry.step, entry.process) if entry.step else None,
        "site": entry.site,
        "scale": entry.scale,
        "equipment": entry.equipment,
        "batch": entry.batch,
        "occurred_at": entry.occurred_at,
        "severity": entry.severity,
        "root_cause": entry.root_cause,
        "author": entry.author,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "revision": entry.revision,
        "tags": ", ".join(entry.tags),
    }
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown(md_escape(entry.text).replace("\n", "  \n"))
        if entry.fields:
            with st.expander("Structured fields"):
                st.json(entry.fields)
    with right:
        rows = [{"field": k, "value": str(v)} for k, v in meta.items() if v not in (None, "")]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 4)


def render_links_and_similar(kb: KnowledgeBase, entry: Entry) -> None:
    """Links in both directions and the nearest entries in meaning."""
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Links")
        rows = describe_links(kb, entry.id, kb.links(entry.id))
        if rows:
            render_links(rows, key="e-links", limit=20)
        else:
            st.caption("No links yet.")
        together = kb.helped_together(entry.id)
        if together:
            # What search's learned links use: these move up when this entry is a search's best match.
            st.markdown("**Helped together with** (judged helpful for the same searches)")
            for i, (other, searches) in enumerate(together[:10]):
                cols = st.columns([5, 1])
                quoted = "; ".join(f"'{md_escape(q)}'" for q in searches[:3])
                cols[0].markdown(f"**{other.id}** {md_escape(other.title)}  \n:gray[for {quoted}]")
                with cols[1]:
                    open_button(other.id, key=f"e-together-{i}", label="Open")
    with right:
        st.subheader("Similar entries")
        if entry.status != "active":
            st.caption("Retired entries are out of search.")
            return
        for i, hit in enumerate(kb.similar(entry.id, k=5)):
            cols = st.columns([5, 1])
            cols[0].markdown(
                f"**{hit.entry.id}** {md_escape(hit.entry.title)}  \n"
                f":gray[{md_escape(entry_meta(hit.entry, state.vocabulary()))} · similarity {hit.semantic_score or 0:.2f}]"
            )
            with cols[1]:
                open_button(hit.entry.id, key=f"e-sim-{i}", label="Open")


def render_history(kb: KnowledgeBase, entry: Entry) -> None:
    """Who changed what, when and why (append-only)."""
    st.subheader("History")
    rows = []
    for rev in kb.history(entry.id):
        changed = "; ".join(
            f"{name}: {_short(c.get('old'))} → {_short(c.get('new'))}"
            for name, c in sorted(rev.changes.items())
        )
        rows.append(
            {
                "rev": rev.revision,
                "when (UTC)": rev.at,
                "action": rev.action,
                "who": rev.author,
                "why": rev.reason,
                "what changed": changed if rev.action == "edit" else ", ".join(sorted(rev.changes)),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _short(value: Any, limit: int = 60) -> str:
    text = "∅" if value in (None, "", []) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_edit(kb: KnowledgeBase, entry: Entry) -> None:
    """Edit form; a reason is required and kept in the history."""
    vocabulary = state.vocabulary()
    prefix = f"edit_{entry.id}_"
    if st.session_state.pop("e_clear_form", None) == entry.id:  # after a save: show the new revision
        for key in [k for k in st.session_state if str(k).startswith(prefix)]:
            del st.session_state[key]
    with st.form(f"edit-{entry.id}"):
        st.text_input("Title", value=entry.title, key=prefix + "title")
        st.text_area("Text", value=entry.text, height=160, key=prefix + "text")
        c1, c2, c3, c4 = st.columns(4)
        c1.selectbox(
            "Type", list(ENTRY_TYPES), index=list(ENTRY_TYPES).index(entry.type), key=prefix + "type"
        )
        _choice(
            c2,
            "Process",
            vocabulary.codes("processes"),
            entry.process,
            prefix + "process",
            label_of(vocabulary, "processes"),
        )
        steps = vocabulary.steps_for(entry.process or "") or vocabulary.codes("steps")
        _choice(c3, "Step", steps, entry.step, prefix + "step", label_of(vocabulary, "steps", entry.process))
        _choice(c4, "Site", vocabulary.codes("sites"), entry.site, prefix + "site")
        c5, c6, c7 = st.columns(3)
        _choice(c5, "Severity", list(SEVERITIES), entry.severity, prefix + "severity")
        _choice(
            c6,
            "Root cause",
            vocabulary.codes("root_causes"),
            entry.root_cause,
            prefix + "root_cause",
            label_of(vocabulary, "root_causes"),
        )
        c7.text_input("Tags (comma separated)", value=", ".join(entry.tags), key=prefix + "tags")
        cols = st.columns(3)
        for i, name in enumerate(EDIT_TEXT):
            cols[i % 3].text_input(
                name.replace("_", " ").capitalize(), value=getattr(entry, name) or "", key=prefix + name
            )
        st.text_input("Reason for the change (required)", key=prefix + "reason")
        submitted = st.form_submit_button("Save changes", type="primary")
    if not submitted:
        return
    who = require_author("edit", "edit")
    reason = (st.session_state.get(prefix + "reason") or "").strip()
    if who is None:
        return
    if not reason:
        st.error("A reason is required for every edit; nothing was changed.")
        return
    names = ("title", "text", "type", "process", "step", "site", "severity", "root_cause", "tags", *EDIT_TEXT)
    changes = changes_from_form(entry, {n: st.session_state.get(prefix + n) for n in names})
    if not changes:
        st.warning("Nothing was changed.")
        return
    try:
        with state.locked(kb):  # role-checked and attributed to this session's account
            updated = kb.edit(entry.id, changes, author=who, reason=reason)
    except KBError as exc:
        st.error(md_escape(error_text(exc)))
        return
    st.session_state["e_clear_form"] = entry.id
    flash("success", f"Saved revision {updated.revision} of {updated.id} ({', '.join(sorted(changes))}).")
    st.rerun()


def _choice(
    column: Any,
    label: str,
    options: list[str],
    current: str | None,
    key: str,
    format_func: Callable[[str], str] = str,
) -> None:
    """A select box preset to the entry's value, which stays selectable even if no longer in the list."""
    options = options if not current or current in options else [*options, current]
    column.selectbox(
        label, options, index=options.index(current) if current else None, key=key, format_func=format_func
    )


def render_status(kb: KnowledgeBase, entry: Entry) -> None:
    """Retire (or restore) with a required reason."""
    retiring = entry.status == "active"
    verb = "Retire" if retiring else "Restore"
    key = f"status_reason_{entry.id}"
    if st.session_state.pop("e_clear_status", None) == entry.id:
        st.session_state.pop(key, None)
    st.caption(
        "Retiring takes the entry out of search; it stays in the database with its history."
        if retiring
        else "Restoring brings the entry back into search."
    )
    st.text_input(f"Reason to {verb.lower()} (required)", key=key)
    if not st.button(f"{verb} {entry.id}", key=f"status_btn_{entry.id}"):
        return
    who = require_author(verb.lower(), verb.lower())
    reason = (st.session_state.get(key) or "").strip()
    if who is None:
        return
    if not reason:
        st.error(f"A reason is required to {verb.lower()} an entry; nothing was changed.")
        return
    try:
        with state.locked(kb):  # the server-side role check happens here, whatever the page showed
            if retiring:
                kb.retire(entry.id, author=who, reason=reason)
            else:
                kb.restore(entry.id, author=who, reason=reason)
    except KBError as exc:
        st.error(md_escape(error_text(exc)))
        return
    st.session_state["e_clear_status"] = entry.id
    flash("success", f"{entry.id} {'retired' if retiring else 'restored'}.")
    st.rerun()


def render_link_form(kb: KnowledgeBase, entry: Entry) -> None:
    """Link this entry to another (e.g. deviation fixed_by fix)."""
    c1, c2, c3 = st.columns([2, 2, 3])
    relation = c1.selectbox(
        "Relation", [r for r in LINK_RELATIONS if r != "chunk_of"], key=f"link_rel_{entry.id}"
    )
    target = c2.text_input("Other entry (id or ext_id)", key=f"link_target_{entry.id}")
    note = c3.text_input("Note", key=f"link_note_{entry.id}")
    if not st.button("Add link", key=f"link_btn_{entry.id}"):
        return
    who = require_author("link entries", "link")
    if who is None or not target.strip():
        if who is not None:
            st.error("Enter the id of the other entry.")
        return
    try:
        other = kb.resolve(target)
        with state.locked(kb):  # Store.add_link runs its own transaction outside the facade's lock
            kb.link(entry.id, relation, other.id, author=who, note=note or None)
    except KBError as exc:
        st.error(md_escape(error_text(exc)))
        return
    flash("success", f"Linked {entry.id} {relation} {other.id}.")
    st.rerun()


def _sign(entry_id: str) -> None:
    """Sign the entry with the session's account after re-entering the password (form callback)."""
    key = f"sig_password_{entry_id}"
    password = st.session_state.get(key) or ""
    st.session_state[key] = ""  # the password is used once and not kept in the session
    meaning = st.session_state.get(f"sig_meaning_{entry_id}") or MEANINGS[0]
    comment = (st.session_state.get(f"sig_comment_{entry_id}") or "").strip() or None
    user = state.current_user()
    if user is None:
        flash("error", "Log in to sign.")
        return
    if not password:
        flash("error", "Re-enter your password to sign; nothing was signed.")
        return
    kb = state.get_kb()
    try:
        with state.locked(kb):
            signature = sign(
                kb,
                entry_id,
                meaning,
                signer=user["name"],
                password=password,
                comment=comment,
                client=client_key(),
            )
    except KBError as exc:
        flash("error", f"Not signed: {error_text(exc)}")
        return
    except Exception:  # noqa: BLE001 - no stack traces in the browser
        log.exception("unexpected error while signing")
        flash("error", GENERIC_ERROR)
        return
    flash("success", f"Signed: {signature.manifestation()}")


def render_signatures(kb: KnowledgeBase, entry: Entry) -> None:
    """Electronic signatures of this entry, each marked valid or for an earlier version; sign (qa, admin)."""
    signatures = signatures_for(kb, entry.id)
    label = f"Signatures ({len(signatures)})"
    with st.expander(label, expanded=bool(signatures)):
        if signatures:
            for sig in signatures:
                mark = ":green[:material/verified:]" if sig.valid else ":orange[:material/history:]"
                comment = f" · {md_escape(sig.comment)}" if sig.comment else ""
                st.markdown(f"{mark} {md_escape(sig.manifestation())}{comment}  \n:gray[{sig.state}]")
        else:
            st.caption("Not signed yet.")
        if not state.can("sign"):
            return
        if entry.status != "active":
            st.caption("Retired entries cannot be signed; restore it first.")
            return
        with st.form(f"sign-{entry.id}", border=True):
            st.markdown(
                f"**Sign revision {entry.revision}** as {md_escape((state.current_user() or {}).get('name', ''))}. "
                "Your signature binds to this version; a later change shows it as for an earlier version."
            )
            c1, c2 = st.columns(2)
            c1.selectbox("Meaning", list(MEANINGS), key=f"sig_meaning_{entry.id}")
            c2.text_input(
                "Password (re-enter to sign)",
                type="password",
                key=f"sig_password_{entry.id}",
                autocomplete="current-password",
            )
            st.text_input("Comment (optional)", key=f"sig_comment_{entry.id}")
            st.form_submit_button(
                "Sign", type="primary", on_click=_sign, args=(entry.id,), key=f"sig_btn_{entry.id}"
            )


def render() -> None:
    """The Entry page."""
    kb = state.get_kb()
    st.text_input(
        "Open an entry by id or ext_id",
        key="e_open_ref",
        placeholder="KB-000123 or LEI-DEV-0041",
        on_change=_open_typed,
    )
    ref = current_id()
    if not ref:
        st.title("Entry")
        st.info("Open an entry from Search, or type its id above.")
        return
    entry = kb.resolve(ref)
    render_record(kb, entry)
    render_links_and_similar(kb, entry)
    render_history(kb, entry)
    render_signatures(kb, entry)
    # Buttons follow the role of the login; the knowledge base checks the account's role on every write.
    if state.can("edit"):
        with st.expander("Edit"):
            if entry.status == "active":
                render_edit(kb, entry)
            else:
                st.caption("Retired entries cannot be edited; restore it first.")
    if state.can("retire" if entry.status == "active" else "restore"):
        with st.expander("Retire" if entry.status == "active" else "Restore"):
            render_status(kb, entry)
    if state.can("link"):
        with st.expander("Link to another entry"):
            render_link_form(kb, entry)


guarded(render)
