"""Search: describe the symptom in your own words; filter; see why each hit matched and its fixes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import streamlit as st

from kb.models import ENTRY_TYPES
from kb.retrieval.search import SearchFilters
from ui import state
from ui.widgets import flash, guarded, label_of, md_escape, render_hit, step_choices


def filters_from_state() -> SearchFilters:
    """Return the search filters the user has set."""
    ss = st.session_state

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    return SearchFilters(
        types=list(ss.get("s_types") or []),
        process=ss.get("s_process"),
        step=ss.get("s_step"),
        site=ss.get("s_site"),
        since=day(ss.get("s_since")),
        until=day(ss.get("s_until")),
    )


def more_like_this(entry_id: str) -> None:
    """Show the entries nearest in meaning to one hit."""
    st.session_state["s_similar_to"] = entry_id
    st.rerun()


def judge_for(query: str) -> Callable[[str, bool], None]:
    """Return the callback of a hit's "This helped" / "Not relevant" buttons for this query."""

    def judge(entry_id: str, helped: bool) -> None:
        kb = state.get_kb()
        with state.locked(kb):
            kb.record_feedback(query, entry_id, helped=helped, user=state.author())
        verdict = "helped" if helped else "was not relevant"
        flash("success", f"Thank you: {entry_id} {verdict} for this search; similar searches will use it.")
        st.rerun()

    return judge


def _back_to_results() -> None:
    st.session_state["s_similar_to"] = None


def render_filters() -> None:
    """The filter widgets: type, process, step, site and date range."""
    vocabulary = state.vocabulary()
    with st.expander(
        "Filters", expanded=bool(filters_from_state().types or st.session_state.get("s_process"))
    ):
        c1, c2, c3, c4 = st.columns(4)
        c1.multiselect("Type", list(ENTRY_TYPES), key="s_types")
        process = c2.selectbox(
            "Process",
            vocabulary.codes("processes"),
            index=None,
            key="s_process",
            placeholder="Any",
            format_func=label_of(vocabulary, "processes"),
        )
        steps = step_choices(vocabulary, process)
        if st.session_state.get("s_step") not in (None, *steps):
            st.session_state["s_step"] = None
        c3.selectbox(
            "Step",
            steps,
            index=None,
            key="s_step",
            placeholder="Any",
            format_func=label_of(vocabulary, "steps", process),
        )
        c4.selectbox(
            "Site",
            vocabulary.codes("sites"),
            index=None,
            key="s_site",
            placeholder="Any",
            format_func=label_of(vocabulary, "sites"),
        )
        d1, d2, d3 = st.columns([2, 2, 1])
        d1.date_input("Occurred from", value=None, key="s_since", format="YYYY-MM-DD")
        d2.date_input("Occurred until", value=None, key="s_until", format="YYYY-MM-DD")
        d3.number_input("Results", min_value=1, max_value=50, value=10, key="s_k")


def render() -> None:
    """The Search page."""
    st.title("Search")
    kb = state.get_kb()
    vocabulary = state.vocabulary()
    st.text_input(
        "Describe the problem in your own words",
        key="s_query",
        placeholder="e.g. clarification filter keeps choking, snotty strings in the harvest bag",
    )
    render_filters()
    filters = filters_from_state()
    k = int(st.session_state.get("s_k") or 10)
    similar_to = st.session_state.get("s_similar_to")
    query = (st.session_state.get("s_query") or "").strip()
    if similar_to:
        source = kb.get(similar_to)
        cols = st.columns([5, 1])
        cols[0].subheader(f"More like {source.id}: {md_escape(source.title)}")
        cols[1].button("Back to results", on_click=_back_to_results, key="s_back")
        hits = kb.similar(similar_to, k=k, filters=filters)
    elif query or not filters.is_empty():
        hits = kb.search(query, k=k, filters=filters)
        problem = getattr(kb.query_expander, "problem", None)
        if problem:
            st.warning(md_escape(problem))
    else:
        st.caption(
            "Type a symptom and press Enter. Results show earlier cues, know-how, deviations and the "
            "fixes linked to them, with why each one matched."
        )
        return
    if not hits:
        st.info("No entries match. Try other words or fewer filters.")
        return
    st.caption(f"{len(hits)} results")
    for i, hit in enumerate(hits):
        render_hit(
            kb,
            hit,
            key=f"s-hit-{i}",
            vocabulary=vocabulary,
            more_like_this=more_like_this,
            judge=judge_for(query) if query and not similar_to else None,
        )


guarded(render)
