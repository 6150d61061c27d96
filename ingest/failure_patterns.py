"""Failure patterns (context, preparation, stability) on deviations and fixes: suggest, set, sync.

The pattern lives in `fields.failure_pattern`, the source of truth written by the samples and the
deviation and fix templates. The tag `failure:<pattern>` mirrors it so that
`SearchFilters(tags=["failure:context"])` finds the entry; `tag_failure_pattern` writes both, and
`sync_failure_tags` adds the tag to entries that only have the field. Reading code accepts either.
A suggestion is a similarity-weighted vote of the nearest already-tagged deviations and fixes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.vocabulary import Vocabulary, load_vocabulary
from kb.knowledge_base import KnowledgeBase
from kb.models import Entry, KBError, NotFoundError, SearchFilters, format_id, parse_id
from kb.retrieval.search import allowed_seqs

FAILURE_TAG_PREFIX = "failure:"
FAILURE_TYPES: tuple[str, ...] = ("deviation", "fix")
# Cosine similarity (all-MiniLM-L6-v2, L2-normalised) below which a tagged entry does not vote.
SIMILARITY_FLOOR = 0.35
DEFAULT_K = 10
_ID_RE = re.compile(r"(?i)^\s*KB-\d+\s*$")


def failure_pattern_of(entry: Entry) -> str | None:
    """Return the failure pattern of an entry (fields.failure_pattern, else its failure:<p> tag), or None."""
    pattern = entry.fields.get("failure_pattern")
    if isinstance(pattern, str) and pattern.strip():
        return pattern.strip()
    for tag in entry.tags:
        if isinstance(tag, str) and tag.startswith(FAILURE_TAG_PREFIX) and len(tag) > len(FAILURE_TAG_PREFIX):
            return tag[len(FAILURE_TAG_PREFIX) :]
    return None


@dataclass
class Neighbour:
    """One tagged deviation or fix near the query, and its vote."""

    id: str
    ext_id: str | None
    type: str
    title: str
    pattern: str
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        """Return the neighbour as a JSON-ready dict."""
        return dict(self.__dict__)


@dataclass
class Suggestion:
    """A suggested failure pattern, how sure the vote is and the tagged entries behind it."""

    pattern: str | None
    confidence: float
    evidence_ids: list[str]
    votes: dict[str, float] = field(default_factory=dict)
    neighbours: list[Neighbour] = field(default_factory=list)
    query_id: str | None = None
    k: int = DEFAULT_K
    min_similarity: float = SIMILARITY_FLOOR

    def to_dict(self) -> dict[str, Any]:
        """Return the suggestion as a JSON-ready dict."""
        return {
            "pattern": self.pattern,
            "confidence": round(self.confidence, 4),
            "evidence_ids": list(self.evidence_ids),
            "votes": {p: round(v, 4) for p, v in self.votes.items()},
            "neighbours": [n.to_dict() for n in self.neighbours],
            "query_id": self.query_id,
            "k": self.k,
            "min_similarity": self.min_similarity,
        }


def find_entry(kb: KnowledgeBase, ref: str, argument: str = "ID") -> Entry:
    """Return the entry an id (KB-000123) or ext_id (LEI-DEV-0041) names, or raise naming the argument."""
    try:
        return kb.resolve(ref)
    except NotFoundError as exc:
        raise NotFoundError(f"argument '{argument}': {exc}") from exc


def suggest_failure_pattern(
    kb: KnowledgeBase,
    entry_or_text: str,
    *,
    k: int = DEFAULT_K,
    min_similarity: float = SIMILARITY_FLOOR,
    vocabulary: Vocabulary | None = None,
) -> Suggestion:
    """Suggest a failure pattern by a similarity-weighted vote of the k nearest tagged deviations/fixes."""
    if k < 1:
        raise KBError(f"argument '-k': must be at least 1, got {k}")
    vocabulary = vocabulary or load_vocabulary(home=kb.home)
    text = (entry_or_text or "").strip()
    if not text:
        raise KBError("argument 'ID_OR_TEXT': give an entry id, an ext_id or a description")
    fingerprint = kb.embedder.fingerprint
    query_id: str | None = None
    looks_like_id = bool(_ID_RE.match(text))
    entry = find_entry(kb, text, "ID_OR_TEXT") if looks_like_id else kb.store.find_by_ext_id(text)
    if entry is not None:
        query_id = entry.id
        vector = kb.store.vectors_for([entry.id], fingerprint).get(entry.id)
        if vector is None:
            vector = kb.embedder.encode([entry.search_text()])[0]
    else:
        vector = kb.embedder.encode([text])[0]

    candidates = [
        e
        for e in _tagged_failures(kb)
        if query_id is None or (e.id != query_id and e.fields.get("parent_id") != query_id)
    ]
    neighbours = _nearest(kb, vector, candidates, fingerprint, k, min_similarity)
    if not neighbours:
        return Suggestion(None, 0.0, [], {}, [], query_id, k, min_similarity)
    votes: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    best: dict[str, float] = {}
    for n in neighbours:
        votes[n.pattern] += n.similarity
        counts[n.pattern] += 1
        best[n.pattern] = max(best.get(n.pattern, -1.0), n.similarity)
    order = vocabulary.codes("failure_patterns")

    def rank(p: str) -> tuple[float, int, float, int, str]:
        position = order.index(p) if p in order else len(order)
        return (-round(votes[p], 6), -counts[p], -best[p], position, p)

    ranked = sorted(votes, key=rank)
    winner = ranked[0]
    total = sum(votes.values())
    confidence = votes[winner] / total if total > 0 else 0.0
    evidence = [n.id for n in neighbours if n.pattern == winner]
    return Suggestion(
        winner,
        confidence,
        evidence,
        {p: votes[p] for p in ranked},
        neighbours,
        query_id,
        k,
        min_similarity,
    )


def _tagged_failures(kb: KnowledgeBase) -> list[Entry]:
    seqs = allowed_seqs(kb.store, SearchFilters(types=list(FAILURE_TYPES)))
    ids = [format_id(int(s)) for s in sorted(int(x) for x in seqs)]
    found = kb.store.get_many(ids)
    return [found[i] for i in ids if i in found and failure_pattern_of(found[i]) is not None]


def _nearest(
    kb: KnowledgeBase,
    vector: np.ndarray,
    candidates: list[Entry],
    fingerprint: str,
    k: int,
    min_similarity: float,
) -> list[Neighbour]:
    """Return the k candidates most similar to the vector (exact cosine over stored vectors)."""
    if not candidates:
        return []
    stored = kb.store.vectors_for([e.id for e in candidates], fingerprint)
    missing = [e for e in candidates if e.id not in stored]
    if missing:  # not yet encoded (e.g. written by another model): encode in memory, store nothing
        for e, v in zip(missing, kb.embedder.encode([e.search_text() for e in missing]), strict=True):
            stored[e.id] = v
    matrix = np.vstack([np.asarray(stored[e.id], dtype=np.float32) for e in candidates])
    query = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(query)) or 1.0
    sims = (matrix @ query) / norm
    scored = [
        (round(float(s), 6), e) for s, e in zip(sims, candidates, strict=True) if float(s) >= min_similarity
    ]
    scored.sort(key=lambda se: (-se[0], parse_id(se[1].id)))
    return [Neighbour(e.id, e.ext_id, e.type, e.title, failure_pattern_of(e) or "", s) for s, e in scored[:k]]


def resolve_pattern(vocabulary: Vocabulary, pattern: str) -> str:
    """Return the failure-pattern code a user typed (code or label, any case) or raise naming the argument."""
    code = vocabulary.resolve("failure_patterns", (pattern or "").strip())
    if code is None:
        known = ", ".join(vocabulary.codes("failure_patterns"))
        raise KBError(f"argument 'PATTERN': unknown failure pattern '{pattern}' (known: {known})")
    return code


def _tagged_changes(entry: Entry, code: str) -> dict[str, Any]:
    fields = {**entry.fields, "failure_pattern": code}
    tags = [t for t in entry.tags if not (isinstance(t, str) and t.startswith(FAILURE_TAG_PREFIX))]
    tags.append(f"{FAILURE_TAG_PREFIX}{code}")
    changes: dict[str, Any] = {}
    if fields != entry.fields:
        changes["fields"] = fields
    if tags != entry.tags:
        changes["tags"] = tags
    return changes


def tag_failure_pattern(
    kb: KnowledgeBase,
    entry_id: str,
    pattern: str,
    *,
    author: str | None,
    reason: str,
    vocabulary: Vocabulary | None = None,
) -> Entry:
    """Set fields.failure_pattern and the tag failure:<pattern> on a deviation or fix, as a new revision."""
    vocabulary = vocabulary or load_vocabulary(home=kb.home)
    code = resolve_pattern(vocabulary, pattern)
    if not reason or not reason.strip():
        raise KBError("argument '--reason': a reason is required to tag a failure pattern")
    entry = find_entry(kb, entry_id)
    if entry.status != "active":
        raise KBError(f"argument 'ID': {entry.id} is retired; restore it before tagging")
    if entry.type not in FAILURE_TYPES:
        raise KBError(
            f"argument 'ID': {entry.id} is a {entry.type}; failure patterns go on "
            f"{' or '.join(FAILURE_TYPES)} entries"
        )
    changes = _tagged_changes(entry, code)
    if not changes:
        return entry
    return kb.edit(entry.id, changes, author=author, reason=reason.strip())


def sync_failure_tags(
    kb: KnowledgeBase, *, author: str | None, reason: str = "mirror fields.failure_pattern as a tag"
) -> list[str]:
    """Add the tag failure:<pattern> to entries whose fields.failure_pattern lacks it; return their ids."""
    changed = []
    for entry in _tagged_failures(kb):
        pattern = entry.fields.get("failure_pattern")
        if not isinstance(pattern, str) or not pattern.strip():
            continue
        changes = _tagged_changes(entry, pattern.strip())
        if changes:
            kb.edit(entry.id, changes, author=author, reason=reason)
            changed.append(entry.id)
    return changed
