"""Retrieval quality: nDCG@10 and recall@10 for hybrid, dense-only and keyword-only search, on two labelled sets.

    .venv/bin/python -m bench.quality [--maint-queries 0] [--no-docs]

(a) MaintNet problem -> fix (derived labels, see `maintnet_set`), and (b) bench/queries_samples.jsonl
over data/samples (written for this product). Fusion is tuned (RRF k, linear alpha) on the first half
of (b) and reported on its second half only; vocabulary query expansion is measured on and off on both.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    REPO,
    WORK,
    CachingEmbedder,
    load_maintnet,
    loadavg,
    machine_info,
    machine_line,
    save_result,
    say,
    table,
    write_section,
)

QUERIES_SAMPLES = REPO / "bench" / "queries_samples.jsonl"
RRF_GRID = (5, 10, 20, 30, 60, 100)
ALPHA_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class Query:
    """One labelled query."""

    id: str
    text: str
    relevant: set[str]
    notes: str = ""


# -- metrics --------------------------------------------------------------------------------------


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k."""
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Recall@k, capped: found / min(k, |relevant|), so a query with 30 relevant entries can reach 1."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / min(k, len(relevant))


def evaluate(rankings: dict[str, list[str]], queries: Sequence[Query], k: int = 10) -> dict[str, float]:
    """Return mean nDCG@k and recall@k over queries."""
    nd = [ndcg_at(rankings[q.id], q.relevant, k) for q in queries]
    rc = [recall_at(rankings[q.id], q.relevant, k) for q in queries]
    return {"ndcg@10": float(np.mean(nd)), "recall@10": float(np.mean(rc)), "n": len(queries)}


# -- labelled sets ---------------------------------------------------------------------------------


def norm(text: str) -> str:
    """Normalise a MaintNet field: upper case, punctuation to spaces, single spaces."""
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", text.upper()).split())


def maintnet_set(
    max_queries: int = 0, seed: int = 0, corpus_limit: int | None = None
) -> tuple[list[dict[str, Any]], list[Query]]:
    """Return (fix entries, queries) for MaintNet problem -> fix retrieval.

    Corpus: one `fix` entry per logbook record whose text is the ACTION only (what was done).
    Queries: each distinct normalised PROBLEM that occurs in at least two records.
    Relevant: the records logged against that same normalised PROBLEM (the fixes actually tried for it).
    """
    records = load_maintnet()
    entries = [{"ext_id": f"MN-{r.ident}", "type": "fix", "text": r.action} for r in records]
    by_problem: dict[str, list[str]] = defaultdict(list)
    first_text: dict[str, str] = {}
    for r in records:
        key = norm(r.problem)
        by_problem[key].append(f"MN-{r.ident}")
        first_text.setdefault(key, r.problem)
    keys = sorted(k for k, ids in by_problem.items() if len(ids) >= 2)
    if max_queries and max_queries < len(keys):
        keys = sorted(random.Random(seed).sample(keys, max_queries))
    queries = [Query(f"M{i:04d}", first_text[k], set(by_problem[k])) for i, k in enumerate(keys, 1)]
    if corpus_limit:  # smoke runs: the queries' relevant records plus the first others
        keep = {r for q in queries for r in q.relevant}
        entries = [e for i, e in enumerate(entries) if e["ext_id"] in keep or i < corpus_limit]
    return entries, queries


def samples_set(path: Path = QUERIES_SAMPLES) -> list[Query]:
    """Return the hand-written queries over data/samples."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Query(d["id"], d["query"], set(d["relevant"]), d.get("notes", "")))
    return out


# -- knowledge bases -------------------------------------------------------------------------------


def samples_kb(emb: Any, *, rebuild: bool = False, limit: int | None = None):  # noqa: ANN201
    """Return a knowledge base loaded with data/samples (entries and links), built once under WORK.

    `limit` keeps only the first entries (for the smoke run).
    """
    from cli.common import load_samples
    from kb.knowledge_base import KnowledgeBase

    home = WORK / "quality" / f"samples{'-' + str(limit) if limit else ''}"
    stamp = home / "source.txt"
    src = (REPO / "data" / "samples" / "entries.jsonl").read_bytes()
    digest = hashlib.sha256(src).hexdigest()
    if rebuild or not stamp.is_file() or stamp.read_text() != digest:
        shutil.rmtree(home, ignore_errors=True)
        with KnowledgeBase(home, embedder=emb) as kb:
            if limit:
                from ingest.importers import import_records

                lines = src.decode("utf-8").splitlines()[:limit]
                part = home / "part.jsonl"
                part.write_text("\n".join(lines) + "\n", encoding="utf-8")
                import_records(kb, part, author="bench", reports_dir=home / "imports")
            else:
                load_samples(kb, "bench")
            kb.ensure_index()
        stamp.write_text(digest)
    kb = KnowledgeBase(home, embedder=emb)
    kb.ensure_index()
    return kb


def maintnet_kb(emb: Any, entries: list[dict[str, Any]], *, rebuild: bool = False):  # noqa: ANN201
    """Return a knowledge base holding the MaintNet fix entries, built once under WORK."""
    from kb.knowledge_base import KnowledgeBase

    home = WORK / "quality" / "maintnet"
    stamp = home / "source.txt"
    digest = hashlib.sha256("\n".join(e["ext_id"] for e in entries).encode()).hexdigest()
    if rebuild or not stamp.is_file() or stamp.read_text() != digest:
        shutil.rmtree(home, ignore_errors=True)
        with KnowledgeBase(home, embedder=emb) as kb:
            kb.add_many(entries, author="bench")
            kb.ensure_index()
        stamp.write_text(digest)
    kb = KnowledgeBase(home, embedder=emb)
    kb.ensure_index()
    return kb


def check_labels(kb: Any, queries: Sequence[Query]) -> list[str]:
    """Return relevant ext_ids that are not in the knowledge base (labels out of date)."""
    known = {r[0] for r in kb.store.conn.execute("SELECT ext_id FROM entries WHERE ext_id IS NOT NULL")}
    return sorted({r for q in queries for r in q.relevant if r not in known})


def rankings(
    kb: Any,
    queries: Sequence[Query],
    *,
    mode: str = "hybrid",
    fusion: str = "rrf",
    alpha: float = 0.5,
    rrf_k: int | None = None,
    expand: Callable[[str], str] | None = None,
    k: int = 10,
) -> dict[str, list[str]]:
    """Return each query's top-k ext_ids from the knowledge base's own search."""
    import kb.retrieval.search as search_mod

    saved = search_mod.RRF_K
    if rrf_k is not None:
        search_mod.RRF_K = rrf_k  # the fusion reads the module constant at call time
    try:
        out = {}
        for q in queries:
            hits = kb.search(q.text, k=k, mode=mode, fusion=fusion, alpha=alpha, expand=expand)
            out[q.id] = [h.entry.ext_id or h.entry.id for h in hits]
        return out
    finally:
        search_mod.RRF_K = saved


# -- the benchmark ---------------------------------------------------------------------------------


def tune(kb: Any, tuning: Sequence[Query]) -> tuple[dict[str, Any], list[list[Any]]]:
    """Return the best fusion setting on the tuning queries, and the grid as rows."""
    rows, best = [], None
    for rk in RRF_GRID:
        m = evaluate(rankings(kb, tuning, fusion="rrf", rrf_k=rk), tuning)
        rows.append([f"rrf k={rk}", m["ndcg@10"], m["recall@10"]])
        cand = {"fusion": "rrf", "rrf_k": rk, "alpha": 0.5, **m}
        best = cand if best is None or m["ndcg@10"] > best["ndcg@10"] + 1e-12 else best
    for a in ALPHA_GRID:
        m = evaluate(rankings(kb, tuning, fusion="linear", alpha=a), tuning)
        rows.append([f"linear alpha={a}", m["ndcg@10"], m["recall@10"]])
        cand = {"fusion": "linear", "rrf_k": None, "alpha": a, **m}
        best = cand if m["ndcg@10"] > best["ndcg@10"] + 1e-12 else best
    return best, rows


def configs(best: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Return the search configurations compared on every set."""
    tuned = {"mode": "hybrid", "fusion": best["fusion"], "alpha": best["alpha"], "rrf_k": best["rrf_k"]}
    label = f"rrf k={best['rrf_k']}" if best["fusion"] == "rrf" else f"linear alpha={best['alpha']}"
    return [
        ("hybrid (default: rrf k=60)", {"mode": "hybrid"}),
        (f"hybrid (tuned: {label})", tuned),
        ("dense only", {"mode": "dense"}),
        ("keyword only (BM25)", {"mode": "keyword"}),
        ("hybrid default + expansion", {"mode": "hybrid", "expand": "vocab"}),
        ("hybrid tuned + expansion", {**tuned, "expand": "vocab"}),
        ("keyword only + expansion", {"mode": "keyword", "expand": "vocab"}),
    ]


def run(
    max_maint: int = 0,
    *,
    docs: bool = True,
    rebuild: bool = False,
    sample_limit: int | None = None,
    maint_corpus_limit: int | None = None,
) -> dict[str, Any]:
    """Run the quality benchmark on both sets; print and document the tables."""
    from ingest.vocabulary import load_vocabulary

    info = machine_info()
    emb = CachingEmbedder()
    expand = load_vocabulary().expand_query
    say("quality: building / opening the samples knowledge base")
    skb = samples_kb(emb, rebuild=rebuild, limit=sample_limit)
    squeries = samples_set()
    if sample_limit:  # smoke: keep queries answerable inside the subset
        known = {r[0] for r in skb.store.conn.execute("SELECT ext_id FROM entries")}
        squeries = [Query(q.id, q.text, q.relevant & known, q.notes) for q in squeries if q.relevant & known]
    missing = [] if sample_limit else check_labels(skb, squeries)
    if missing:
        say(f"quality: WARNING: {len(missing)} labelled ext_ids are not in data/samples: {missing[:10]}")
    half = len(squeries) // 2
    tuning, test = squeries[:half], squeries[half:]
    say(f"quality: tuning fusion on {len(tuning)} sample queries")
    best, grid_rows = tune(skb, tuning)
    say(f"quality: best on tuning half: {best}")
    say("quality: building / opening the MaintNet knowledge base")
    mentries, mqueries = maintnet_set(max_maint, corpus_limit=maint_corpus_limit)
    mkb = maintnet_kb(emb, mentries, rebuild=rebuild)

    results: dict[str, Any] = {
        "machine": info,
        "best_fusion": best,
        "grid_tuning_half": grid_rows,
        "missing_labels": missing,
        "sets": {},
    }
    sets = [("samples, test half", skb, test), ("samples, all", skb, squeries), ("MaintNet", mkb, mqueries)]
    per_set: dict[str, dict[str, dict[str, float]]] = {}
    per_query: dict[str, dict[str, dict[str, float]]] = {}
    for set_name, kb, queries in sets:
        per_set[set_name] = {}
        for name, cfg in configs(best):
            cfg = dict(cfg)
            if cfg.get("expand") == "vocab":
                cfg["expand"] = expand
            ranked = rankings(kb, queries, **cfg)
            per_set[set_name][name] = evaluate(ranked, queries)
            if True:
                per_query.setdefault(set_name, {})[name] = {
                    q.id: ndcg_at(ranked[q.id], q.relevant) for q in queries
                }
            say(f"quality: {set_name}: {name}: {per_set[set_name][name]}")
    results["sets"] = per_set
    # How many queries the expander changes at all (it only touches the keyword leg).
    results["expanded_queries"] = {
        "samples": sum(expand(q.text) != q.text for q in squeries),
        "MaintNet": sum(expand(q.text) != q.text for q in mqueries),
    }
    results["per_query_ndcg"] = per_query
    results["paired"] = paired(per_query, configs(best))
    info["loadavg_end"] = loadavg()

    names = [n for n, _ in configs(best)]
    main = table(
        ["search", *(f"{s} nDCG@10" for s, _, _ in sets), *(f"{s} recall@10" for s, _, _ in sets)],
        [
            [
                n,
                *(per_set[s][n]["ndcg@10"] for s, _, _ in sets),
                *(per_set[s][n]["recall@10"] for s, _, _ in sets),
            ]
            for n in names
        ],
    )
    grid = table(["fusion (tuning half)", "nDCG@10", "recall@10"], grid_rows)
    print(main)
    print()
    print(grid)
    if docs:
        write_section(
            "quality",
            quality_doc(
                info, main, grid, results, len(tuning), len(test), len(mqueries), len(mentries), max_maint
            ),
        )
    save_result("quality", results)
    skb.close()
    mkb.close()
    return results


def paired(per_query: dict[str, dict[str, dict[str, float]]], cfgs: list) -> dict[str, Any]:  # noqa: ANN001
    """Return per-query wins / losses / ties of expansion and of tuning, per set (paired comparison)."""
    names = [n for n, _ in cfgs]
    pairs = {
        "expansion (hybrid default)": (names[0], names[4]),
        "expansion (keyword only)": (names[3], names[6]),
        "tuned fusion vs default": (names[0], names[1]),
        "hybrid vs keyword only": (names[3], names[0]),
        "hybrid vs dense only": (names[2], names[0]),
    }
    out: dict[str, Any] = {}
    for set_name, by_cfg in per_query.items():
        for label, (base, other) in pairs.items():
            a, b = by_cfg[base], by_cfg[other]
            diff = [b[q] - a[q] for q in a]
            out.setdefault(set_name, {})[label] = {
                "better": sum(d > 1e-9 for d in diff),
                "worse": sum(d < -1e-9 for d in diff),
                "same": sum(abs(d) <= 1e-9 for d in diff),
                "mean_diff": float(np.mean(diff)) if diff else 0.0,
            }
    return out


def quality_doc(info, main, grid, results, n_tune, n_test, n_mq, n_me, max_maint) -> str:  # noqa: ANN001
    """Return the docs section."""
    best = results["best_fusion"]
    s = results["sets"]
    t = "samples, test half"
    d_def = s[t]["hybrid (default: rrf k=60)"]["ndcg@10"]
    d_exp = s[t]["hybrid default + expansion"]["ndcg@10"]
    m_def = s["MaintNet"]["hybrid (default: rrf k=60)"]["ndcg@10"]
    m_exp = s["MaintNet"]["hybrid default + expansion"]["ndcg@10"]
    cmd = "`.venv/bin/python -m bench.quality" + (f" --maint-queries {max_maint}" if max_maint else "") + "`"
    return f"""## 3. Retrieval quality

Command: {cmd}

{machine_line(info)}

Two labelled sets, binary relevance, k = 10. recall@10 is capped: found / min(10, relevant), so a
query with more than 10 relevant entries can still reach 1.

- **(b) samples**: `bench/queries_samples.jsonl`, {n_tune + n_test} queries written for this product over
  `data/samples` (all entry types), most phrased without the key words of their answers ("clarification
  filter keeps choking" for "depth filter dP rising / Sartoclear plugged"; "cell washer" for LOVO;
  "bacterial contamination test" for mycoplasma). Relevant = every entry that answers the question
  (deviations, fixes, know-how, cues, lessons), judged by hand from the entry titles and texts, then
  completed once by pooling (the top 6 of TacitKB's hybrid, dense and keyword modes were reviewed and
  14 clearly relevant entries that had been missed were added to 10 queries; txtai's and BM25's results
  were not pooled, which favours TacitKB slightly). Fusion settings
  were tuned on the first {n_tune} queries (S01-S{n_tune:02d}); **the test-half column is the one to quote**
  ({n_test} queries, S{n_tune + 1:02d}-S{n_tune + n_test:02d}). "samples, all" is shown for completeness.
- **(a) MaintNet problem -> fix**: {n_me} `fix` entries whose text is a logbook record's ACTION only;
  {n_mq} queries = the distinct normalised PROBLEM texts that occur in at least two records; relevant =
  the records logged against the same normalised problem. Weaknesses: labels are incomplete (the same fix
  recorded under a differently worded problem counts as not relevant, so absolute scores are low for
  every method); several records of one problem are often successive troubleshooting steps whose text
  shares little with the problem ("RAN UP ENGINE, OPS CHECK GOOD"); texts are upper case, cut at about 60
  characters and full of abbreviations (A/C, R&R, CYL) that neither BM25 nor MiniLM knows. It is a
  relative comparison on text nobody here wrote, not an absolute quality figure.

{main}

Fusion grid on the tuning half (hybrid search, {n_tune} queries); best: {best["fusion"]}
{"k = " + str(best["rrf_k"]) if best["fusion"] == "rrf" else "alpha = " + str(best["alpha"])}
(nDCG@10 {best["ndcg@10"]:.3f}). RRF k is `kb/retrieval/search.py` `RRF_K`; alpha is the dense share in linear fusion.

{grid}

Vocabulary query expansion (`expand=load_vocabulary().expand_query`; it appends synonyms to the
keyword leg only, the dense leg always sees the query as typed): it changes
{results["expanded_queries"]["samples"]} of {n_tune + n_test} sample queries and
{results["expanded_queries"]["MaintNet"]} of {n_mq} MaintNet queries. Hybrid nDCG@10 with / without:
samples test half {d_exp:.3f} / {d_def:.3f} ({d_exp - d_def:+.3f}), MaintNet {m_exp:.3f} / {m_def:.3f}
({m_exp - m_def:+.3f}).

Paired per-query nDCG@10 (queries where the second setting is better / worse / the same as the first;
mean difference). With 36-37 queries per half, differences below ~0.02 are within noise.

{paired_table(results["paired"])}
"""


def paired_table(p: dict[str, Any]) -> str:
    """Return the paired comparison as a markdown table."""
    rows = []
    for set_name, by_label in p.items():
        for label, v in by_label.items():
            rows.append([set_name, label, v["better"], v["worse"], v["same"], f"{v['mean_diff']:+.3f}"])
    return table(["set", "comparison", "better", "worse", "same", "mean diff"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--maint-queries", type=int, default=0, help="sample this many MaintNet queries (0: all)"
    )
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    run(args.maint_queries, docs=not args.no_docs, rebuild=args.rebuild)


if __name__ == "__main__":
    main()
