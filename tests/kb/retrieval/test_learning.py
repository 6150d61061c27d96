"""The learning logic alone: the similarity-weighted boost and the cross-validated alpha (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from kb.retrieval.learning import (
    RELATED_WEIGHT,
    SIM_FLOOR,
    Judgment,
    Learned,
    Learner,
    judged_queries,
    ndcg_helped,
    tune_alpha,
)


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def judgment(query: str, seq: int, helped: bool, vector: np.ndarray, at: str = "2026-01-01") -> Judgment:
    return Judgment(query, seq, helped, "ana", at, vector)


def test_boost_grows_with_query_similarity_and_ignores_distant_queries():
    q = unit(1, 0, 0)
    learned = Learned(
        [
            judgment("same problem", 7, True, unit(1, 0.1, 0)),
            judgment("other problem", 9, True, unit(0, 1, 0)),  # cosine 0: below the floor
            judgment("same problem", 8, False, unit(1, 0.1, 0)),
        ]
    )
    boosts = learned.boosts(q)
    assert set(boosts) == {7, 8}
    assert boosts[7].value > 0.5 and boosts[8].value < -0.5
    assert boosts[7].evidence[0][0] == "same problem" and boosts[7].helped == 1
    closer = Learned([judgment("a", 7, True, unit(1, 0.2, 0))]).boosts(q)[7].value
    farther = Learned([judgment("a", 7, True, unit(1, 0.8, 0))]).boosts(q)[7].value
    assert closer > farther > 0
    assert float(unit(1, 0.8, 0) @ q) > SIM_FLOOR


def test_boost_is_bounded_and_opposite_judgments_cancel():
    q = unit(1, 0, 0)
    many = Learned([judgment(f"q{i}", 3, True, q) for i in range(50)]).boosts(q)[3].value
    assert 0.99 < many <= 1.0
    assert Learned([judgment("a", 3, True, q), judgment("b", 3, False, q)]).boosts(q) == {}


def test_no_judgments_is_falsy_and_boosts_nothing():
    assert not Learned([]) and Learned([]).boosts(unit(1, 0)) == {} and Learned([]).alpha is None


def test_latest_judgment_of_a_query_and_entry_wins():
    v = unit(1, 0)
    judged = judged_queries(
        [
            judgment("q", 1, True, v, "2026-01-01"),
            judgment("q", 1, False, v, "2026-01-02"),
            judgment("r", 2, True, v, "2026-01-01"),
        ]
    )
    assert set(judged) == {"r"}, "'q' has no helpful entry left after the change of mind"


def test_ndcg_helped():
    assert ndcg_helped([1, 2, 3], {1}) == 1.0
    assert ndcg_helped([2, 1], {1}) == pytest.approx(1 / np.log2(3))
    assert ndcg_helped([2, 3], set()) == 0.0


def _judged(n: int) -> dict[str, tuple[np.ndarray, set[int]]]:
    return {f"q{i:02d}": (unit(1, i), {i}) for i in range(n)}


def test_alpha_is_tuned_when_it_wins_on_held_out_queries():
    # Entry i is ranked first only with alpha 0.7; with any other alpha it is ranked 11th (not found).
    def rank(query: str, vector: np.ndarray, alpha: float) -> list[int]:
        i = int(query[1:])
        return [i] if alpha == 0.7 else [1000 + j for j in range(10)] + [i]

    tuning = tune_alpha(_judged(12), rank)
    assert tuning.alpha == 0.7 and tuning.cv_tuned > tuning.cv_default
    assert "alpha 0.7 chosen" in tuning.reason


def test_default_is_kept_when_the_cross_validated_gain_is_not_clear_of_noise():
    # Two of 12 queries find their entry only with alpha 0.7; for the others every alpha is the same.
    def rank(query: str, vector: np.ndarray, alpha: float) -> list[int]:
        i = int(query[1:])
        return [i] if i >= 2 or alpha == 0.7 else []

    margin_only = tune_alpha(_judged(12), rank, confidence=None)
    assert margin_only.alpha == 0.7, "the gain (2 queries of 12) clears the margin"
    kept = tune_alpha(_judged(12), rank)
    assert kept.alpha is None and kept.cv_tuned == margin_only.cv_tuned and kept.cv_gain_low <= 0
    assert "not clear of noise (95% interval from" in kept.reason
    assert "(90% interval from" in tune_alpha(_judged(12), rank, confidence=0.9).reason

    def rank4(query: str, vector: np.ndarray, alpha: float) -> list[int]:
        i = int(query[1:])
        return [i] if i >= 4 or alpha == 0.7 else []

    tuned = tune_alpha(_judged(12), rank4)
    assert tuned.alpha == 0.7 and tuned.cv_gain_low > 0, "four of 12 queries: a clear gain"


def test_default_is_kept_when_tuning_does_not_generalise():
    # Each query prefers a different alpha: the best on the training folds does nothing held out.
    grid = (0.3, 0.4, 0.5, 0.6, 0.7)

    def rank(query: str, vector: np.ndarray, alpha: float) -> list[int]:
        i = int(query[1:])
        return [i] if grid[i % 5] == alpha else []

    tuning = tune_alpha(_judged(12), rank)
    assert tuning.alpha is None and "default kept" in tuning.reason


def test_too_few_judged_queries_are_not_tuned():
    tuning = tune_alpha(_judged(3), lambda q, v, a: [])
    assert tuning.alpha is None and "tuning needs" in tuning.reason


class _Source:
    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.stamps = 0

    def feedback_stamp(self) -> tuple[int, int]:
        self.stamps += 1
        return (len(self.rows), len(self.rows))

    def feedback_rows(self) -> list[dict]:
        return list(self.rows)


def test_learner_reads_the_store_at_most_once_per_interval_unless_invalidated():
    source = _Source()
    learner = Learner(source, recheck_seconds=3600)
    encode = lambda texts: np.vstack([unit(1, 0)] * len(texts))  # noqa: E731
    for _ in range(5):
        assert not learner.current("fp", encode)
    assert source.stamps == 1
    source.rows.append(
        {
            "query": "q",
            "seq": 4,
            "judgment": "helped",
            "user": "ana",
            "at": "t",
            "fingerprint": "old",
            "vector": None,
        }
    )
    assert not learner.current("fp", encode), "not re-read within the interval"
    learner.invalidate()
    learned = learner.current("fp", encode)
    assert len(learned) == 1 and learned.judgments[0].seq == 4, "another model's query is encoded again"


def test_entries_helped_for_the_same_query_are_linked_both_ways():
    v = unit(1, 0)
    learned = Learned(
        [
            judgment("filter choking", 1, True, v),
            judgment("filter choking", 2, True, v),
            judgment("filter choking", 3, False, v),  # not relevant: never linked
            judgment("strings in the bag", 1, True, unit(0, 1)),
            judgment("strings in the bag", 2, True, unit(0, 1)),
            judgment("strings in the bag", 4, True, unit(0, 1)),
        ]
    )
    assert learned.links == 3, "pairs 1-2, 1-4 and 2-4"
    related = learned.related(1)
    assert set(related) == {2, 4} and related[2].best_match == 1
    assert related[2].queries == ["filter choking", "strings in the bag"]
    assert related[2].value > related[4].value > 0, "two queries that judged both count more than one"
    assert related[2].value < RELATED_WEIGHT, "bounded: RELATED_WEIGHT * tanh of the number of queries"
    assert related[2].to_dict()["best_match"] == "KB-000001" and related[2].to_dict()["judged_together"] == 2
    assert learned.related(3) == {} and learned.related(99) == {}
    assert set(learned.without("strings in the bag").related(1)) == {2}


def test_a_change_of_mind_removes_the_link():
    v = unit(1, 0)
    learned = Learned(
        [
            judgment("q", 1, True, v, "2026-01-01"),
            judgment("q", 2, True, v, "2026-01-01"),
            judgment("q", 2, False, v, "2026-01-02"),
        ]
    )
    assert learned.links == 0 and learned.related(1) == {}
