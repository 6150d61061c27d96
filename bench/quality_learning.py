"""Learning from judgments, measured: judgments simulated from the labels on half the queries, the other half scored.

A simulated user runs each query of one half, looks at the top 10 and marks every hit: "helped" when the
labels grade it relevant or partially relevant, "not relevant" otherwise. The other half is then searched
with learning (the similarity boost and, if cross-validation allows, a tuned alpha) and without. Both
halves take each role in turn. The judgments go into a copy of the set's knowledge base.
"""

from __future__ import annotations

from typing import Any

from bench.common import say
from bench.labelled import LabelledSet, copy_kb, evaluate, paired, per_query_ndcg
from kb.retrieval.search import DEFAULT_ALPHA

SIMULATED_USER = "simulated-user"


def learning_eval(s: LabelledSet, emb: Any) -> dict[str, Any]:
    """Return, per split, nDCG@10 of the scored half with and without learning from the judged half."""
    half = len(s.queries) // 2
    first, second = s.queries[:half], s.queries[half:]
    odd, even = s.queries[0::2], s.queries[1::2]
    out: dict[str, Any] = {}
    for name, judged, scored in (
        ("judge 1st half, score 2nd", first, second),
        ("judge 2nd half, score 1st", second, first),
        ("judge odd, score even", odd, even),
        ("judge even, score odd", even, odd),
        ("judge all, ask the same again (not held out)", s.queries, s.queries),
    ):
        kb = copy_kb(s.kb, f"learning-{s.name}", emb)
        helped = not_relevant = 0
        for q in judged:
            for hit in kb.search(q.text, k=10, learn=False):
                good = q.gain(hit.entry.ext_id or hit.entry.id) > 0
                kb.record_feedback(q.text, hit.entry.id, helped=good, user=SIMULATED_USER)
                helped, not_relevant = helped + good, not_relevant + (not good)
        learned = kb.learned()

        base, full = _ranked(kb, scored, learn=False), _ranked(kb, scored)
        boost_only = _ranked(kb, scored, alpha=DEFAULT_ALPHA)
        out[name] = {
            "shared_topics": shared_topics(judged, scored),
            "judged_queries": len(judged),
            "scored_queries": len(scored),
            "helped": helped,
            "not_relevant": not_relevant,
            "tuning": learned.tuning.to_dict() if learned.tuning else None,
            "without": evaluate(base, scored),
            "with": evaluate(full, scored),
            "boost_only": evaluate(boost_only, scored),
            "paired": paired(per_query_ndcg(base, scored), per_query_ndcg(full, scored)),
        }
        say(f"quality: learning on {s.name}, {name}: {out[name]['without']} -> {out[name]['with']}")
        kb.close()
    return out


def _ranked(kb: Any, queries: list[Any], **options: Any) -> dict[str, list[str]]:
    """Return each query's top-10 ext_ids."""
    return {q.id: [h.entry.ext_id or h.entry.id for h in kb.search(q.text, k=10, **options)] for q in queries}


def shared_topics(judged: list[Any], scored: list[Any]) -> int:
    """Return how many scored queries share a relevant entry with some judged query (other than itself)."""
    return sum(any(q is not j and q.relevant & j.relevant for j in judged) for q in scored)


def query_similarity(s: LabelledSet, emb: Any) -> dict[str, Any]:
    """Return the model's cosine between queries that share relevant entries, and between the others."""
    import numpy as np

    qs = s.queries
    v = emb.encode([q.text for q in qs])
    sims = v @ v.T
    same = [
        float(sims[i, j])
        for i in range(len(qs))
        for j in range(i + 1, len(qs))
        if qs[i].relevant & qs[j].relevant
    ]
    other = [
        float(sims[i, j])
        for i in range(len(qs))
        for j in range(i + 1, len(qs))
        if not qs[i].relevant & qs[j].relevant
    ]
    return {
        "same_topic_pairs": len(same),
        "same_topic_median": float(np.median(same)) if same else None,
        "same_topic_max": max(same) if same else None,
        "other_pairs_p99": float(np.percentile(other, 99)) if other else None,
    }


def main() -> None:
    """Run the learning measurement alone on cgt_dev and the samples and print its table."""
    import json

    from bench.common import CachingEmbedder, loadavg, save_result
    from bench.labelled import cgt_set, records_kb, samples_kb, samples_records, samples_set
    from bench.quality_doc import learning_table, similarity_note

    emb = CachingEmbedder()
    start = loadavg()
    centries, cqueries = cgt_set()
    sets = [
        LabelledSet("cgt_dev", records_kb(emb, "cgt_dev", centries), cqueries, centries),
        LabelledSet("samples", samples_kb(emb), samples_set(), samples_records()),
    ]
    results = {
        "learning": {s.name: learning_eval(s, emb) for s in sets},
        "query_similarity": {s.name: query_similarity(s, emb) for s in sets},
        "loadavg": [start, loadavg()],
    }
    save_result("quality_learning", results)
    print(learning_table(results["learning"]))
    print()
    print(similarity_note(results["query_similarity"]))
    print(json.dumps(results["loadavg"]))


if __name__ == "__main__":
    main()
