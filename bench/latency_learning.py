"""Query latency with judgments stored: the learned part of search (similarity boost and links) timed at 100k.

    .venv/bin/python -m bench.latency_learning [--n 100000] [--judged 500] [--queries 200] [--no-docs]

Uses the base `bench.latency` built (synthetic entries, `/tmp/tacitkb-bench/latency/base-N`), read only.
A simulated user runs `--judged` queries and judges each one's top 10 (the first three "helped", the
rest "not relevant": 10 judgments per query, three links each). Then `--queries` other queries are timed
end to end (query encoding included) through the product's `hybrid_search` with the vocabulary
expansion, without judgments and with them, alternating which goes first. That is what
`KnowledgeBase.search` calls, less its lock and its check for new judgments (the judgments are held in
memory here, and alpha is not tuned).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from bench.common import (
    loadavg,
    machine_info,
    machine_line,
    percentiles,
    save_result,
    say,
    table,
    write_section,
)
from bench.latency import base_dir, build_base, query_texts
from kb.models import parse_id
from kb.retrieval.learning import Judgment, Learned

HELPED_PER_QUERY = 3
TARGET_P95_MS = 25.0  # the 100k hybrid target (issue 6), which learning must keep


def run(n: int, judged: int, queries: int, *, docs: bool = True) -> dict[str, Any]:
    """Time hybrid search with and without `judged` queries' judgments; return the percentiles."""
    from ingest.vocabulary import QueryExpander
    from kb.knowledge_base import KnowledgeBase
    from kb.retrieval.embed import load_embedder
    from kb.retrieval.search import hybrid_search

    info = machine_info()  # the load average before the run
    build_base(n)
    emb = load_embedder()
    kb = KnowledgeBase(base_dir(n), embedder=emb, query_expander=QueryExpander())
    kb.ensure_index()
    index, keywords = kb.caches.current()

    def search(text: str, learned: Learned | None, vector: np.ndarray | None = None) -> list[Any]:
        vector = emb.encode([text])[0] if vector is None else vector
        return hybrid_search(
            kb.store,
            index,
            keywords,
            emb,
            text,
            k=10,
            expand=kb.query_expander,
            query_vector=vector,
            learned=learned,
        )

    judged_texts = query_texts(judged, seed=7)
    vectors = emb.encode(judged_texts)
    judgments = []
    for i, (text, vector) in enumerate(zip(judged_texts, vectors, strict=True)):
        for rank, hit in enumerate(search(text, None, vector)):
            at = f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
            judgments.append(
                Judgment(text, parse_id(hit.entry.id), rank < HELPED_PER_QUERY, "bench", at, vector)
            )
    learned = Learned(judgments)
    seen = set(judged_texts)
    timed = [t for t in query_texts(2 * queries, seed=1) if t not in seen][:queries]
    for text in timed[:10]:  # warm-up
        search(text, None), search(text, learned)
    times: dict[str, list[float]] = {"without judgments": [], "with judgments": []}
    boosted = linked = 0
    for i, text in enumerate(timed):
        order = [("without judgments", None), ("with judgments", learned)]
        for name, lrn in order if i % 2 == 0 else order[::-1]:
            t = time.perf_counter()
            hits = search(text, lrn)
            times[name].append(time.perf_counter() - t)
            if lrn is not None:
                boosted += any("judgment_boost" in h.explain for h in hits)
                linked += any("related_boost" in h.explain for h in hits)
    kb.close()
    result = {
        "n": n,
        "judgments": len(judgments),
        "judged_queries": judged,
        "linked_pairs": learned.links,
        "queries": queries,
        "queries_with_a_similarity_boost": boosted,
        "queries_with_a_link_boost": linked,
        "latency": {name: percentiles(v) for name, v in times.items()},
        "loadavg": loadavg(),
    }
    for name, p in result["latency"].items():
        say(f"latency_learning: {n} {name}: p50 {p['p50_ms']:.1f} ms, p95 {p['p95_ms']:.1f} ms")
    body = render(info, result)
    print(body)
    if docs:
        write_section("learning_latency", body)
    save_result("latency_learning", result)
    return result


def render(info: dict[str, Any], r: dict[str, Any]) -> str:
    """Return the docs section."""
    rows = [
        [name, f"{p['p50_ms']:.1f}", f"{p['p95_ms']:.1f}", "yes" if p["p95_ms"] < TARGET_P95_MS else "**no**"]
        for name, p in r["latency"].items()
    ]
    return f"""## 3c. Query latency with judgments stored

Command: `.venv/bin/python -m bench.latency_learning` (uses the {r["n"]:,}-entry base of `bench.latency`)

{machine_line(info)}

{r["judgments"]:,} judgments stored for {r["judged_queries"]} queries (each query's top 10 judged, the first
{HELPED_PER_QUERY} "helped": {r["linked_pairs"]:,} linked pairs of entries), then {r["queries"]} other queries
timed end to end, query encoding included, without and with them (alternating). With judgments, {r["queries_with_a_similarity_boost"]}
of the {r["queries"]} queries had a similarity boost and {r["queries_with_a_link_boost"]} a link boost.
Load average after the run: {r["loadavg"]}.

{table(["hybrid search, " + f"{r['n']:,} entries", "p50 ms", "p95 ms", f"p95 < {TARGET_P95_MS:.0f} ms"], rows)}
"""


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--judged", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    run(args.n, args.judged, args.queries, docs=not args.no_docs)


if __name__ == "__main__":
    main()
