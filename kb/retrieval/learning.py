"""Learning from judgments: a query-similarity boost, links between entries, and a cross-validated alpha.

A judgment says that an entry helped (or was not relevant) for a query. Judgments act in three ways:
- similar queries: when a new query is close in meaning to judged ones, the entries judged for them move
  up (or down) in proportion to that closeness;
- entries that helped together: entries judged helpful for the same query are linked (often one problem
  written down in different words: the operator's cue, the sending site's know-how, the receiving site's
  deviation). When a new query's best match is one of them, the others move up, however the new query
  is worded;
- with enough judged queries, the dense share of the fusion (alpha) is tuned for this knowledge base, but
  only when the tuned choice beats the default on judgments it was not chosen on (k-fold cross-validation).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from kb.models import format_id

# Cosine between MiniLM query vectors below which a judgment says nothing about the new query. Queries
# that share no relevant entry reach 0.59 (cgt_dev) and 0.68 (samples), and at a floor of 0.5 their
# judgments cost up to 0.04 nDCG on held-out queries (docs/benchmarks.md); above 0.7 are rewordings
# and repeats of one question (the same query again: 1.0).
SIM_FLOOR = 0.7
# The boost is added as a share of the best fused score of the query, so it means the same under RRF
# (scores ~0.03) and linear fusion (scores ~1): a full boost lifts an entry to the top.
BOOST_WEIGHT = 1.0
# Share of the best fused score an entry gains when it helped together with the query's best match (one
# earlier query: 0.4 * tanh(1) = 0.30; many: up to 0.4). Chosen with judgments simulated on half the
# queries of samples, cgt_dev and MaintNet and scored on the other half (bench/quality_learning.py,
# docs/benchmarks.md section 3b): of what the links add to the similarity boost, 0.4 had the best mean
# over the three sets among the weights whose worst set lost less than 0.002. Only the best match passes
# its links on: letting the second and third hits do so too cost the samples up to 0.03.
RELATED_WEIGHT = 0.4
ALPHA_GRID = (0.3, 0.4, 0.5, 0.6, 0.7)
# The search's default dense share (kb.retrieval.search.DEFAULT_ALPHA, which imports this module; a test
# checks that the two agree): tuning keeps it unless another alpha beats it.
DEFAULT_ALPHA = 0.4
MIN_TUNE_QUERIES = 10  # judged queries with at least one "helped" before tuning is tried
FOLDS = 5
TUNE_MARGIN = 0.01  # cross-validated nDCG gain the tuned alpha must show over the default
# ... and the gain must be clear of noise: the lower end of its paired 95% bootstrap interval over the
# judged queries above zero. With the margin alone, tuning chose another alpha on 3 of 92 simulated
# splits of samples, cgt_dev and MaintNet, and all 3 lowered nDCG@10 on the held-out queries (-0.021,
# -0.011, -0.007; none of the 3 gains was clear of noise). docs/benchmarks.md section 3b.
TUNE_CONFIDENCE = 0.95
TUNE_BOOTSTRAP = 2000
TUNE_MAX_QUERIES = 200  # the most recent judged queries are enough and bound the tuning time
RECHECK_SECONDS = 10.0  # how stale another process's judgments may be; this process's own are at once


@dataclass(frozen=True)
class Judgment:
    """One stored judgment: a query, an entry (by seq), helped or not, who and when, the query's vector."""

    query: str
    seq: int
    helped: bool
    user: str | None
    at: str
    vector: np.ndarray


@dataclass
class Boost:
    """What the judgments did to one entry for one query: the boost in [-1, 1] and its evidence."""

    value: float
    helped: int = 0
    not_relevant: int = 0
    evidence: list[tuple[str, float, str]] = field(default_factory=list)  # (query, similarity, judgment)

    def to_dict(self) -> dict[str, Any]:
        """Return the boost as JSON-ready data (the strongest three judgments as evidence)."""
        return {
            "value": round(self.value, 4),
            "helped": self.helped,
            "not_relevant": self.not_relevant,
            "because": [
                {"query": q, "similarity": round(s, 3), "judgment": j} for q, s, j in self.evidence[:3]
            ],
        }


@dataclass
class Related:
    """What the links did to one entry: it helped together with the query's best match for earlier queries."""

    value: float  # the share of the query's best fused score added: RELATED_WEIGHT * tanh(queries)
    best_match: int  # the query's first hit before links (the legs and the similarity boost)
    queries: list[str] = field(default_factory=list)  # the earlier queries both entries helped for

    def to_dict(self) -> dict[str, Any]:
        """Return the link boost as JSON-ready data (the best match by id, the first three queries)."""
        return {
            "value": round(self.value, 4),
            "best_match": format_id(self.best_match),
            "judged_together": len(self.queries),
            "because": self.queries[:3],
        }


@dataclass
class Tuning:
    """The outcome of tuning alpha on judged queries (alpha None: the default stays)."""

    alpha: float | None
    default_alpha: float
    queries: int
    cv_default: float | None = None
    cv_tuned: float | None = None
    cv_gain_low: float | None = None  # lower end of the cross-validated gain's 95% interval
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the tuning outcome as JSON-ready data."""
        return {
            "alpha": self.alpha,
            "default_alpha": self.default_alpha,
            "judged_queries": self.queries,
            "cv_ndcg_default": None if self.cv_default is None else round(self.cv_default, 4),
            "cv_ndcg_tuned": None if self.cv_tuned is None else round(self.cv_tuned, 4),
            "cv_gain_low": None if self.cv_gain_low is None else round(self.cv_gain_low, 4),
            "reason": self.reason,
        }


class Learned:
    """The judgments in memory, ready to boost a query's candidates; empty (falsy) when there are none."""

    def __init__(
        self,
        judgments: Sequence[Judgment],
        *,
        weight: float = BOOST_WEIGHT,
        related_weight: float = RELATED_WEIGHT,
        tuning: Tuning | None = None,
    ) -> None:
        self.judgments = list(judgments)
        self.weight = weight
        self.related_weight = related_weight
        self.tuning = tuning
        self._together = helped_together((j.query, j.seq, j.helped, j.at) for j in self.judgments)
        dim = self.judgments[0].vector.shape[0] if self.judgments else 0
        self._matrix = (
            np.vstack([j.vector for j in self.judgments]).astype(np.float32)
            if self.judgments
            else np.zeros((0, dim), dtype=np.float32)
        )
        self._sign = np.array([1.0 if j.helped else -1.0 for j in self.judgments])

    def __bool__(self) -> bool:
        return bool(self.judgments)

    def __len__(self) -> int:
        return len(self.judgments)

    @property
    def alpha(self) -> float | None:
        """The tuned dense share, or None when tuning did not beat the default."""
        return self.tuning.alpha if self.tuning else None

    def without(self, query: str) -> Learned:
        """Return the judgments less those made for exactly this query (for leave-one-out evaluation)."""
        return Learned(
            [j for j in self.judgments if j.query != query],
            weight=self.weight,
            related_weight=self.related_weight,
            tuning=self.tuning,
        )

    @property
    def links(self) -> int:
        """Return how many pairs of entries helped together for some query."""
        return sum(len(others) for others in self._together.values()) // 2

    def related(self, best_match: int) -> dict[int, Related]:
        """Return the boost per entry that helped together with the best match: related_weight * tanh(queries)."""
        return {
            seq: Related(self.related_weight * math.tanh(len(queries)), best_match, queries)
            for seq, queries in sorted(self._together.get(best_match, {}).items())
        }

    def boosts(self, vector: np.ndarray) -> dict[int, Boost]:
        """Return the boost per judged entry for a query vector (entries with no close judgment left out)."""
        if not self.judgments:
            return {}
        sims = self._matrix @ np.asarray(vector, dtype=np.float32)
        closeness = np.clip((sims - SIM_FLOOR) / (1 - SIM_FLOOR), 0.0, 1.0)
        total: dict[int, float] = {}
        out: dict[int, Boost] = {}
        for i in np.flatnonzero(closeness > 0):
            j = self.judgments[int(i)]
            total[j.seq] = total.get(j.seq, 0.0) + float(closeness[i] * self._sign[i])
            b = out.setdefault(j.seq, Boost(0.0))
            if j.helped:
                b.helped += 1
            else:
                b.not_relevant += 1
            b.evidence.append((j.query, float(sims[i]), "helped" if j.helped else "not relevant"))
        for seq, b in out.items():
            # tanh: a few close judgments count almost fully, many more cannot outweigh the query itself.
            b.value = math.tanh(total[seq])
            b.evidence.sort(key=lambda e: (-e[1], e[0]))
        return {s: b for s, b in out.items() if b.value != 0.0}


def ndcg_helped(ranked: Sequence[int], helped: set[int], k: int = 10) -> float:
    """Return nDCG@k of a ranking where the entries judged helpful count 1 and everything else 0."""
    dcg = sum(1 / math.log2(i + 2) for i, s in enumerate(ranked[:k]) if s in helped)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(helped))))
    return dcg / ideal if ideal else 0.0


def helped_sets(verdicts: Iterable[tuple[str, int, bool, str]]) -> dict[str, set[int]]:
    """Return, per query, the entries whose latest judgment for it (query, seq, helped, at) is "helped".

    The latest judgment of an entry for a query wins (a user may change their mind); queries left with
    no helpful entry are left out. Queries keep the order of their first judgment.
    """
    latest: dict[tuple[str, int], bool] = {}
    for query, seq, helped, _ in sorted(verdicts, key=lambda v: v[3]):
        latest[(query, seq)] = helped
    out: dict[str, set[int]] = {}
    for (query, seq), helped in latest.items():
        entries = out.setdefault(query, set())
        if helped:
            entries.add(seq)
    return {q: entries for q, entries in out.items() if entries}


def judged_queries(judgments: Sequence[Judgment]) -> dict[str, tuple[np.ndarray, set[int]]]:
    """Return, per judged query with at least one helpful entry, its vector and the entries that helped."""
    vectors: dict[str, np.ndarray] = {}
    for j in sorted(judgments, key=lambda j: j.at):
        vectors.setdefault(j.query, j.vector)
    helped = helped_sets((j.query, j.seq, j.helped, j.at) for j in judgments)
    return {q: (vectors[q], entries) for q, entries in helped.items()}


def helped_together(verdicts: Iterable[tuple[str, int, bool, str]]) -> dict[int, dict[int, list[str]]]:
    """Return, per entry, the other entries judged helpful for the same query, with those queries.

    Takes (query, seq, helped, at) verdicts: what the store holds, no model needed.
    """
    together: dict[int, dict[int, list[str]]] = {}
    for query, helped in helped_sets(verdicts).items():
        for a in helped:
            for b in helped - {a}:
                together.setdefault(a, {}).setdefault(b, []).append(query)
    return together


def tune_alpha(
    judged: dict[str, tuple[np.ndarray, set[int]]],
    rank: Callable[[str, np.ndarray, float], list[int]],
    *,
    default: float = DEFAULT_ALPHA,
    grid: Sequence[float] = ALPHA_GRID,
    folds: int = FOLDS,
    min_queries: int = MIN_TUNE_QUERIES,
    margin: float = TUNE_MARGIN,
    confidence: float | None = TUNE_CONFIDENCE,
) -> Tuning:
    """Return the alpha to use: the best on all judged queries, if k-fold CV shows choosing it beats the default.

    `rank(query, vector, alpha)` returns the ranked seqs of a search without the learned boost. The gain
    must exceed `margin` and, unless `confidence` is None (the margin alone, for measurements), the lower
    end of its paired bootstrap interval must be above zero.
    """
    queries = sorted(judged)
    if len(queries) < min_queries:
        return Tuning(
            None, default, len(queries), reason=f"{len(queries)} judged queries, tuning needs {min_queries}"
        )
    grid = sorted(set(grid) | {default})
    scores = np.array([[ndcg_helped(rank(q, judged[q][0], a), judged[q][1]) for a in grid] for q in queries])
    d = grid.index(default)
    held_out = np.zeros(len(queries))
    for f in range(folds):
        test = np.arange(f, len(queries), folds)
        train = np.setdiff1d(np.arange(len(queries)), test)
        held_out[test] = scores[test, _best(scores[train], grid, default)]
    cv_default, cv_tuned = float(scores[:, d].mean()), float(held_out.mean())
    level = TUNE_CONFIDENCE if confidence is None else confidence
    low = gain_lower_bound(held_out - scores[:, d], level)
    best = grid[_best(scores, grid, default)]
    facts = (best, default, len(queries), cv_default, cv_tuned, low)
    if best == default or cv_tuned <= cv_default + margin:
        reason = (
            f"default kept: cross-validated nDCG {cv_tuned:.3f} when tuned vs {cv_default:.3f} for {default}"
        )
        return Tuning(None, *facts[1:], reason=reason)
    if confidence is not None and low <= 0:
        reason = (
            f"default kept: cross-validated nDCG {cv_tuned:.3f} when tuned vs {cv_default:.3f} for {default}, "
            f"a gain not clear of noise ({level:.0%} interval from {low:+.3f})"
        )
        return Tuning(None, *facts[1:], reason=reason)
    reason = (
        f"alpha {best} chosen: cross-validated nDCG {cv_tuned:.3f} vs {cv_default:.3f} for {default} "
        f"(gain's {level:.0%} interval from {low:+.3f})"
    )
    return Tuning(*facts, reason=reason)


def gain_lower_bound(gains: np.ndarray, confidence: float = TUNE_CONFIDENCE, seed: int = 0) -> float:
    """Return the lower end of the paired bootstrap interval of the mean of per-query gains."""
    rng = np.random.default_rng(seed)  # fixed: the same judgments always give the same decision
    means = gains[rng.integers(0, len(gains), size=(TUNE_BOOTSTRAP, len(gains)))].mean(axis=1)
    return float(np.percentile(means, 100 * (1 - confidence) / 2))


def _best(scores: np.ndarray, grid: Sequence[float], default: float) -> int:
    """Return the column with the best mean; ties go to the alpha closest to the default."""
    means = scores.mean(axis=0)
    return min(range(len(grid)), key=lambda i: (-round(float(means[i]), 12), abs(grid[i] - default), grid[i]))


class FeedbackSource(Protocol):
    """What the learner reads from the store."""

    def feedback_stamp(self) -> tuple[int, int]:
        """Return (number of judgments, highest judgment id)."""
        ...

    def feedback_rows(self) -> list[dict[str, Any]]:
        """Return every judgment, oldest first."""
        ...


class Learner:
    """Holds the judgments of one knowledge base in memory and reloads them only when they changed."""

    def __init__(self, source: FeedbackSource, *, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.source = source
        self.recheck_seconds = recheck_seconds
        self._stamp: tuple[int, int] | None = None
        self._checked = -math.inf
        self._learned = Learned([])
        self._tuned_on = 0  # judged queries when alpha was last tuned

    def invalidate(self) -> None:
        """Forget the cached judgments (this process just stored one)."""
        self._checked = -math.inf

    def current(
        self,
        fingerprint: str,
        encode: Callable[[list[str]], np.ndarray],
        rank: Callable[[str, np.ndarray, float], list[int]] | None = None,
        default_alpha: float = DEFAULT_ALPHA,
    ) -> Learned:
        """Return the judgments as of now (at most `recheck_seconds` stale for other processes' writes)."""
        now = time.monotonic()
        if now - self._checked < self.recheck_seconds:
            return self._learned
        self._checked = now
        stamp = self.source.feedback_stamp()
        if stamp == self._stamp:
            return self._learned
        # No judgment stored (the usual case): nothing more to read.
        judgments = (
            [] if stamp == (0, 0) else load_judgments(self.source.feedback_rows(), fingerprint, encode)
        )
        tuning = self._learned.tuning
        if rank is not None:
            judged = judged_queries(judgments)
            # Tuning runs len(ALPHA_GRID) searches per judged query: redo it only when the judged queries
            # grew by a fifth since the last time, not after every click.
            n = len(judged)
            if tuning is None or n < MIN_TUNE_QUERIES or n >= math.ceil(1.2 * self._tuned_on):
                recent = dict(list(judged.items())[-TUNE_MAX_QUERIES:])  # judged_queries keeps time order
                tuning = tune_alpha(recent, rank, default=default_alpha)
                self._tuned_on = n
        self._learned = Learned(judgments, tuning=tuning)
        self._stamp = stamp
        return self._learned


def load_judgments(
    rows: Sequence[dict[str, Any]], fingerprint: str, encode: Callable[[list[str]], np.ndarray]
) -> list[Judgment]:
    """Return judgments from stored rows; queries judged under another model are encoded again."""
    stale = sorted({r["query"] for r in rows if r["fingerprint"] != fingerprint or r["vector"] is None})
    fresh = dict(zip(stale, encode(stale), strict=True)) if stale else {}
    return [
        Judgment(
            query=r["query"],
            seq=int(r["seq"]),
            helped=r["judgment"] == "helped",
            user=r["user"],
            at=r["at"],
            vector=fresh[r["query"]] if r["query"] in fresh else r["vector"],
        )
        for r in rows
    ]
