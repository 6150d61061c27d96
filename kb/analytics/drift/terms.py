"""The term-burst detector: a word that was rare in the record suddenly appears in many deviations.

Clusters are failure modes. A wave about one material or product (methanol in hand sanitiser, NDMA in
sartans) is filed under many failure modes, so no cluster is mostly about it; the word is. Each
salient word (in at least `min_docs` deviations and at most `max_share` of them: rarer words cannot
rise, commoner ones are what clusters are for) that was rare in the baseline gets the same CUSUM chart as a cluster (rising.py),
over the deviations whose text holds it, with its own share of the false-alarm budget split over all
watched words. Shuffled dates move each record's words with it, so the calibration null covers it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from kb.analytics.drift.context import _Context
from kb.analytics.drift.model import DriftRecord, PeriodCounts, Signal
from kb.analytics.drift.rising import _rising, baseline_length
from kb.retrieval.tokens import STOP_WORDS

_WORD = re.compile(r"[a-z][a-z-]{3,}[a-z]")
# Function words (search's list, plus the longer ones it does not need): never a wave of their own.
_STOP = STOP_WORDS | frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "along",
        "also",
        "although",
        "among",
        "another",
        "because",
        "before",
        "being",
        "below",
        "between",
        "both",
        "cannot",
        "could",
        "doing",
        "down",
        "during",
        "each",
        "either",
        "every",
        "further",
        "having",
        "here",
        "itself",
        "just",
        "more",
        "most",
        "much",
        "must",
        "neither",
        "other",
        "otherwise",
        "same",
        "should",
        "since",
        "some",
        "such",
        "those",
        "through",
        "under",
        "until",
        "upon",
        "very",
        "within",
        "without",
    ]
)
MIN_DOCS = 8
MAX_SHARE = 0.05
# A burst QA should read: enough deviations, from more than one or two sites (one firm recalling many
# products on one day is the site-concentration detector's business, not a wave across the record).
MIN_BURST = 8
MIN_BURST_SITES = 3
TERM_PREFIX = "term:"


def record_terms(
    texts: Mapping[str, str], *, min_docs: int = MIN_DOCS, max_share: float = MAX_SHARE
) -> dict[str, tuple[str, ...]]:
    """Return {entry id: the salient words of its text}, words as in the module docstring, sorted."""
    words = {
        eid: sorted({w for w in _WORD.findall(text.lower()) if w not in _STOP}) for eid, text in texts.items()
    }
    df = Counter(w for ws in words.values() for w in ws)
    cap = max(min_docs, int(max_share * len(texts)))
    kept = {w for w, n in df.items() if min_docs <= n <= cap}
    return {eid: tuple(w for w in ws if w in kept) for eid, ws in words.items() if any(w in kept for w in ws)}


def term_counts(
    ctx: _Context, entry_terms: Mapping[str, Sequence[str]]
) -> tuple[list[DriftRecord], PeriodCounts]:
    """Return one record per (deviation, word) and the per-word counts on the record's own periods."""
    counts = ctx.counts
    n = len(counts.periods)
    recs: list[DriftRecord] = []
    by_term: dict[str, list[int]] = {}
    for r in ctx.recs:
        i = ctx.pidx.get(r.entry_id)
        if i is None:
            continue
        for word in entry_terms.get(r.entry_id, ()):
            recs.append(DriftRecord(r.entry_id, word, r.occurred_at, r.site))
            by_term.setdefault(word, [0] * n)[i] += 1
    masked = {
        w: [None if counts.is_gap(i) else c for i, c in enumerate(row)] for w, row in sorted(by_term.items())
    }
    return recs, PeriodCounts(counts.period, counts.periods, counts.gaps, counts.total, masked, {})


def _term_bursts(
    ctx: _Context,
    entry_terms: Mapping[str, Sequence[str]],
    *,
    min_burst: int = MIN_BURST,
    min_sites: int = MIN_BURST_SITES,
    **rising_kwargs: Any,
) -> tuple[list[Signal], dict[str, Any]]:
    """Run the rising chart over every salient word; return term_burst signals and the budget info."""
    recs, counts = term_counts(ctx, entry_terms)
    # Only words that were rare in the baseline (at most the chart's floor of mu0_floor per period): a word
    # already common there belongs to some failure mode's vocabulary, and its rise is the cluster chart's
    # job. This also bounds the work: every watched word then shares the floor's few thresholds.
    base_n = baseline_length(
        len(counts.periods),
        ctx.period,
        rising_kwargs.get("baseline_periods"),
        rising_kwargs["min_baseline_periods"],
    )
    base_active = sum(1 for i in range(base_n) if not counts.is_gap(i)) or 1
    floor = rising_kwargs["mu0_floor"] * base_active
    counts.by_cluster = {
        w: row for w, row in counts.by_cluster.items() if sum(c or 0 for c in row[:base_n]) <= floor
    }
    watched = set(counts.by_cluster)
    recs = [r for r in recs if r.cluster_id in watched]
    if not counts.by_cluster:
        return [], {"rate_per_year": None, "note": "no word is in enough deviations to be watched"}
    word_ctx = _Context(recs, counts, ctx.period, None)
    # Every watched word sits at the floor (rare in the baseline, filtered above), so its in-control mean
    # is the floor itself, not an estimate: one threshold serves them all.
    charted, info = _rising(word_ctx, baseline_uncertainty=False, **rising_kwargs)
    info["n_terms"] = info.pop("n_clusters", len(counts.by_cluster))
    info["per_term"] = info.pop("per_cluster", {})
    site_of = {r.entry_id: r.site for r in ctx.recs}
    sites_known = any(site is not None for site in site_of.values())
    signals = [
        s
        for s in charted
        if len(s.entry_ids) >= min_burst
        and (not sites_known or len({site_of[e] for e in s.entry_ids} - {None}) >= min_sites)
    ]
    base = info.get("baseline")
    base_n = counts.periods.index(base[1]) + 1 if base else 0
    for s in signals:
        word = s.cluster_id
        before = sum(c or 0 for c in counts.by_cluster[word][:base_n])
        n_sites = len({site_of[e] for e in s.entry_ids} - {None})
        s.kind = "term_burst"
        s.cluster_id = TERM_PREFIX + word
        s.details["term"] = word
        s.details["words"] = [word]
        s.message = (
            f'"{word}" appears in {len(s.entry_ids)} deviations since {s.start_period} '
            f"(alarm {s.details['alarm_period']}{f', {n_sites} sites' if sites_known else ''}), "
            f"against {before} in the baseline {base[0]}..{base[1]}; "
            if base
            else ""
        ) + s.message[s.message.index("CUSUM") :]
    return _merge_waves(signals), info


def _merge_waves(signals: list[Signal]) -> list[Signal]:
    """Fold bursts of words that mark the same deviations (one wave, many words) into the largest one."""
    kept: list[Signal] = []
    for s in sorted(signals, key=lambda s: (-len(s.entry_ids), s.cluster_id, s.start_period)):
        ids = set(s.entry_ids)
        for wave in kept:
            shared = len(ids & set(wave.entry_ids))
            if shared >= 0.5 * len(ids):  # most of this word's deviations are already in that wave
                if s.details["term"] not in wave.details["words"]:
                    wave.details["words"].append(s.details["term"])
                break
        else:
            kept.append(s)
    for wave in kept:
        if len(wave.details["words"]) > 1:
            others = ", ".join(f'"{w}"' for w in wave.details["words"][1:6])
            more = len(wave.details["words"]) - 6
            wave.message += f" Same deviations: {others}{f' and {more} more words' if more > 0 else ''}."
    return sorted(kept, key=lambda s: (s.start_period, s.cluster_id))
