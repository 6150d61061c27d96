"""Step state cards: what each site knows about one process step's states, side by side.

A step state card gathers, for one process step, readiness conditions, the transition and its critical
parameters, success cues, stabilisers and reversion risks. Answers to the `step_state_card` template (or
any entry tagged `state:<part>`) are grouped by condition, so the same condition named by two sites is one
item with each site's range beside the other's; where the sites differ, the card says so. The card also
counts the step's deviations and fixes per failure pattern (ingest/failure_patterns.py).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ingest.failure_patterns import FAILURE_TYPES, failure_pattern_of
from ingest.vocabulary import Vocabulary, load_vocabulary
from kb.knowledge_base import KnowledgeBase
from kb.models import Entry, KBError, SearchFilters, format_id, parse_id
from kb.retrieval.search import allowed_seqs

STATE_TAG_PREFIX = "state:"
NO_SITE = "(none)"
_UNIT_ALIASES = {
    "°c": "c",
    "degc": "c",
    "degreesc": "c",
    "celsius": "c",
    "percent": "%",
    "pct": "%",
    "minutes": "min",
    "minute": "min",
    "mins": "min",
    "hours": "h",
    "hour": "h",
    "hr": "h",
    "degrees": "degree",
    "deg": "degree",
    "°": "degree",
}


# --- the card model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One entry behind a card item or a failure-pattern count."""

    id: str
    ext_id: str | None
    title: str
    site: str
    type: str
    range_min: float | None = None
    range_max: float | None = None
    unit: str | None = None
    condition: str | None = None
    occurred_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the evidence as a JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class SiteRange:
    """One range a site gives for a condition, with the entries that state it."""

    range_min: float | None
    range_max: float | None
    unit: str | None
    entry_ids: tuple[str, ...]

    def show(self) -> str:
        """Return the range as a person would read it (>= 95 %, 1.8-2.2 x10^6 cells/mL, no range)."""
        return format_range(self.range_min, self.range_max, self.unit)

    def to_dict(self) -> dict[str, Any]:
        """Return the range as a JSON-ready dict."""
        return {
            "range_min": self.range_min,
            "range_max": self.range_max,
            "unit": self.unit,
            "shown": self.show(),
            "entry_ids": list(self.entry_ids),
        }


@dataclass
class CardItem:
    """One condition or cue of one state part, with every site's ranges and the evidence."""

    part: str
    key: str  # the normalised condition that groups entries
    condition: str  # the name as first written (lowest entry id)
    names: list[str] = field(default_factory=list)  # every distinct spelling used
    sites: dict[str, list[SiteRange]] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def known_by(self) -> list[str]:
        """Return the sites that name this condition."""
        return list(self.sites)

    def to_dict(self) -> dict[str, Any]:
        """Return the item as a JSON-ready dict."""
        return {
            "part": self.part,
            "key": self.key,
            "condition": self.condition,
            "names": list(self.names),
            "known_by": self.known_by,
            "sites": {s: [r.to_dict() for r in ranges] for s, ranges in self.sites.items()},
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class Disagreement:
    """Where sites differ: a range, a unit, or a state part one site has and another lacks."""

    kind: str  # range | unit | missing_part
    part: str
    condition: str | None
    key: str | None
    values: dict[str, list[SiteRange]]  # site -> what it says (empty list: the site has nothing)
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the disagreement as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "part": self.part,
            "condition": self.condition,
            "key": self.key,
            "values": {s: [r.to_dict() for r in ranges] for s, ranges in self.values.items()},
            "message": self.message,
        }


@dataclass
class PatternGroup:
    """The step's deviations and fixes that carry one failure pattern."""

    pattern: str
    label: str
    count: int
    by_site: dict[str, int]
    entries: list[Evidence]

    def to_dict(self) -> dict[str, Any]:
        """Return the group as a JSON-ready dict."""
        return {
            "pattern": self.pattern,
            "label": self.label,
            "count": self.count,
            "by_site": dict(self.by_site),
            "ids": [e.id for e in self.entries],
            "entries": [e.to_dict() for e in self.entries],
        }


@dataclass
class StateCard:
    """What the sites know about the states of one process step."""

    process: str
    step: str
    process_label: str
    step_label: str
    sites: list[str]
    parts: dict[str, list[CardItem]]
    part_labels: dict[str, str]
    disagreements: list[Disagreement]
    failure_patterns: list[PatternGroup]

    @property
    def items(self) -> list[CardItem]:
        """Return every item of every part, in card order."""
        return [item for items in self.parts.values() for item in items]

    @property
    def entry_ids(self) -> list[str]:
        """Return the ids of every state-card entry on the card, in id order."""
        ids = {e.id for item in self.items for e in item.evidence}
        return sorted(ids, key=parse_id)

    def to_dict(self) -> dict[str, Any]:
        """Return the card as a JSON-ready dict (the CLI's --json shape)."""
        return {
            "process": self.process,
            "step": self.step,
            "process_label": self.process_label,
            "step_label": self.step_label,
            "sites": list(self.sites),
            "parts": {
                part: {"label": self.part_labels.get(part, part), "items": [i.to_dict() for i in items]}
                for part, items in self.parts.items()
            },
            "disagreements": [d.to_dict() for d in self.disagreements],
            "failure_patterns": [g.to_dict() for g in self.failure_patterns],
            "entry_count": len(self.entry_ids),
        }

    def render_text(self) -> str:
        """Return the card as plain text for people."""
        lines = [f"State card: {self.process_label} ({self.process}) / {self.step_label} ({self.step})"]
        lines.append(f"sites: {', '.join(self.sites) or '-'}; entries: {len(self.entry_ids)}")
        for part, items in self.parts.items():
            lines.append("")
            lines.append(f"{self.part_labels.get(part, part)} [{part}]")
            if not items:
                lines.append("  (nothing captured)")
            for item in items:
                only = f"  [{item.known_by[0]} only]" if len(self.sites) > 1 and len(item.sites) == 1 else ""
                lines.append(f"  - {item.condition}{only}")
                for site, ranges in item.sites.items():
                    for r in ranges:
                        lines.append(f"      {site}: {r.show()}  ({', '.join(_labelled(item, r))})")
        lines.append("")
        lines.append(f"Disagreements ({len(self.disagreements)})")
        if not self.disagreements:
            lines.append("  none")
        for d in self.disagreements:
            lines.append(f"  ! [{d.kind}] {d.message}")
        lines.append("")
        lines.append("Failure patterns in deviations and fixes of this step")
        if not self.failure_patterns:
            lines.append("  none tagged")
        for g in self.failure_patterns:
            sites = ", ".join(f"{s} {n}" for s, n in g.by_site.items())
            lines.append(f"  {g.label} [{g.pattern}]: {g.count} ({sites})")
            for e in g.entries:
                ext = f" [{e.ext_id}]" if e.ext_id else ""
                lines.append(f"      {e.id}{ext} {e.type} {e.site}: {e.title}")
        return "\n".join(lines)


def _labelled(item: CardItem, r: SiteRange) -> list[str]:
    by_id = {e.id: e for e in item.evidence}
    out = []
    for entry_id in r.entry_ids:
        e = by_id.get(entry_id)
        out.append(f"{entry_id} {e.ext_id}" if e and e.ext_id else entry_id)
    return out


# --- helpers --------------------------------------------------------------------------------------


def format_range(range_min: float | None, range_max: float | None, unit: str | None) -> str:
    """Return a range as text: '1.8-2.2 unit', '>= 95 %', '<= 0.3 bar' or 'no range'."""

    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else str(v)

    u = f" {unit}" if unit else ""
    if range_min is not None and range_max is not None:
        if math.isclose(range_min, range_max):
            return f"{num(range_min)}{u}"
        return f"{num(range_min)} to {num(range_max)}{u}"
    if range_min is not None:
        return f">= {num(range_min)}{u}"
    if range_max is not None:
        return f"<= {num(range_max)}{u}"
    return f"no range{f' ({unit})' if unit else ''}"


def normalise_unit(unit: str | None) -> str | None:
    """Return a comparable form of a unit (case, spaces and a few spellings folded), or None."""
    if unit is None or not str(unit).strip():
        return None
    text = re.sub(r"\s+", "", str(unit)).casefold()
    return _UNIT_ALIASES.get(text, text)


class ConditionNormaliser:
    """Folds case, punctuation and trade synonyms, so 'Viable cell density' and 'VCD' group together."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._canonical: dict[str, str] = {}
        bodies = []
        terms = sorted(
            ((t, g[0]) for g in vocabulary.synonym_groups for t in g), key=lambda tg: (-len(tg[0]), tg[0])
        )
        for term, head in terms:
            self._canonical.setdefault(_fold(term), _fold(head))
            body = r"[\s\-]+".join(re.escape(w) for w in term.split())
            bodies.append(body if term in vocabulary.case_sensitive_terms else f"(?i:{body})")
        self._matcher = re.compile(rf"(?<!\w)(?:{'|'.join(bodies)})(?!\w)") if bodies else None

    def key(self, condition: str) -> str:
        """Return the grouping key of a condition name."""
        text = condition or ""
        if self._matcher is not None:
            text = self._matcher.sub(
                lambda m: f" {self._canonical.get(_fold(m.group(0)), m.group(0))} ", text
            )
        return " ".join(re.findall(r"\w+|[%+]", text.casefold()))


def _fold(term: str) -> str:
    return re.sub(r"[\s\-]+", " ", term).strip().casefold()


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def state_part_of(entry: Entry) -> str | None:
    """Return the state part of an entry (fields.state_part, else its state:<part> tag), or None."""
    part = entry.fields.get("state_part")
    if isinstance(part, str) and part.strip():
        return part.strip()
    for tag in entry.tags:
        if isinstance(tag, str) and tag.startswith(STATE_TAG_PREFIX) and len(tag) > len(STATE_TAG_PREFIX):
            return tag[len(STATE_TAG_PREFIX) :]
    return None


def resolve_step(vocabulary: Vocabulary, process: str, step: str) -> tuple[str, str]:
    """Return the (process, step) codes a user typed (code or label, any case) or raise naming the argument."""
    proc = vocabulary.resolve("processes", (process or "").strip())
    if proc is None:
        known = ", ".join(vocabulary.codes("processes"))
        raise KBError(f"argument '--process': unknown process '{process}' (known: {known})")
    code = vocabulary.resolve("steps", (step or "").strip(), proc)
    if code is None or code not in vocabulary.steps_for(proc):
        elsewhere = [p for p in vocabulary.process_of_step(step or "") if p != proc]
        hint = f"; it is a step of {', '.join(elsewhere)}" if elsewhere else ""
        raise KBError(
            f"argument '--step': '{step}' is not a step of {proc}{hint} "
            f"(known: {', '.join(vocabulary.steps_for(proc))})"
        )
    return proc, code


def _site_order(vocabulary: Vocabulary, sites: set[str]) -> list[str]:
    known = [s for s in vocabulary.codes("sites") if s in sites]
    return (
        known
        + sorted(s for s in sites if s not in known and s != NO_SITE)
        + ([NO_SITE] if NO_SITE in sites else [])
    )


def _step_entries(kb: KnowledgeBase, process: str, step: str) -> list[Entry]:
    seqs = allowed_seqs(kb.store, SearchFilters(process=process, step=step))
    ids = [format_id(int(s)) for s in sorted(int(x) for x in seqs)]
    found = kb.store.get_many(ids)
    return [found[i] for i in ids if i in found]


def _evidence(entry: Entry, condition: str | None = None) -> Evidence:
    f = entry.fields
    unit = f.get("unit")
    return Evidence(
        id=entry.id,
        ext_id=entry.ext_id,
        title=entry.title,
        site=entry.site or NO_SITE,
        type=entry.type,
        range_min=_number(f.get("range_min")),
        range_max=_number(f.get("range_max")),
        unit=str(unit).strip() if unit not in (None, "") else None,
        condition=condition,
        occurred_at=entry.occurred_at,
    )


# --- building a card ------------------------------------------------------------------------------


def step_state_card(
    kb: KnowledgeBase, process: str, step: str, *, vocabulary: Vocabulary | None = None
) -> StateCard:
    """Assemble the state card of one process step from active entries (retired ones are left out)."""
    vocabulary = vocabulary or load_vocabulary(home=kb.home)
    process, step = resolve_step(vocabulary, process, step)
    normaliser = ConditionNormaliser(vocabulary)
    part_codes = vocabulary.codes("state_parts")
    pattern_codes = vocabulary.codes("failure_patterns")

    grouped: dict[tuple[str, str], list[tuple[Entry, str]]] = defaultdict(list)
    tagged_failures: dict[str, list[Entry]] = defaultdict(list)
    sites_seen: set[str] = set()
    for entry in _step_entries(kb, process, step):
        if entry.type == "doc_chunk":  # chunks copy their parent's tags; the parent is the evidence
            continue
        part = state_part_of(entry)
        if part is not None:
            condition = str(entry.fields.get("condition") or "").strip() or entry.title
            grouped[(part, normaliser.key(condition) or condition.casefold())].append((entry, condition))
            sites_seen.add(entry.site or NO_SITE)
        pattern = failure_pattern_of(entry)
        if pattern is not None and entry.type in FAILURE_TYPES:
            tagged_failures[pattern].append(entry)

    sites = _site_order(vocabulary, sites_seen | set(vocabulary.codes("sites")))
    extra_parts = sorted({p for p, _ in grouped} - set(part_codes))
    parts: dict[str, list[CardItem]] = {p: [] for p in [*part_codes, *extra_parts]}
    for (part, key), members in sorted(grouped.items()):
        parts[part].append(_item(part, key, members, sites))

    disagreements = _disagreements(parts, sites, vocabulary)
    groups = []
    for pattern in [*pattern_codes, *sorted(set(tagged_failures) - set(pattern_codes))]:
        members = tagged_failures.get(pattern)
        if not members:
            continue
        evidence = sorted(
            (_evidence(e) for e in members), key=lambda e: (sites.index(e.site), parse_id(e.id))
        )
        by_site = {s: sum(1 for e in evidence if e.site == s) for s in sites}
        groups.append(
            PatternGroup(
                pattern=pattern,
                label=vocabulary.label("failure_patterns", pattern),
                count=len(evidence),
                by_site={s: n for s, n in by_site.items() if n},
                entries=evidence,
            )
        )
    return StateCard(
        process=process,
        step=step,
        process_label=vocabulary.label("processes", process),
        step_label=vocabulary.step_label(step, process),
        sites=sites,
        parts=parts,
        part_labels={p: vocabulary.label("state_parts", p) for p in parts},
        disagreements=disagreements,
        failure_patterns=groups,
    )


def _item(part: str, key: str, members: list[tuple[Entry, str]], sites: list[str]) -> CardItem:
    members = sorted(members, key=lambda m: parse_id(m[0].id))
    names = list(dict.fromkeys(condition for _, condition in members))
    evidence = sorted(
        (_evidence(e, c) for e, c in members), key=lambda e: (sites.index(e.site), parse_id(e.id))
    )
    by_site: dict[str, list[SiteRange]] = {}
    for site in sites:
        mine = [e for e in evidence if e.site == site]
        if not mine:
            continue
        ranges: dict[tuple[Any, ...], list[str]] = {}
        shown: dict[tuple[Any, ...], Evidence] = {}
        for e in mine:
            signature = (e.range_min, e.range_max, normalise_unit(e.unit))
            ranges.setdefault(signature, []).append(e.id)
            shown.setdefault(signature, e)
        by_site[site] = [
            SiteRange(shown[sig].range_min, shown[sig].range_max, shown[sig].unit, tuple(ids))
            for sig, ids in ranges.items()
        ]
    return CardItem(part=part, key=key, condition=names[0], names=names, sites=by_site, evidence=evidence)


def _ranges_equal(a: list[SiteRange], b: list[SiteRange]) -> bool:
    def norm(ranges: list[SiteRange]) -> list[tuple[Any, ...]]:
        return sorted(
            ((r.range_min, r.range_max, normalise_unit(r.unit)) for r in ranges), key=lambda t: repr(t)
        )

    left, right = norm(a), norm(b)
    return len(left) == len(right) and all(
        _same_number(x[0], y[0]) and _same_number(x[1], y[1]) and x[2] == y[2]
        for x, y in zip(left, right, strict=True)
    )


def _disagreements(
    parts: dict[str, list[CardItem]], sites: list[str], vocabulary: Vocabulary
) -> list[Disagreement]:
    compared = [s for s in sites if s != NO_SITE]
    found: list[Disagreement] = []
    for part, items in parts.items():
        label = vocabulary.label("state_parts", part)
        for item in items:
            for i, a in enumerate(compared):
                for b in compared[i + 1 :]:
                    if a not in item.sites or b not in item.sites:
                        continue
                    ra, rb = item.sites[a], item.sites[b]
                    if _ranges_equal(ra, rb):
                        continue
                    units_a = {normalise_unit(r.unit) for r in ra if r.unit}
                    units_b = {normalise_unit(r.unit) for r in rb if r.unit}
                    kind = "unit" if units_a and units_b and units_a != units_b else "range"
                    what = "units" if kind == "unit" else "ranges"
                    message = (
                        f"{label} '{item.condition}': {a} and {b} give different {what}: "
                        f"{a} {' / '.join(r.show() for r in ra)} ({', '.join(_ids(ra))}) vs "
                        f"{b} {' / '.join(r.show() for r in rb)} ({', '.join(_ids(rb))})"
                    )
                    found.append(Disagreement(kind, part, item.condition, item.key, {a: ra, b: rb}, message))
        present = {s for item in items for s in item.sites}
        for site in compared:
            if site in present or not present:
                continue
            having = [s for s in compared if s in present]
            message = (
                f"{label}: {', '.join(having)} captured {len(items)} condition(s) "
                f"({', '.join(i.condition for i in items)}); {site} has none"
            )
            values = {s: [] for s in [*having, site]}
            found.append(Disagreement("missing_part", part, None, None, values, message))
    return found


def _ids(ranges: list[SiteRange]) -> list[str]:
    return [i for r in ranges for i in r.entry_ids]
