"""The records TacitKB keeps and returns: entries, links, revisions, search hits."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

ENTRY_TYPES: tuple[str, ...] = (
    "cue",
    "know_how",
    "deviation",
    "fix",
    "lesson",
    "document",
    "doc_chunk",
)
LINK_RELATIONS: tuple[str, ...] = ("fixed_by", "duplicate_of", "related", "chunk_of")
STATUSES: tuple[str, ...] = ("active", "retired")
SEVERITIES: tuple[str, ...] = ("minor", "major", "critical")

# Plain text columns a caller may set; everything else goes to `fields` (JSON).
TEXT_FIELDS: tuple[str, ...] = (
    "ext_id",
    "type",
    "title",
    "text",
    "process",
    "step",
    "site",
    "scale",
    "equipment",
    "batch",
    "occurred_at",
    "severity",
    "root_cause",
    "author",
)
EDITABLE_FIELDS: tuple[str, ...] = (*TEXT_FIELDS, "tags", "fields")

# Longest text one entry holds; longer text is split into linked chunks.
MAX_TEXT_CHARS = 8000


# The fields that place an entry in the process (where, on what, when), shared with entries made from it.
CONTEXT_FIELDS = ("process", "step", "site", "scale", "equipment", "batch", "occurred_at")


@dataclass
class Entry:
    """One piece of captured knowledge: a cue, know-how, deviation, fix, lesson or document chunk."""

    type: str
    text: str
    title: str = ""
    id: str = ""
    ext_id: str | None = None
    process: str | None = None
    step: str | None = None
    site: str | None = None
    scale: str | None = None
    equipment: str | None = None
    batch: str | None = None
    occurred_at: str | None = None
    severity: str | None = None
    root_cause: str | None = None
    author: str | None = None
    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""
    status: str = "active"
    revision: int = 0
    content_hash: str = ""

    def context(self) -> dict[str, Any]:
        """Return where and when this entry happened, for an entry derived from it (a fix, a chunk)."""
        return {name: getattr(self, name) for name in CONTEXT_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as a plain dict (JSON-ready)."""
        return asdict(self)

    def search_text(self) -> str:
        """Return the text that is embedded for this entry (title and text, the title once)."""
        # An automatic title is the text's first line: embedding both would encode it twice (the
        # benchmark measured 1.57x pure encoding time for one-line records; 1.06x without the repeat).
        title = self.title.rstrip("…").strip()
        if not title or self.text.lstrip().startswith(title):
            return self.text
        return f"{self.title}\n{self.text}"

    def compute_hash(self) -> str:
        """Return a sha256 over the content that defines this entry (not ids or times)."""
        payload = {k: getattr(self, k) for k in (*TEXT_FIELDS, "tags", "fields") if k not in ("author",)}
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Link:
    """A typed, directed relation between two entries (deviation fixed_by fix, chunk_of document...)."""

    source: str
    relation: str
    target: str
    author: str | None = None
    created_at: str = ""
    note: str | None = None


@dataclass
class Revision:
    """One step of an entry's append-only history: who changed what, when and why."""

    entry_id: str
    revision: int
    action: str  # create | edit | retire | restore
    author: str | None
    at: str
    reason: str | None
    changes: dict[str, dict[str, Any]]  # field -> {"old": ..., "new": ...}


@dataclass
class Hit:
    """One search result with the evidence for why it matched."""

    entry: Entry
    score: float
    rank: int
    keyword_rank: int | None = None
    semantic_rank: int | None = None
    semantic_score: float | None = None
    snippet: str = ""
    links: list[Link] = field(default_factory=list)
    # Why it matched: matched_words, semantic_similarity, keyword_score, fused_score, judgment_boost,
    # related_boost.
    explain: dict[str, Any] = field(default_factory=dict)

    @property
    def why(self) -> str:
        """Return a one-line human explanation of the match."""
        parts = []
        if self.keyword_rank is not None:
            matched = self.explain.get("matched_words") or []
            words = f" ({', '.join(matched[:6])})" if matched else ""
            parts.append(f"keyword rank {self.keyword_rank}{words}")
        if self.semantic_rank is not None:
            sim = f" (similarity {self.semantic_score:.2f})" if self.semantic_score is not None else ""
            parts.append(f"semantic rank {self.semantic_rank}{sim}")
        boost = self.explain.get("judgment_boost")
        if boost:
            parts.append(
                f"judgments {boost['value']:+.2f} ({boost['helped']} helped, "
                f"{boost['not_relevant']} not relevant, for similar queries)"
            )
        related = self.explain.get("related_boost")
        if related:
            parts.append(
                f"helped together with the best match {related['best_match']} {related['value']:+.2f} "
                f"({related['judged_together']} earlier quer{'ies' if related['judged_together'] != 1 else 'y'})"
            )
        return ", ".join(parts) or "filter match"

    def to_dict(self) -> dict[str, Any]:
        """Return the hit as a flat JSON-ready dict (the CLI's --json shape)."""
        e = self.entry
        return {
            "id": e.id,
            "ext_id": e.ext_id,
            "type": e.type,
            "title": e.title,
            "score": round(self.score, 6),
            "rank": self.rank,
            "process": e.process,
            "step": e.step,
            "site": e.site,
            "occurred_at": e.occurred_at,
            "snippet": self.snippet,
            "keyword_rank": self.keyword_rank,
            "semantic_rank": self.semantic_rank,
            "semantic_score": None if self.semantic_score is None else round(self.semantic_score, 6),
            "why": self.why,
            "explain": self.explain,
            "links": [asdict(link) for link in self.links],
        }


class KBError(Exception):
    """A problem the user can fix: the message names the file, row, field or argument."""


class NotFoundError(KBError):
    """An id that names no entry."""


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with microseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_id(seq: int) -> str:
    """Return the human-friendly id for a sequence number (KB-000123)."""
    return f"KB-{seq:06d}"


def parse_id(entry_id: str) -> int:
    """Return the sequence number inside an entry id, or raise NotFoundError."""
    text = entry_id.strip().upper()
    if text.startswith("KB-") and text[3:].isdigit():
        return int(text[3:])
    raise NotFoundError(f"'{entry_id}' is not an entry id (expected the form KB-000123)")


@dataclass
class SearchFilters:
    """Metadata filters; each set field narrows the candidates before ranking, never after.

    A value object: the storage backend compiles it to its own query (kb/storage), so search never
    writes SQL and a new backend needs no change here.
    """

    types: list[str] = field(default_factory=list)
    process: str | None = None
    step: str | None = None
    site: str | None = None
    since: str | None = None
    until: str | None = None
    status: str = "active"
    tags: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """Return True when only the default status filter is set."""
        return not (
            self.types or self.process or self.step or self.site or self.since or self.until or self.tags
        )

    def checked_types(self) -> list[str]:
        """Return the entry types, raising KBError on one that does not exist."""
        bad = [t for t in self.types if t not in ENTRY_TYPES]
        if bad:
            raise KBError(
                f"argument '--type': unknown type '{bad[0]}' (expected one of {', '.join(ENTRY_TYPES)})"
            )
        return list(self.types)

    def since_day(self) -> str | None:
        """Return the first day included (YYYY-MM-DD), or None."""
        return _parse_day(self.since, "--since").isoformat() if self.since else None

    def conditions(self) -> list[tuple[str, str, Any]]:
        """Return the filters as (kind, column, value) conditions that each storage backend compiles.

        Kinds: "eq" (equal), "in" (one of a list), "nocase" (equal ignoring case), "ge" / "lt" (at or
        after / before; `until` becomes "before the next day", so the whole day is in), "tag" (the tags
        list holds the value). Validation happens here, once, whatever the backend.
        """
        out: list[tuple[str, str, Any]] = [("eq", "status", self.status)]
        types = self.checked_types()
        if types:
            out.append(("in", "type", types))
        out += [("nocase", c, getattr(self, c)) for c in ("process", "step", "site") if getattr(self, c)]
        since, before = self.since_day(), self.before_day()
        if since:
            out.append(("ge", "occurred_at", since))
        if before:
            out.append(("lt", "occurred_at", before))
        return out + [("tag", "tags", tag) for tag in self.tags]

    def before_day(self) -> str | None:
        """Return the first day after `until` (exclusive bound, so the whole `until` day is in), or None."""
        if not self.until:
            return None
        return (_parse_day(self.until, "--until") + timedelta(days=1)).isoformat()


def _parse_day(value: str, argument: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise KBError(f"argument '{argument}': '{value}' is not a date (use YYYY-MM-DD)") from exc


def check_entry(entry: Entry) -> None:
    """Raise KBError naming the field if an entry cannot be stored."""
    if entry.type not in ENTRY_TYPES:
        raise KBError(f"field 'type': unknown type '{entry.type}' (expected one of {', '.join(ENTRY_TYPES)})")
    if not isinstance(entry.text, str) or not entry.text.strip():
        raise KBError("field 'text': empty or whitespace-only text")
    if not isinstance(entry.tags, list) or not all(isinstance(t, str) for t in entry.tags):
        raise KBError("field 'tags': must be a list of strings")
    if not isinstance(entry.fields, dict):
        raise KBError("field 'fields': must be an object")
    check_field_values(entry)


def check_field_values(entry: Any) -> None:
    """Raise KBError naming the field if a text field is not text, holds a NUL byte, or a date/severity is invalid.

    Part of check_entry, the one check add, edit, record import and packages share (issue 16).
    """
    for name in TEXT_FIELDS:
        value = getattr(entry, name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise KBError(f"field '{name}': must be text, not {type(value).__name__}")
        if "\x00" in value:
            raise KBError(f"field '{name}': contains a NUL byte")
    for tag in entry.tags if isinstance(entry.tags, list) else []:
        if isinstance(tag, str) and "\x00" in tag:
            raise KBError("field 'tags': contains a NUL byte")
    if entry.severity not in (None, "") and entry.severity not in SEVERITIES:
        raise KBError(f"field 'severity': '{entry.severity}' is not one of {', '.join(SEVERITIES)}")
    if entry.occurred_at not in (None, ""):
        try:
            datetime.fromisoformat(entry.occurred_at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise KBError(
                f"field 'occurred_at': '{entry.occurred_at}' is not a date (use YYYY-MM-DD or ISO 8601)"
            ) from exc
