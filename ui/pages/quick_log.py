"""Quick log: an operator notes a cue in a few big fields; similar known entries show while typing."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from ingest.state_cards import StateCard, step_state_card
from ingest.templates import fill_template, validate_answers
from kb.retrieval.search import SearchFilters
from ui import state
from ui.widgets import (
    flash,
    guarded,
    label_of,
    md_escape,
    open_button,
    render_hit,
    require_author,
    safe_callback,
    step_choices,
)

TEMPLATE_ID = "quick_cue_log"
FIELDS = ("process", "step", "site", "batch", "noticed", "action")
MIN_WORDS_FOR_SIMILAR = 3


def _key(name: str) -> str:
    return f"ql_{name}"


def answers() -> dict[str, str | None]:
    """Return what the operator has typed so far, by template field name."""
    values = {name: st.session_state.get(_key(name)) for name in FIELDS}
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}


def field_errors() -> dict[str, str]:
    """Return the validation message per field, once the operator has tried to save."""
    if not st.session_state.get("ql_tried"):
        return {}
    templates, vocabulary, _ = state.catalogue()
    problems = validate_answers(templates[TEMPLATE_ID], answers(), vocabulary)
    return {p.field: p.message for p in problems}


@safe_callback
def save_cue() -> None:
    """Validate and store the cue; keep process, step, site and batch for the next one."""
    st.session_state["ql_tried"] = True
    who = state.author()
    if who is None:
        flash("warning", "Log in first; what you typed is kept.")
        return
    templates, vocabulary, _ = state.catalogue()
    template = templates[TEMPLATE_ID]
    given = answers()
    if validate_answers(template, given, vocabulary):
        flash("error", "The cue was not saved: fix the fields marked below.")
        return
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    entry = fill_template(template, given, vocabulary, {"author": who, "occurred_at": now})[0]
    kb = state.get_kb()
    with state.locked(kb):  # role-checked and attributed to this session's account
        stored = kb.add(entry, author=who, reason="quick log")
    st.session_state["ql_last_saved"] = {"id": stored.id, "title": stored.title}
    st.session_state["ql_tried"] = False
    st.session_state[_key("noticed")] = ""
    st.session_state[_key("action")] = ""
    flash("success", f"Saved {stored.id}: {stored.title}. It is searchable now.")


def show_error(errors: dict[str, str], name: str) -> None:
    """Show the validation message of one field right under it."""
    if name in errors:
        st.error(errors[name], icon=":material/warning:")


def render_form() -> None:
    """The capture fields and the one-click save button."""
    _, vocabulary, _ = state.catalogue()
    errors = field_errors()
    processes = vocabulary.codes("processes")
    sites = vocabulary.codes("sites")
    c1, c2 = st.columns(2)
    with c1:
        process = st.selectbox(
            "Process",
            processes,
            index=None,
            key=_key("process"),
            placeholder="Choose the process",
            format_func=label_of(vocabulary, "processes"),
        )
        show_error(errors, "process")
    with c2:
        st.selectbox(
            "Site",
            sites,
            index=None,
            key=_key("site"),
            placeholder="Choose your site",
            format_func=label_of(vocabulary, "sites"),
        )
        show_error(errors, "site")
    steps = step_choices(vocabulary, process)
    if st.session_state.get(_key("step")) not in (None, *steps):
        st.session_state[_key("step")] = None  # the process changed: that step is not one of its steps
    c3, c4 = st.columns(2)
    with c3:
        st.selectbox(
            "Step",
            steps,
            index=None,
            key=_key("step"),
            placeholder="Choose the step",
            format_func=label_of(vocabulary, "steps", process),
        )
        show_error(errors, "step")
    with c4:
        st.text_input("Batch", key=_key("batch"), placeholder="e.g. LV-25-018")
        show_error(errors, "batch")
    st.text_input(
        "What you noticed",
        key=_key("noticed"),
        placeholder="What you saw, heard, smelled or measured",
        live="600ms",
        help="Similar known entries appear on the right while you type.",
    )
    show_error(errors, "noticed")
    st.text_area("What you did", key=_key("action"), height=110, placeholder="Optional")
    show_error(errors, "action")
    require_author("save", "add:cue")
    st.button("Save cue", type="primary", width="stretch", on_click=save_cue, key="ql_save")
    last = st.session_state.get("ql_last_saved")
    if last:
        cols = st.columns([4, 1])
        cols[0].caption(md_escape(f"Last saved: {last['id']} · {last['title']}"))
        with cols[1]:
            open_button(last["id"], key="ql-open-last", label="Open")


def render_similar() -> None:
    """The entries most similar to what has been typed, with the fixes linked to them."""
    _, vocabulary, _ = state.catalogue()
    given = answers()
    text = " ".join(t for t in (given["noticed"], given["action"]) if t)
    st.subheader("Similar known entries")
    if len(text.split()) < MIN_WORDS_FOR_SIMILAR:
        st.caption("Start typing what you noticed: earlier cues, deviations and their fixes show here.")
        return
    filters = SearchFilters(process=given["process"] or None)
    hits = state.get_kb().search(text, k=5, filters=filters)
    if not hits:
        st.caption("Nothing similar yet: this may be new knowledge.")
    for i, hit in enumerate(hits):
        render_hit(state.get_kb(), hit, key=f"ql-hit-{i}", vocabulary=vocabulary, compact=True)


def render_card(card: StateCard) -> None:
    """Show a step state card: conditions per state part and site, disagreements, failure patterns."""
    st.caption(md_escape(f"Sites: {', '.join(card.sites) or '-'} · {len(card.entry_ids)} entries"))
    for part, items in card.parts.items():
        st.markdown(f"**{md_escape(card.part_labels.get(part, part))}**")
        if not items:
            st.caption("(nothing captured)")
        for item in items:
            only = f" · *{item.known_by[0]} only*" if len(card.sites) > 1 and len(item.sites) == 1 else ""
            ranges = "; ".join(
                f"{site}: {md_escape(r.show())}"
                for site, site_ranges in item.sites.items()
                for r in site_ranges
            )
            st.markdown(f"- {md_escape(item.condition)}{only} — {ranges}")
    if card.disagreements:
        st.markdown("**Where the sites disagree**")
        for d in card.disagreements:
            st.warning(d.message)
    if card.failure_patterns:
        st.markdown("**Failure patterns in this step's deviations and fixes**")
        for g in card.failure_patterns:
            by_site = ", ".join(f"{s} {n}" for s, n in g.by_site.items())
            st.markdown(f"- {md_escape(g.label)}: {g.count} ({by_site})")


def render_state_card() -> None:
    """The step state card, one click away."""
    given = answers()
    if not (given["process"] and given["step"]):
        st.caption("Choose a process and step to see its state card.")
        return
    if st.toggle("Show the state card for this step", key="ql_show_card"):
        card = step_state_card(state.get_kb(), given["process"], given["step"], vocabulary=state.vocabulary())
        render_card(card)


def render() -> None:
    """The Quick log page."""
    st.title("Quick log")
    st.caption("Note a cue the moment you notice it. Two boxes to type, one button to save.")
    left, right = st.columns([3, 2], gap="large")
    with left:
        render_form()
        render_state_card()
    with right:
        render_similar()


guarded(render)
