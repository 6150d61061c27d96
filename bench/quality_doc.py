"""The docs/benchmarks.md section of bench/quality.py: tables from one run, and what they mean."""

from __future__ import annotations

from typing import Any

from bench.common import machine_line, table


def f4(x: float) -> str:
    """Return a score with four decimals (MaintNet's scores are small and the margins thousandths)."""
    return f"{x:.4f}"


def s4(x: float) -> str:
    """Return a difference with its sign and four decimals."""
    return f"{x:+.4f}"


def _best(cands: list[Any], mean: dict[Any, float]) -> Any:
    return max(cands, key=lambda c: mean[c])


ANCHOR_LABELS = {
    "dense only": "TacitKB dense only",
    "BM25 only": "TacitKB BM25 only (the default's keyword leg)",
    "BM25 only, previous setting": "TacitKB BM25 only, previous setting (title x2, no expansion)",
    "txtai hybrid": "txtai hybrid",
    "txtai dense": "txtai dense",
    "txtai keyword": "txtai BM25",
}


def render(info, sets, grid, nd, rc, anchors, choice, results, max_maint, current, previous) -> str:  # noqa: ANN001, PLR0913
    """Return the section text."""
    names = [s.name for s in sets]
    mean, margin, winner = choice["mean"], choice["margin"], choice["winner"]
    sizes = ", ".join(f"{s.name} {len(s.queries)} queries / {s.kb.store.count()} entries" for s in sets)
    best_mean = choice["ranked"][0]

    def row(label: str, c: Any) -> list[Any]:
        return [label, *(f4(nd[c][n].mean()) for n in names), *(f4(rc[c][n]) for n in names)]

    rows = [row(f"**TacitKB hybrid, chosen by the rule: {winner.label}**", winner)]
    if winner != current:
        rows.append(row(f"TacitKB hybrid, the product's default in this run: {current.label}", current))
    if previous not in (winner, current):
        rows.append(row(f"TacitKB hybrid, previous default: {previous.label}", previous))
    if best_mean != winner:
        fails = ", ".join(
            f"{n} {float(nd[best_mean][n].mean()) - choice['bar'][n]:+.4f}"
            for n in names
            if float(nd[best_mean][n].mean()) < choice["bar"][n]
        )
        rows.append(
            row(f"best mean of all {len(grid)}: {best_mean.label} (below the bar on {fails})", best_mean)
        )
    for a in ANCHOR_LABELS:
        if any(a in anchors[n] for n in names):
            label = ANCHOR_LABELS[a]
            rows.append(
                [
                    label,
                    *(f4(anchors[n][a]["ndcg@10"]) if a in anchors[n] else "not run" for n in names),
                    *(f4(anchors[n][a]["recall@10"]) if a in anchors[n] else "not run" for n in names),
                ]
            )
    main = table(["search", *(f"{n} nDCG@10" for n in names), *(f"{n} recall@10" for n in names)], rows)

    top = table(
        ["candidate (top 12 by mean)", *names, "mean", "worst-set margin over best anchor"],
        [
            [c.label, *(f4(nd[c][n].mean()) for n in names), f4(mean[c]), s4(margin[c])]
            for c in choice["ranked"][:12]
        ],
    )
    families = {
        "RRF (any k, any dense share)": [c for c in grid if c.fusion == "rrf"],
        "RRF, equal legs (a=0.5), any k": [c for c in grid if c.fusion == "rrf" and c.alpha == 0.5],
        "convex, min-max scores": [c for c in grid if c.fusion == "linear" and c.norm == "minmax"],
        "convex, scores / max": [c for c in grid if c.fusion == "linear" and c.norm == "max"],
        "convex, z-scores": [c for c in grid if c.fusion == "linear" and c.norm == "zscore"],
        "BM25 title weight x1": [c for c in grid if c.title == 1.0],
        "BM25 title weight x2 (the previous default)": [c for c in grid if c.title == 2.0],
        "BM25 title weight x3": [c for c in grid if c.title == 3.0],
        "vocabulary expansion off": [c for c in grid if not c.expand],
        "vocabulary expansion on": [c for c in grid if c.expand],
    }
    lost = table(
        ["family", "its best candidate", *names, "mean", "worst-set margin"],
        [
            [
                fam,
                (b := _best(cs, mean)).label,
                *(f4(nd[b][n].mean()) for n in names),
                f4(mean[b]),
                s4(margin[b]),
            ]
            for fam, cs in families.items()
        ],
    )
    vs = results["winner_vs_previous"]
    vs_tx = results.get("winner_vs_txtai", {})
    cmp_rows = [
        [
            n,
            f"{vs[n]['mean_diff']:+.4f} [{vs[n]['ci95'][0]:+.4f}, {vs[n]['ci95'][1]:+.4f}]",
            f"{vs[n]['better']} / {vs[n]['worse']} / {vs[n]['same']}",
            *(
                [
                    f"{vs_tx[n]['mean_diff']:+.4f} [{vs_tx[n]['ci95'][0]:+.4f}, {vs_tx[n]['ci95'][1]:+.4f}]",
                    f"{vs_tx[n]['better']} / {vs_tx[n]['worse']} / {vs_tx[n]['same']}",
                ]
                if n in vs_tx
                else ["n/a", "n/a"]
            ),
        ]
        for n in names
    ]
    cmp = table(
        [
            "set",
            "chosen - previous default (95% CI)",
            "queries better / worse / same",
            "chosen - txtai hybrid (95% CI)",
            "queries better / worse / same",
        ],
        cmp_rows,
    )
    done_rows = []
    for n in names:
        d = float(nd[winner][n].mean())
        legs = max(anchors[n]["dense only"]["ndcg@10"], anchors[n]["BM25 only"]["ndcg@10"])
        tx = anchors[n].get("txtai hybrid", {}).get("ndcg@10")
        done_rows.append(
            [
                n,
                f4(d),
                f4(legs),
                s4(d - legs),
                "n/a" if tx is None else f4(tx),
                "n/a" if tx is None else s4(d - tx),
                "yes" if d >= legs and (tx is None or d >= tx) else "**no**",
            ]
        )
    done = table(
        ["set", "default nDCG@10", "best leg", "margin", "txtai hybrid", "margin", "done-when met"], done_rows
    )
    mism = results.get("product_vs_legs_mismatch", {})
    cmd = "`.venv/bin/python -m bench.quality" + (f" --maint-queries {max_maint}" if max_maint else "") + "`"
    return f"""## 3. Retrieval quality

Command: `.venv/bin/python -m pip install -r bench/requirements.txt`, then {cmd}

{machine_line(info)}

Three labelled sets, k = 10: {sizes}.
- **samples**: `bench/queries_samples.jsonl` over `data/samples`, written together with the product
  (binary relevance; completed once by pooling TacitKB's own modes, which favours TacitKB slightly).
- **cgt_dev**: `../shared/data/cgt_dev`, CGT floor notes and queries in the receiving staff's words,
  written independently of the product; graded (2 relevant, 1 partially relevant), nDCG with linear
  gains, recall on grade 2. Its README: differences below about 0.02-0.03 are noise with 50 queries.
- **MaintNet** problem -> fix: `fix` entries holding a logbook ACTION, queries = PROBLEM texts seen at
  least twice, relevant = the records of the same problem (labels incomplete: absolute scores are low
  for every method; a relative comparison on text nobody here wrote).

Every candidate is a full setting: fusion (RRF with k in {{10, 20, 30, 60, 100}} and dense share a in
{{0.3 .. 0.7}}, where a = 0.5 is plain RRF; or convex fusion a * dense + (1 - a) * BM25 with min-max,
divide-by-max or z-score normalisation and a in {{0.2 .. 0.8}}), the BM25 weight of title words (x1,
x2, x3 of a body word) and vocabulary query expansion (off / on): {len(grid)} candidates, each scored
on every set with the product's own leg and fusion code (`kb.retrieval.search.keyword_ranks`,
`VectorIndex.search`, `fuse`; the product's `KnowledgeBase.search` ranks exactly as these legs fused:
{sum(mism.values())} of {sum(len(s.queries) for s in sets)} queries differ). **Rule**: the default is the
candidate with the best mean nDCG@10 over the three sets among those that, on every set, are at least
as good as the best of TacitKB dense alone, TacitKB BM25 alone (the default's keyword leg, and the
previous setting's) and txtai's hybrid measured in this run
({choice["eligible"]} of {len(grid)} candidates qualify); never the best on one set. txtai: `Embeddings(hybrid=True,
content=True)` with the same local model and the same strings (title, then text), its default convex
fusion; dense and BM25 alone are TacitKB's two legs.

{main}

**Chosen by the rule**: {winner.label} (mean nDCG@10 over the sets {mean[winner]:.4f}, worst-set margin
over the bar {margin[winner]:+.4f}; {"it is the product's default" if winner == current else f"the product's default in this run, {current.label}, has {mean[current]:.4f}"};
previous default {previous.label}: {mean[previous]:.4f}, worst-set margin {margin[previous]:+.4f}). The bar
per set (nDCG@10): {", ".join(f"{n} {choice['bar'][n]:.4f}" for n in names)}. Per set, paired over queries
(95% paired-bootstrap interval of the mean difference; better / worse / same queries):

{cmp}

Done-when (default hybrid >= the better of its two legs and >= txtai hybrid, nDCG@10, per set):

{done}

The best candidates by mean, and what each family of settings could reach at best (everything in a
family that is not its best did worse):

{top}

{lost}

Not evaluated: chunk scoring for long documents (no labelled set contains a document, so max- vs
sum-of-chunks cannot be measured here); the title's weight in the dense leg (it would need every set
re-embedded; the embedded string stays title + text, as txtai's). With {len(grid)} candidates chosen
on three sets, the winner's margin over its neighbours in the grid is partly selection luck: the
paired intervals above, not the ranking of near-equal candidates, are the evidence.

Learning from judgments: section 3b (bench/quality_learning.py).
"""
