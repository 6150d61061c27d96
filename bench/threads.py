"""Searches from several threads on one knowledge base (one app server): searches per second and latency.

    .venv/bin/python -m bench.threads [--seconds 8] [--threads 1,2,4,8]

Uses the samples knowledge base `bench.quality` built (`/tmp/tacitkb-bench/quality/samples`) and loops
over the labelled sample queries with the searcher threads of `bench.two_servers`, as the app searches.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

import numpy as np

from bench.common import CachingEmbedder, loadavg, say
from bench.labelled import samples_kb, samples_set
from bench.two_servers import search_threads


def run(threads: int, seconds: float, kb: Any) -> dict[str, float]:
    """Return searches per second and latency percentiles with `threads` threads searching for `seconds`."""
    # The searcher loop of bench.two_servers, on one server: every thread starts at once.
    out = search_threads(kb, threads, seconds, threading.Barrier(1))
    ms = np.array(out["latencies"]) * 1000
    return {
        "threads": threads,
        "per_second": len(ms) / out["wall_s"],
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "errors": len(out["errors"]),
    }


def main() -> None:
    """Parse the arguments, run each thread count in turn and print one line per count."""
    from ingest.vocabulary import QueryExpander
    from kb.knowledge_base import KnowledgeBase
    from kb.retrieval.embed import load_embedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", default="1,2,4,8")
    args = parser.parse_args()
    built = samples_kb(CachingEmbedder())  # built once by bench.quality, reused
    built.close()
    # The real model: the cached vectors of the quality runs would hide the cost of encoding a query.
    kb = KnowledgeBase(built.home, embedder=load_embedder(), query_expander=QueryExpander(home=built.home))
    for q in samples_set()[:5]:
        kb.search(q.text)
    say(f"threads: load average before {loadavg()}")
    for n in (int(x) for x in args.threads.split(",")):
        r = run(n, args.seconds, kb)
        print(
            f"threads {n}: {r['per_second']:.1f} searches/s, p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms"
        )
    kb.close()


if __name__ == "__main__":
    main()
