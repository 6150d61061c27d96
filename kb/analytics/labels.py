"""Cluster labels: tokenizer, stop words (English, domain boilerplate, units) and class-based TF-IDF."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np


def _words(text: str) -> list[str]:
    return text.split()


# Words that appear in nearly every deviation narrative and so say nothing about the problem.
DOMAIN_STOP_WORDS: frozenset[str] = frozenset(
    _words(
        """
    deviation deviations deviated batch batches lot lots sop sops record records recorded per
    procedure procedures observed noted found reported report reports event events occurred occur
    issue issues dev devs br ebr mbr ref reference number no nr id date time day days week weeks
    month months year years am pm approx approximately ca within also due result resulted
    product products potential potentially
    """
    )
)
# Units and unit-like tokens: a label "ml min" is noise (numbers are dropped by the tokenizer).
UNIT_STOP_WORDS: frozenset[str] = frozenset(
    _words(
        """
    ml l ul µl μl mg g kg ug µg μg ng pg um µm μm nm mm cm m min mins minute minutes h hr hrs hour hours
    sec secs second seconds s rpm psi bar mbar kpa pa c degc deg degrees f pct percent x vvm lpm
    mol mmol mm umol mosm mosmol iu cfu eu tu vg gc kda da ppm ppb
    """
    )
)

_TOKEN_RE = re.compile(r"(?u)\b[^\W_][\w\-]*[^\W_]\b|\b[^\W\d_]\b")


def _tokenize(text: str) -> list[str]:
    """Split lower-cased text into word tokens, dropping numbers and id-like codes."""
    out = []
    for tok in _TOKEN_RE.findall(text.lower()):
        tok = tok.strip("-")
        if len(tok) < 2:
            continue
        digits = sum(ch.isdigit() for ch in tok)
        # Numbers, lot codes (B12345, 2024-001) carry no meaning across documents; keep p24, co2.
        if digits and digits * 2 >= len(tok):
            continue
        out.append(tok)
    return out


def label_stop_words(extra: Sequence[str] = ()) -> list[str]:
    """Return the words that never label or group a cluster: English, domain boilerplate, units."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(set(ENGLISH_STOP_WORDS) | DOMAIN_STOP_WORDS | UNIT_STOP_WORDS | set(extra))


def ctfidf_labels(
    groups: Sequence[Sequence[str]],
    *,
    n_terms: int = 5,
    extra_stop_words: Sequence[str] = (),
    background: Sequence[str] = (),
) -> list[list[str]]:
    """Return the top terms of each group of texts by class-based TF-IDF (unigrams and bigrams).

    background: texts that belong to no group (the unclustered remainder); they count toward how
    common a term is but get no label.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if not groups:
        return []
    stop = label_stop_words(extra_stop_words)
    docs: list[str] = []
    owner: list[int] = []
    for g, texts in enumerate([*groups, background]):
        for text in texts:
            docs.append(text or "")
            owner.append(g)
    # binary=True: a word repeated in one narrative counts once, so one verbose record cannot
    # dominate its cluster's label; the term frequency is the share of members that use the term.
    cv = CountVectorizer(
        tokenizer=_tokenize,
        token_pattern=None,
        lowercase=False,
        stop_words=stop,
        ngram_range=(1, 2),
        binary=True,
    )
    try:
        dtm = cv.fit_transform(docs)
    except ValueError:  # every document empty after stop-word removal
        return [[] for _ in groups]
    vocab = cv.get_feature_names_out()
    n_groups = len(groups)
    n_classes = n_groups + (1 if background else 0)
    from scipy import sparse

    assign = sparse.csr_matrix(
        (np.ones(len(owner)), (np.array(owner), np.arange(len(owner)))), shape=(n_groups + 1, len(owner))
    )
    class_counts = np.asarray((assign @ dtm).todense(), dtype=np.float64)  # classes x terms (doc counts)
    sizes = np.array([max(len(g), 1) for g in [*groups, background]], dtype=np.float64)
    tf = class_counts / sizes[:, None]
    # Lift: a label term must be more common in its group than in the whole corpus; a word every
    # group uses equally ("pump" in a pump-heavy process) says nothing about this group.
    overall = class_counts.sum(axis=0) / max(len(docs), 1)
    # BERTopic's c-TF-IDF weight: idf = log(1 + A / f_t), A = mean term count per class,
    # f_t = the term's count over all classes.
    freq = class_counts.sum(axis=0)
    avg = class_counts.sum() / n_classes
    idf = np.log1p(avg / np.maximum(freq, 1e-12))
    scores = tf * idf
    out: list[list[str]] = []
    for g in range(n_groups):
        row = scores[g]
        over = tf[g] > overall + 1e-12 if n_classes > 1 else np.ones_like(row, dtype=bool)
        cand = np.flatnonzero((row > 0) & over)
        # Deterministic order: score desc; on a tie the bigram (more specific), then term text.
        ranked = sorted(cand, key=lambda j: (-round(float(row[j]), 12), -vocab[j].count(" "), vocab[j]))
        chosen: list[str] = []
        covered: set[str] = set()
        for j in ranked:
            term = str(vocab[j])
            words = term.split()
            # Skip a term whose words are all already shown ("sterility" after "lack sterility").
            if all(w in covered for w in words):
                continue
            chosen.append(term)
            covered.update(words)
            if len(chosen) >= n_terms:
                break
        out.append(chosen)
    return out
