"""Workshop sessions: what one elicitation workshop captured, saved as drafts and committed as entries.

A draft is saved every time answers are written, valid or not, so nothing typed is lost and a session
can be resumed later (in another terminal or browser tab). Committing fills the template, stores the
entries through the knowledge base and records their ids on the workshop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from ingest.templates import (
    PROBES_KEY,
    FieldError,
    FieldSpec,
    Probe,
    Template,
    fill_template,
    validate_answers,
)
from ingest.vocabulary import Vocabulary
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError, NotFoundError, utc_now


@dataclass
class Participant:
    """Someone in the workshop and the role they took (expert, operator, QA, facilitator...)."""

    name: str
    role: str = "expert"


@dataclass
class Workshop:
    """One elicitation workshop: who, where, which template, the draft answers and what was committed."""

    id: str
    template_id: str
    template_version: str
    facilitator: str | None
    participants: list[Participant]
    site: str | None
    process: str | None
    step: str | None
    held_on: str | None
    status: str = "open"  # open | committed
    answers: dict[str, Any] = field(default_factory=dict)
    draft_revision: int = 0
    entry_ids: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""

    def context(self) -> dict[str, Any]:
        """Return the values every entry of this workshop inherits (site, process, step)."""
        return {k: v for k, v in {"site": self.site, "process": self.process, "step": self.step}.items() if v}

    def to_dict(self) -> dict[str, Any]:
        """Return the workshop as a JSON-ready dict."""
        return asdict(self)


def parse_participant(text: str) -> Participant:
    """Return a Participant from 'Name:role' (role defaults to expert)."""
    name, _, role = text.partition(":")
    if not name.strip():
        raise KBError(f"argument '--participant': '{text}' has no name (use NAME:ROLE)")
    return Participant(name.strip(), role.strip() or "expert")


class WorkshopBook:
    """Creates, saves, lists and commits workshops in the knowledge base's database."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.store = kb.store

    def start(
        self,
        template: Template,
        *,
        facilitator: str | None,
        participants: list[Participant],
        site: str | None = None,
        process: str | None = None,
        step: str | None = None,
        held_on: str | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> Workshop:
        """Open a new workshop for a template and return it (id WS-0001...).

        With a vocabulary, a process it does not know, or a step that is not a step of the process, is
        refused at once (not only when the draft is committed)."""
        if vocabulary is not None:
            process, step = check_process_step(vocabulary, process, step)
        if held_on:
            try:
                date.fromisoformat(held_on)
            except ValueError as exc:
                raise KBError(f"argument '--date': '{held_on}' is not a date (use YYYY-MM-DD)") from exc
        now = utc_now()
        with self.kb.store.transaction():
            seq = self.store.next_workshop_seq()
            workshop = Workshop(
                f"WS-{seq:04d}",
                template.id,
                str(template.version),
                facilitator,
                participants,
                site,
                process,
                step,
                held_on or date.today().isoformat(),
                created_at=now,
                updated_at=now,
            )
            self._write(workshop, seq)
        return workshop

    def get(self, workshop_id: str) -> Workshop:
        """Return one workshop by id."""
        row = self.store.get_workshop(workshop_id.strip().upper())
        if row is None:
            raise NotFoundError(f"no workshop with id {workshop_id}")
        row.pop("seq")
        row["participants"] = [Participant(**p) for p in row["participants"]]
        return Workshop(**row)

    def list(self, status: str | None = None) -> list[Workshop]:
        """Return workshops, newest first, optionally only open or committed ones."""
        return [self.get(workshop_id) for workshop_id in self.store.workshop_ids(status)]

    def save_draft(
        self, workshop_id: str, answers: dict[str, Any], template: Template, vocabulary: Vocabulary
    ) -> tuple[Workshop, list[FieldError]]:
        """Merge answers into the draft and save it whatever their state; return the open problems."""
        workshop = self.get(workshop_id)
        if workshop.status != "open":
            raise KBError(f"workshop {workshop.id} is already committed")
        workshop.answers = merge_answers(workshop.answers, answers)
        workshop.draft_revision += 1
        workshop.updated_at = utc_now()
        with self.kb.store.transaction():
            self._write(workshop)
        return workshop, validate_answers(template, workshop.answers, vocabulary, workshop.context())

    def commit(
        self, workshop_id: str, template: Template, vocabulary: Vocabulary, *, author: str | None
    ) -> tuple[Workshop, list[str]]:
        """Fill the template from the draft, store the entries and close the workshop."""
        workshop = self.get(workshop_id)
        if workshop.status != "open":
            raise KBError(f"workshop {workshop.id} is already committed")
        entries = fill_template(
            template, workshop.answers, vocabulary, {**workshop.context(), "author": author}
        )
        for entry in entries:
            entry.fields["workshop_id"] = workshop.id
            entry.fields["facilitator"] = workshop.facilitator
            entry.fields["participants"] = [asdict(p) for p in workshop.participants]
        with self.kb.store.transaction():
            result = self.kb.add_many(entries, author=author, reason=f"workshop {workshop.id}")
            workshop.entry_ids = [e.id for _, e in result.outcomes]
            workshop.status = "committed"
            workshop.updated_at = utc_now()
            self._write(workshop)
        return workshop, workshop.entry_ids

    def _write(self, w: Workshop, seq: int | None = None) -> None:
        seq = seq if seq is not None else int(w.id.split("-")[1])
        self.store.put_workshop(asdict(w) | {"seq": seq})


def merge_answers(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Return old answers updated by new ones; probe answers merge per probe, not wholesale."""
    merged = dict(old)
    for key, value in new.items():
        if key == "probes" and isinstance(value, dict) and isinstance(merged.get("probes"), dict):
            # A probe answered with null is withdrawn from the draft.
            probes = {**merged["probes"], **value}
            merged["probes"] = {k: v for k, v in probes.items() if v is not None}
        else:
            merged[key] = value
    return merged


# -- the probe walk-through (what the UI shows screen by screen) ----------------------------------------


@dataclass(frozen=True)
class WalkStep:
    """One screen of the walk-through: the session context, one probe, or the review."""

    kind: str  # context | probe | review
    title: str
    fields: tuple[FieldSpec, ...] = ()
    probe: Probe | None = None


def walk_steps(template: Template) -> list[WalkStep]:
    """Return the screens of a template: shared fields first, then one per probe, then review."""
    probe_filled = {name for p in template.probes for name in p.fills}
    if template.entry_per == "probe":
        shared = template.shared_fields
    else:
        shared = tuple(f for f in template.fields if f.name not in probe_filled)
    steps = [WalkStep("context", "Session" if template.probes else "Answers", shared)] if shared else []
    for probe in template.probes:
        title = probe.id.replace("_", " ").capitalize()
        steps.append(WalkStep("probe", title, tuple(template.field(n) for n in probe.fills), probe))
    steps.append(WalkStep("review", "Review and commit"))
    return steps


def draft_value(ws: Workshop, path: str) -> Any:
    """Return the saved draft answer at a path such as 'site', 'probes.noticing.cues' or 'probes.x[1].unit'."""
    if not path.startswith(f"{PROBES_KEY}."):
        value = ws.answers.get(path)
        return ws.context().get(path) if value in (None, "") else value
    _, rest = path.split(".", 1)
    probe_part, name = rest.rsplit(".", 1)
    probes = ws.answers.get(PROBES_KEY) or {}
    if "[" in probe_part:
        pid, index = probe_part[:-1].split("[")
        items = probes.get(pid) or []
        item = items[int(index)] if isinstance(items, list) and int(index) < len(items) else {}
    else:
        item = probes.get(probe_part) or {}
    return item.get(name) if isinstance(item, dict) else None


def check_process_step(
    vocabulary: Vocabulary, process: str | None, step: str | None
) -> tuple[str | None, str | None]:
    """Return the process and step codes, or raise KBError naming the argument and the known values."""
    if process:
        code = vocabulary.resolve("processes", process)
        if code is None:
            known = ", ".join(vocabulary.steps)
            raise KBError(f"argument '--process': unknown process '{process}' (known: {known})")
        process = code
    if step:
        if process is None:
            return process, step
        code = vocabulary.resolve("steps", step, process)
        if code is None or code not in vocabulary.steps_for(process):
            known = ", ".join(vocabulary.steps_for(process))
            raise KBError(f"argument '--step': '{step}' is not a step of {process} (steps: {known})")
        step = code
    return process, step
