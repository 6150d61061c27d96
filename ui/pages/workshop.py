"""Workshop: walk through a template's probes one by one; every change is saved as a server-side draft."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from ingest.templates import PROBES_KEY, FieldSpec, Probe, Template, TemplateValidationError, validate_answers
from ingest.workshops import WalkStep, Workshop, WorkshopBook, draft_value, parse_participant, walk_steps
from kb.models import KBError
from ui import state
from ui.widgets import flash, guarded, label_of, md_escape, open_button, require_author, safe_callback

CURRENT = "ws_current"


def _per_probe(template: Template, step: WalkStep) -> bool:
    return step.kind == "probe" and template.entry_per == "probe"


def widget_key(ws_id: str, path: str) -> str:
    """Return the session-state key of one answer widget."""
    return f"ws:{ws_id}:{path}"


def _count_key(ws_id: str, probe_id: str) -> str:
    return f"ws:{ws_id}:count:{probe_id}"


def step_paths(ws: Workshop, template: Template, step: WalkStep) -> list[tuple[str, FieldSpec]]:
    """Return (answer path, field) for every widget of a step."""
    if not _per_probe(template, step):
        return [(f.name, f) for f in step.fields]
    assert step.probe is not None
    if not step.probe.repeatable:
        return [(f"{PROBES_KEY}.{step.probe.id}.{f.name}", f) for f in step.fields]
    count = item_count(ws, step.probe)
    return [(f"{PROBES_KEY}.{step.probe.id}[{i}].{f.name}", f) for i in range(count) for f in step.fields]


def item_count(ws: Workshop, probe: Probe) -> int:
    """Return how many answers a repeatable probe shows (at least one)."""
    key = _count_key(ws.id, probe.id)
    if key not in st.session_state:
        saved = (ws.answers.get(PROBES_KEY) or {}).get(probe.id)
        st.session_state[key] = max(1, len(saved) if isinstance(saved, list) else int(bool(saved)))
    return int(st.session_state[key])


def _widget_answer(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, list):
        return value or None
    return value


def step_answers(ws: Workshop, template: Template, step: WalkStep) -> dict[str, Any]:
    """Return the answers of one step from its widgets, shaped for WorkshopBook.save_draft."""
    paths = step_paths(ws, template, step)
    values = {path: _widget_answer(st.session_state.get(widget_key(ws.id, path))) for path, _ in paths}
    if not _per_probe(template, step):
        return {path: value for path, value in values.items()}
    assert step.probe is not None
    pid = step.probe.id
    if not step.probe.repeatable:
        item = {path.rsplit(".", 1)[1]: v for path, v in values.items()}
        return {PROBES_KEY: {pid: item if any(v is not None for v in item.values()) else None}}
    items: list[dict[str, Any]] = []
    for i in range(item_count(ws, step.probe)):
        item = {f.name: values[f"{PROBES_KEY}.{pid}[{i}].{f.name}"] for f in step.fields}
        if any(v is not None for v in item.values()):
            items.append(item)
    return {PROBES_KEY: {pid: items or None}}


def _book() -> WorkshopBook:
    return WorkshopBook(state.get_kb())


def _template_of(ws: Workshop) -> Template:
    templates, _, _ = state.catalogue()
    if ws.template_id not in templates:
        raise KBError(f"workshop {ws.id} uses template '{ws.template_id}', which is not installed")
    return templates[ws.template_id]


def save_step(ws_id: str, step_index: int) -> None:
    """Save the widgets of one step into the server-side draft (valid or not)."""
    kb = state.get_kb()
    with state.locked(kb):
        state.require(kb, "workshop")
        book = WorkshopBook(kb)
        ws = book.get(ws_id)
        if ws.status != "open":
            return
        template = _template_of(ws)
        step = walk_steps(template)[step_index]
        if step.kind == "review":
            return
        book.save_draft(ws_id, step_answers(ws, template, step), template, state.vocabulary())
    st.session_state[f"ws_saved_{ws_id}"] = True


@safe_callback
def on_field_change(ws_id: str, step_index: int) -> None:
    """Save the draft whenever an answer changes."""
    save_step(ws_id, step_index)


@safe_callback
def go_to(ws_id: str, from_index: int, to_index: int) -> None:
    """Save the current step and move to another one."""
    save_step(ws_id, from_index)
    st.session_state.setdefault(f"ws_tried_{ws_id}", set()).add(from_index)
    st.session_state[f"ws_step_{ws_id}"] = to_index


@safe_callback
def add_item(ws_id: str, probe_id: str, step_index: int) -> None:
    """Show one more answer box for a repeatable probe."""
    save_step(ws_id, step_index)
    key = _count_key(ws_id, probe_id)
    st.session_state[key] = int(st.session_state.get(key, 1)) + 1


def render_field(
    ws: Workshop,
    path: str,
    spec: FieldSpec,
    step_index: int,
    process: str | None,
    errors: dict[str, str],
) -> None:
    """Draw the widget for one answer, initialised from the saved draft; a change saves the draft."""
    vocabulary = state.vocabulary()
    key = widget_key(ws.id, path)
    saved = draft_value(ws, path)
    label = spec.label + (" *" if spec.required else "") + (f" ({spec.unit})" if spec.unit else "")
    kwargs: dict[str, Any] = {
        "key": key,
        "on_change": on_field_change,
        "args": (ws.id, step_index),
        "help": spec.help or None,
    }
    if spec.kind in ("choice", "multi_choice"):
        if spec.vocabulary == "steps":
            options = (
                vocabulary.steps_for(process) if process in vocabulary.steps else vocabulary.codes("steps")
            )
        elif spec.vocabulary:
            options = vocabulary.codes(spec.vocabulary)
        else:
            options = list(spec.choices)
        fmt = label_of(vocabulary, spec.vocabulary, process) if spec.vocabulary else str
        if spec.kind == "multi_choice":
            saved_list = saved if isinstance(saved, list) else ([saved] if saved else [])
            options = options + [v for v in saved_list if v not in options]
            st.session_state.setdefault(key, saved_list)
            st.multiselect(label, options, format_func=fmt, **kwargs)
        else:
            if saved not in (None, "") and saved not in options:
                resolved = (
                    vocabulary.resolve(spec.vocabulary, str(saved), process) if spec.vocabulary else None
                )
                saved = resolved if resolved in options else saved
                if saved not in options:
                    options = [*options, saved]  # keep what was typed elsewhere, the check will flag it
            if key in st.session_state and st.session_state[key] not in (None, *options):
                st.session_state[key] = None
            st.session_state.setdefault(key, saved if saved not in ("",) else None)
            st.selectbox(label, options, index=None, format_func=fmt, placeholder="Choose", **kwargs)
    elif spec.kind == "boolean":
        shown = {True: "yes", False: "no"}.get(saved, saved) if saved is not None else None
        st.session_state.setdefault(key, shown if shown in ("yes", "no") else None)
        st.selectbox(label, ["yes", "no"], index=None, placeholder="Choose", **kwargs)
    elif spec.kind == "long_text":
        st.session_state.setdefault(key, "" if saved is None else str(saved))
        st.text_area(label, height=120, **kwargs)
    else:
        placeholder = {"date": "YYYY-MM-DD", "datetime": "YYYY-MM-DD HH:MM", "number": "a number"}.get(
            spec.kind
        )
        st.session_state.setdefault(key, "" if saved is None else str(saved))
        st.text_input(label, placeholder=placeholder, **kwargs)
    if path in errors:
        st.error(errors[path], icon=":material/warning:")


def render_step(
    ws: Workshop, template: Template, steps: list[WalkStep], index: int, problems: dict[str, str]
) -> None:
    """One screen of the walk-through with Back / Next."""
    step = steps[index]
    tried = index in st.session_state.get(f"ws_tried_{ws.id}", set())
    # Unanswered required fields are flagged once the user has moved past the step; other problems at once.
    shown = {p: m for p, m in problems.items() if tried or "required, but no answer" not in m}
    process = st.session_state.get(widget_key(ws.id, "process")) or draft_value(ws, "process")
    if step.probe is not None:
        st.info(f"**Ask:** {md_escape(' '.join(step.probe.question.split()))}")
        if step.probe.follow_ups:
            st.markdown("\n".join(f"- *Follow-up:* {md_escape(q)}" for q in step.probe.follow_ups))
    paths = step_paths(ws, template, step)
    repeat = step.probe is not None and step.probe.repeatable and _per_probe(template, step)
    current_item = None
    for path, spec in paths:
        if repeat:
            item = path.split("[", 1)[1].split("]", 1)[0]
            if item != current_item:
                current_item = item
                st.markdown(f"**Answer {int(item) + 1}**")
        render_field(ws, path, spec, index, process, shown)
    if repeat:
        assert step.probe is not None
        st.button(
            "Add another answer",
            key=f"ws-add-{ws.id}-{index}",
            on_click=add_item,
            args=(ws.id, step.probe.id, index),
        )
    other = (
        {
            p: m
            for p, m in shown.items()
            if p not in dict(paths) and p.startswith(f"{PROBES_KEY}.{step.probe.id}")
        }
        if step.probe
        else {}
    )
    for message in other.values():
        st.error(message, icon=":material/warning:")
    cols = st.columns([1, 1, 3])
    if index > 0:
        cols[0].button(
            "Back",
            key=f"ws-back-{ws.id}-{index}",
            on_click=go_to,
            args=(ws.id, index, index - 1),
            width="stretch",
        )
    cols[1].button(
        "Next",
        key=f"ws-next-{ws.id}-{index}",
        type="primary",
        on_click=go_to,
        args=(ws.id, index, index + 1),
        width="stretch",
    )
    cols[2].caption(f"Draft r{ws.draft_revision} saved on the server · updated {ws.updated_at}")


def answers_table(ws: Workshop, template: Template, steps: list[WalkStep]) -> pd.DataFrame:
    """Return every answer of the draft as rows: step, field, answer."""
    rows = []
    for step in steps:
        for path, spec in step_paths(ws, template, step) if step.kind != "review" else []:
            value = draft_value(ws, path)
            if value not in (None, "", []):
                rows.append({"step": step.title, "field": spec.label, "answer": str(value)})
    return pd.DataFrame(rows, columns=["step", "field", "answer"])


def render_review(ws: Workshop, template: Template, steps: list[WalkStep], problems: dict[str, str]) -> None:
    """Everything answered, what still blocks the commit, and the commit button."""
    table = answers_table(ws, template, steps)
    if table.empty:
        st.caption("Nothing answered yet.")
    else:
        st.dataframe(table, hide_index=True, width="stretch")
    if problems:
        st.error(f"{len(problems)} problem(s) before this workshop can be committed:")
        for path, message in problems.items():
            target = _step_of(template, steps, path)
            cols = st.columns([5, 1])
            cols[0].markdown(f"- {md_escape(message)}")
            if target is not None:
                cols[1].button(
                    "Go to",
                    key=f"ws-goto-{ws.id}-{path}",
                    on_click=go_to,
                    args=(ws.id, len(steps) - 1, target),
                )
    else:
        st.success("All answers fit the template.")
    index = len(steps) - 1
    cols = st.columns([1, 1, 3])
    cols[0].button(
        "Back", key=f"ws-back-{ws.id}-review", on_click=go_to, args=(ws.id, index, index - 1), width="stretch"
    )
    if require_author("commit", "workshop") is None:
        return
    if cols[1].button("Commit", key=f"ws-commit-{ws.id}", type="primary", width="stretch"):
        commit(ws.id)


def _step_of(template: Template, steps: list[WalkStep], path: str) -> int | None:
    for i, step in enumerate(steps):
        if step.kind == "review":
            continue
        if (
            step.probe is not None
            and _per_probe(template, step)
            and path.startswith(f"{PROBES_KEY}.{step.probe.id}")
        ):
            return i
        if path.split(".")[0] in {f.name for f in step.fields} and not path.startswith(PROBES_KEY):
            return i
    return None


def commit(ws_id: str) -> None:
    """Commit the draft as entries; on a problem keep the draft and show every message."""
    kb = state.get_kb()
    who = state.author()
    try:
        with state.locked(kb):
            state.require(kb, "workshop")
            book = WorkshopBook(kb)
            ws = book.get(ws_id)
            ws, ids = book.commit(ws_id, _template_of(ws), state.vocabulary(), author=who)
    except TemplateValidationError as exc:
        st.error(f"Not committed; the draft is kept. {len(exc.errors)} problem(s):")
        for e in exc.errors:
            st.markdown(f"- {md_escape(e.message)}")
        return
    st.session_state[CURRENT] = None
    st.query_params.pop("ws", None)
    st.session_state["ws_committed"] = {"id": ws.id, "entry_ids": ids}
    flash("success", f"{ws.id} committed: {', '.join(ids)}")
    st.rerun()


def render_workshop(ws_id: str) -> None:
    """The walk-through of one workshop."""
    ws = _book().get(ws_id)
    template = _template_of(ws)
    if ws.status != "open":
        st.success(f"{ws.id} is committed: {', '.join(ws.entry_ids)}")
        for i, entry_id in enumerate(ws.entry_ids):
            open_button(entry_id, key=f"ws-entry-{i}")
        st.button("Close", on_click=_close)
        return
    steps = walk_steps(template)
    index_key = f"ws_step_{ws.id}"
    index = min(int(st.session_state.get(index_key, 0)), len(steps) - 1)
    where = " · ".join(v for v in (ws.process, ws.step, ws.site, ws.held_on) if v)
    head = st.columns([5, 1])
    head[0].subheader(f"{ws.id}: {template.title}")
    head[0].caption(
        " · ".join(
            part
            for part in (
                where,
                f"facilitator {ws.facilitator or '-'}",
                ", ".join(f"{p.name} ({p.role})" for p in ws.participants),
            )
            if part
        )
    )
    head[1].button(
        "Close", on_click=_close, key="ws-close", help="The draft stays saved; resume it from the list."
    )
    problems = {
        e.field: e.message for e in validate_answers(template, ws.answers, state.vocabulary(), ws.context())
    }
    labels = [
        f"{i + 1}. {s.title}" + (" ✓" if _answered(ws, template, s) else "") for i, s in enumerate(steps)
    ]
    st.progress((index + 1) / len(steps), text=labels[index])
    st.selectbox(
        "Go to step",
        range(len(steps)),
        index=index,
        format_func=lambda i: labels[i],
        key=f"ws-jump-{ws.id}-{index}",
        on_change=_jump,
        args=(ws.id, index),
    )
    if steps[index].kind == "review":
        render_review(ws, template, steps, problems)
    else:
        render_step(ws, template, steps, index, problems)


def _jump(ws_id: str, index: int) -> None:
    chosen = st.session_state.get(f"ws-jump-{ws_id}-{index}")
    if chosen is not None and chosen != index:
        go_to(ws_id, index, int(chosen))


def _answered(ws: Workshop, template: Template, step: WalkStep) -> bool:
    if step.kind == "review":
        return False
    return any(draft_value(ws, path) not in (None, "", []) for path, _ in step_paths(ws, template, step))


def _close() -> None:
    st.session_state[CURRENT] = None
    st.query_params.pop("ws", None)


def _resume(ws_id: str) -> None:
    st.session_state[CURRENT] = ws_id
    st.query_params["ws"] = ws_id


def render_start() -> None:
    """Start a new workshop: template, process, step, site, people."""
    templates, vocabulary, problems = state.catalogue()
    for problem in problems:
        st.warning(f"Template problem: {problem}")
    with st.form("ws-start"):
        ids = sorted(templates, key=lambda t: templates[t].title)
        template_id = st.selectbox(
            "Template", ids, format_func=lambda t: templates[t].title, key="ws_new_template"
        )
        c1, c2, c3 = st.columns(3)
        process = c1.selectbox(
            "Process",
            vocabulary.codes("processes"),
            index=None,
            key="ws_new_process",
            format_func=label_of(vocabulary, "processes"),
        )
        c2.selectbox(
            "Step",
            vocabulary.codes("steps"),
            index=None,
            key="ws_new_step",
            format_func=lambda s: f"{vocabulary.step_label(s)} ({'/'.join(vocabulary.process_of_step(s))})",
        )
        c3.selectbox(
            "Site",
            vocabulary.codes("sites"),
            index=None,
            key="ws_new_site",
            format_func=label_of(vocabulary, "sites"),
        )
        c4, c5 = st.columns([1, 2])
        facilitator = c4.text_input("Facilitator", value=state.display_name(), key="ws_new_facilitator")
        held_on = c4.date_input("Date", value=date.today(), key="ws_new_date", format="YYYY-MM-DD")
        participants = c5.text_area(
            "Participants, one per line as Name: role",
            key="ws_new_participants",
            placeholder="J. de Vries: lead operator\nA. Chen: MSAT",
        )
        submitted = st.form_submit_button("Start workshop", type="primary")
    if template_id:
        st.caption(md_escape(templates[template_id].description))
    if not submitted:
        return
    if require_author("start a workshop", "workshop") is None:
        return
    step = st.session_state.get("ws_new_step")
    if step and process and step not in vocabulary.steps_for(process):
        st.error(f"Step '{vocabulary.step_label(step)}' is not a step of {process}.")
        return
    people = [parse_participant(line) for line in participants.splitlines() if line.strip()]
    with state.locked(state.get_kb()) as kb:
        state.require(kb, "workshop")
        ws = _book().start(
            templates[template_id],
            facilitator=facilitator.strip() or state.author(),
            participants=people,
            site=st.session_state.get("ws_new_site"),
            process=process,
            step=step,
            held_on=held_on.isoformat() if held_on else None,
        )
    _resume(ws.id)
    flash("success", f"Started {ws.id}. Every answer is saved as you go; you can close the tab and resume.")
    st.rerun()


def render_open_list() -> None:
    """Open workshops to resume (drafts survive a closed tab), and recently committed ones."""
    book = _book()
    open_ws = book.list("open")
    templates, _, _ = state.catalogue()
    if not open_ws:
        st.caption("No open workshops.")
    for w in open_ws:
        cols = st.columns([5, 1])
        title = templates[w.template_id].title if w.template_id in templates else w.template_id
        where = " · ".join(v for v in (w.process, w.step, w.site, w.held_on) if v)
        cols[0].markdown(
            f"**{w.id}** {md_escape(title)} · {md_escape(where)} · draft r{w.draft_revision} · {w.facilitator or ''}"
        )
        cols[1].button("Resume", key=f"ws-resume-{w.id}", on_click=_resume, args=(w.id,))
    done = book.list("committed")[:5]
    if done:
        st.caption("Recently committed: " + "; ".join(f"{w.id} → {', '.join(w.entry_ids[:4])}" for w in done))


def render() -> None:
    """The Workshop page."""
    st.title("Workshop")
    from_url = st.query_params.get("ws")
    if from_url and not st.session_state.get(CURRENT):
        st.session_state[CURRENT] = from_url
    current = st.session_state.get(CURRENT)
    if current:
        render_workshop(current)
        return
    st.caption(
        "Structured knowledge elicitation (ACTA, CDM, AAR, state cards): one probe at a time, saved as you go."
    )
    st.subheader("Open workshops")
    render_open_list()
    st.subheader("Start a new workshop")
    render_start()


guarded(render)
