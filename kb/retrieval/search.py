"""Hybrid search: BM25 keyword ranks and FAISS dense ranks under the same filters, fused and explained."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from kb.models import Hit, KBError, SearchFilters, format_id
from kb.retrieval.embed import Embedder
from kb.retrieval.keyword_index import KeywordIndex, stem, words
from kb.retrieval.vector_index import VectorIndex
from kb.storage.base import Store

SEARCH_MODES = ("hybrid", "dense", "keyword")
FUSIONS = ("rrf", "linear")
RRF_K = 60
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


# Function words match nearly every entry; left in an OR query they only add noise to BM25 ranks.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "out",
        "over",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


def query_terms(text: str) -> list[str]:
    """Return the stemmed index terms of a query: its words less stop words (all of them if only those)."""
    found = list(dict.fromkeys(words(text)))
    return list(dict.fromkeys(stem(w) for w in ([w for w in found if w not in STOP_WORDS] or found)))


def keyword_ranks(
    keywords: KeywordIndex, query: str, allowed: np.ndarray | None, limit: int
) -> list[tuple[int, float]]:
    """Return (seq, BM25 score) of the best keyword matches among the allowed entries (None: all)."""
    seqs, scores = keywords.search(query_terms(query), limit, allowed)
    return [(int(s), float(v)) for s, v in zip(seqs, scores, strict=True)]


def highlight(text: str, query: str) -> str:
    """Return text with the words that share a stem with the query's terms marked **like this**."""
    wanted = set(query_terms(query))

    def mark(match: re.Match[str]) -> str:
        folded = words(match[0])
        return f"**{match[0]}**" if folded and stem(folded[0]) in wanted else match[0]

    return _TOKEN.sub(mark, text)


def allowed_seqs(store: Store, filters: SearchFilters) -> np.ndarray:
    """Return the sequence numbers of every entry that passes the filters."""
    return store.filter_seqs(filters)


def best_sentence(text: str, query: str, limit: int = 240) -> str:
    """Return the sentence of a text that shares most words with the query (the hit's snippet)."""
    # Word starts (5 letters) match "clarify" to "clarification"; function words would match anything.
    words = {w.lower()[:5] for w in _TOKEN.findall(query) if len(w) > 2 and w.lower() not in STOP_WORDS}
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()] or [text.strip()]
    shared = [len(words & {w.lower()[:5] for w in _TOKEN.findall(s)}) for s in sentences]
    first = last = max(range(len(sentences)), key=lambda i: (shared[i], -i))
    # A short sentence alone loses its context: add its neighbours while the snippet stays short.
    while True:
        if last + 1 < len(sentences) and len(" ".join(sentences[first : last + 2])) <= limit // 2:
            last += 1
        elif first > 0 and len(" ".join(sentences[first - 1 : last + 1])) <= limit // 2:
            first -= 1
        else:
            break
    best = " ".join(sentences[first : last + 1])
    return best if len(best) <= limit else best[: limit - 1].rsplit(" ", 1)[0] + "…"


def hybrid_search(
    store: Store,
    index: VectorIndex,
    keywords: KeywordIndex,
    embedder: Embedder,
    query: str,
    *,
    k: int = 10,
    filters: SearchFilters | None = None,
    mode: str = "hybrid",
    fusion: str = "rrf",
    alpha: float = 0.5,
    expand: Callable[[str], str] | None = None,
    query_vector: np.ndarray | None = None,
    exclude: set[int] | None = None,
) -> list[Hit]:
    """Return the top-k entries for a query, fusing keyword and semantic ranks under the filters."""
    if mode not in SEARCH_MODES:
        raise KBError(f"argument 'mode': unknown mode '{mode}' (expected one of {', '.join(SEARCH_MODES)})")
    if fusion not in FUSIONS:
        raise KBError(f"argument 'fusion': unknown fusion '{fusion}' (expected one of {', '.join(FUSIONS)})")
    if k < 1:
        raise KBError(f"argument '-k': must be at least 1, got {k}")
    filters = filters or SearchFilters()
    exclude = exclude or set()
    depth = max(50, 4 * k) + len(exclude)

    # Both indexes hold only active entries; any other filter narrows the candidates of both legs.
    allowed = None if filters.is_empty() and filters.status == "active" else allowed_seqs(store, filters)
    keyword: list[tuple[int, float]] = []
    keyword_query = expand(query) if expand else query
    if mode in ("hybrid", "keyword"):
        keyword = keyword_ranks(keywords, keyword_query, allowed, depth)
    dense_seqs, dense_sims = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if mode in ("hybrid", "dense") and (query.strip() or query_vector is not None):
        vector = query_vector if query_vector is not None else embedder.encode([query])[0]
        dense_seqs, dense_sims = index.search(vector, depth, allowed)

    kw_rank = {s: i + 1 for i, (s, _) in enumerate(x for x in keyword if x[0] not in exclude)}
    kw_score = dict(keyword)
    dn = [(int(s), float(v)) for s, v in zip(dense_seqs, dense_sims, strict=True) if int(s) not in exclude]
    dn_rank = {s: i + 1 for i, (s, _) in enumerate(dn)}
    dn_score = dict(dn)

    scores = _fuse(kw_rank, kw_score, dn_rank, dn_score, fusion, alpha)
    ranked = sorted(scores, key=lambda s: (-scores[s], s))[:k]
    entries = store.get_many([format_id(s) for s in ranked])
    links = store.links_for([format_id(s) for s in ranked])
    hits = []
    for position, seq in enumerate(ranked, start=1):
        entry = entries[format_id(seq)]
        # The user's own words pick and mark the snippet (expansion synonyms would pull it elsewhere).
        snippet = best_sentence(entry.text, query)
        if seq in kw_rank:
            snippet = highlight(snippet, query)
        hits.append(
            Hit(
                entry=entry,
                score=scores[seq],
                rank=position,
                keyword_rank=kw_rank.get(seq),
                semantic_rank=dn_rank.get(seq),
                semantic_score=dn_score.get(seq),
                snippet=snippet,
                links=links.get(entry.id, []),
            )
        )
    return hits


def _fuse(
    kw_rank: dict[int, int],
    kw_score: dict[int, float],
    dn_rank: dict[int, int],
    dn_score: dict[int, float],
    fusion: str,
    alpha: float,
) -> dict[int, float]:
    """Return a fused score per candidate (higher is better)."""
    candidates = set(kw_rank) | set(dn_rank)
    if fusion == "rrf":
        return {
            s: (1 / (RRF_K + kw_rank[s]) if s in kw_rank else 0.0)
            + (1 / (RRF_K + dn_rank[s]) if s in dn_rank else 0.0)
            for s in candidates
        }

    # Linear: min-max normalised BM25 and cosine, weighted by alpha (dense share).
    def normalise(values: dict[int, float]) -> dict[int, float]:
        if not values:
            return {}
        lo, hi = min(values.values()), max(values.values())
        span = hi - lo or 1.0
        return {s: (v - lo) / span for s, v in values.items()}

    kw = normalise({s: kw_score[s] for s in kw_rank})
    dn = normalise({s: dn_score[s] for s in dn_rank})
    return {s: alpha * dn.get(s, 0.0) + (1 - alpha) * kw.get(s, 0.0) for s in candidates}
