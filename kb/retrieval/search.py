"""Hybrid search: BM25 keyword ranks and FAISS dense ranks under the same filters, fused and explained."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from kb.models import Hit, KBError, SearchFilters, format_id
from kb.retrieval.embed import Embedder
from kb.retrieval.keyword_index import KeywordIndex
from kb.retrieval.learning import Learned
from kb.retrieval.tokens import STOP_WORDS, stem, words
from kb.retrieval.vector_index import VectorIndex
from kb.storage.base import Store

SEARCH_MODES = ("hybrid", "dense", "keyword")
FUSIONS = ("rrf", "linear")
NORMALISATIONS = ("minmax", "max", "zscore")
# The default fusion, chosen on three labelled sets at once (samples, cgt_dev, MaintNet; bench/quality.py,
# docs/benchmarks.md section 3): each leg's scores divided by the leg's largest, then 0.4 * dense +
# 0.6 * BM25. It was the best mean nDCG@10 among the settings at or above dense alone, BM25 alone and
# txtai's hybrid on every set; RRF (k = 60, equal legs) before it fell below txtai's hybrid on MaintNet.
DEFAULT_FUSION = "linear"
DEFAULT_NORM = "max"
DEFAULT_ALPHA = 0.4
RRF_K = 60  # RRF's k when fusion="rrf" is asked for
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


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


def needs_query_vector(mode: str, learned: Learned | None) -> bool:
    """Return whether a search must encode its query: the dense leg, or judgments of similar queries."""
    # Keyword mode needs the vector only for the similarity boost; with no judgments it is skipped.
    return mode in ("hybrid", "dense") or bool(learned)


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
    fusion: str = DEFAULT_FUSION,
    alpha: float = DEFAULT_ALPHA,
    rrf_k: int | None = None,
    norm: str = DEFAULT_NORM,
    expand: Callable[[str], str] | None = None,
    query_vector: np.ndarray | None = None,
    exclude: set[int] | None = None,
    learned: Learned | None = None,
) -> list[Hit]:
    """Return the top-k entries for a query, fusing keyword and semantic ranks under the filters.

    `alpha` is the dense leg's share in both fusions (under RRF, 0.5: both legs count the same, plain RRF);
    `learned` adds the boost from earlier judgments of similar queries (None or empty: no change).
    """
    if mode not in SEARCH_MODES:
        raise KBError(f"argument 'mode': unknown mode '{mode}' (expected one of {', '.join(SEARCH_MODES)})")
    if fusion not in FUSIONS:
        raise KBError(f"argument 'fusion': unknown fusion '{fusion}' (expected one of {', '.join(FUSIONS)})")
    if norm not in NORMALISATIONS:
        raise KBError(
            f"argument 'norm': unknown normalisation '{norm}' (expected one of {', '.join(NORMALISATIONS)})"
        )
    if not 0.0 <= alpha <= 1.0:
        raise KBError(f"argument 'alpha': must be between 0 and 1, got {alpha}")
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
    vector = query_vector
    if vector is None and query.strip() and needs_query_vector(mode, learned):
        vector = embedder.encode([query])[0]
    if mode in ("hybrid", "dense") and vector is not None:
        dense_seqs, dense_sims = index.search(vector, depth, allowed)

    kw_rank = {s: i + 1 for i, (s, _) in enumerate(x for x in keyword if x[0] not in exclude)}
    kw_score = dict(keyword)
    dn = [(int(s), float(v)) for s, v in zip(dense_seqs, dense_sims, strict=True) if int(s) not in exclude]
    dn_rank = {s: i + 1 for i, (s, _) in enumerate(dn)}
    dn_score = dict(dn)

    fused = fuse(kw_rank, kw_score, dn_rank, dn_score, fusion, alpha, rrf_k or RRF_K, norm)
    scores, boosts, related = dict(fused), {}, {}
    if learned:
        scale = max(fused.values(), default=0.0) or 1.0
        # An entry neither leg found starts as the last candidate, then takes its boosts like the others.
        floor = min(fused.values(), default=0.0)
        # 1. Judgments of similar queries: helped entries move up (and may join), not-relevant ones sink.
        if vector is not None:
            found = {s: b for s, b in learned.boosts(vector).items() if s not in exclude}
            joining = _may_join(store, allowed, {s for s, b in found.items() if b.value > 0} - scores.keys())
            boosts = {s: b for s, b in found.items() if s in scores or s in joining}
            for seq, boost in boosts.items():
                scores[seq] = scores.get(seq, floor) + learned.weight * boost.value * scale
        # 2. The best match so far (the legs and step 1) passes its links on: entries that helped together
        # with it for earlier queries move up, however this query is worded.
        if scores:
            best_match = min(scores, key=lambda s: (-scores[s], s))
            found = {s: r for s, r in learned.related(best_match).items() if s not in exclude}
            joining = _may_join(store, allowed, found.keys() - scores.keys())
            related = {s: r for s, r in found.items() if s in scores or s in joining}
            for seq, link in related.items():
                scores[seq] = scores.get(seq, floor) + link.value * scale
    ranked = sorted(scores, key=lambda s: (-scores[s], s))[:k]
    entries, links = store.get_many_with_links([format_id(s) for s in ranked])
    wanted = set(query_terms(query)) if query.strip() else set()
    hits = []
    for position, seq in enumerate(ranked, start=1):
        entry = entries[format_id(seq)]
        # The user's own words pick and mark the snippet (expansion synonyms would pull it elsewhere).
        snippet = best_sentence(entry.text, query)
        if seq in kw_rank:
            snippet = highlight(snippet, query)
        explain: dict[str, object] = {
            # Only the keyword leg's candidates can have matched words worth showing (the others ranked
            # below its depth); skipping the rest keeps the explanation off the latency budget.
            "matched_words": matched_words(entry.search_text(), wanted) if seq in kw_rank else [],
            "semantic_similarity": None if seq not in dn_score else round(dn_score[seq], 4),
            "keyword_score": None if seq not in kw_rank else round(kw_score[seq], 4),
            "fused_score": round(fused.get(seq, 0.0), 6),
        }
        if seq in boosts:
            explain["judgment_boost"] = boosts[seq].to_dict()
        if seq in related:
            explain["related_boost"] = related[seq].to_dict()
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
                explain=explain,
            )
        )
    return hits


def _may_join(store: Store, allowed: np.ndarray | None, seqs: set[int]) -> set[int]:
    """Return the entries, of those neither leg found, that may join the results: active and allowed."""
    if seqs and allowed is not None:
        seqs &= set(allowed.tolist())
    if not seqs:
        return set()
    live = store.get_many([format_id(s) for s in sorted(seqs)])
    return {s for s in seqs if format_id(s) in live and live[format_id(s)].status == "active"}


def matched_words(text: str, wanted: set[str]) -> list[str]:
    """Return the words of a text that share a stem with the query terms (first spelling of each stem)."""
    out: dict[str, str] = {}
    for word in dict.fromkeys(words(text)):  # each distinct word once: stemming is the cost
        root = stem(word)
        if root in wanted and root not in out:
            out[root] = word
    return list(out.values())


def fuse(
    kw_rank: dict[int, int],
    kw_score: dict[int, float],
    dn_rank: dict[int, int],
    dn_score: dict[int, float],
    fusion: str = DEFAULT_FUSION,
    alpha: float = DEFAULT_ALPHA,
    rrf_k: int = RRF_K,
    norm: str = DEFAULT_NORM,
) -> dict[int, float]:
    """Return a fused score per candidate (higher is better); alpha is the dense leg's share."""
    candidates = set(kw_rank) | set(dn_rank)
    if fusion == "rrf":
        # Weights 2*alpha and 2*(1 - alpha): alpha = 0.5 gives plain RRF's scores exactly.
        wd, wk = 2 * alpha, 2 * (1 - alpha)
        return {
            s: (wk / (rrf_k + kw_rank[s]) if s in kw_rank else 0.0)
            + (wd / (rrf_k + dn_rank[s]) if s in dn_rank else 0.0)
            for s in candidates
        }
    kw = normalise({s: kw_score[s] for s in kw_rank}, norm)
    dn = normalise({s: dn_score[s] for s in dn_rank}, norm)
    # A candidate missing from one leg gets that leg's floor (0 after min-max / max scaling).
    floor_kw = min(kw.values(), default=0.0) if norm == "zscore" else 0.0
    floor_dn = min(dn.values(), default=0.0) if norm == "zscore" else 0.0
    return {s: alpha * dn.get(s, floor_dn) + (1 - alpha) * kw.get(s, floor_kw) for s in candidates}


def normalise(values: dict[int, float], norm: str = DEFAULT_NORM) -> dict[int, float]:
    """Return one leg's scores on a common scale: min-max to [0, 1], divided by the maximum, or z-scores."""
    if not values:
        return {}
    arr = np.array(list(values.values()), dtype=np.float64)
    if norm == "max":
        # The largest magnitude, not the largest value: cosine similarities can all be negative (a query
        # unlike every entry a filter leaves), and dividing by a negative maximum would reverse the order.
        # Whenever the largest value is also the largest magnitude (BM25 always) this is the maximum.
        top = float(np.abs(arr).max()) or 1.0
        return {s: v / top for s, v in values.items()}
    if norm == "zscore":
        mean, std = float(arr.mean()), float(arr.std()) or 1.0
        return {s: (v - mean) / std for s, v in values.items()}
    lo, hi = float(arr.min()), float(arr.max())
    span = hi - lo or 1.0
    return {s: (v - lo) / span for s, v in values.items()}
