"""Searches from several threads on one knowledge base (one app server): searches per second and latency.

    .venv/bin/python -m bench.threads [--seconds 8] [--threads 1,2,4,8]

Uses the samples knowledge base `bench.quality` built (`/tmp/tacitkb-bench/quality/samples`) and loops
over the labelled sample queries, each thread starting at its own query, as the CLI and the app search.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import numpy as np

from bench.common import CachingEmbedder, loadavg, say
from bench.labelled import samples_kb, samples_set


def run(threads: int, seconds: float, kb: Any, queries: list[str]) -> dict[str, float]:
    """Return searches per second and latency percentiles with `threads` threads searching for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    stop = time.perf_counter() + seconds

    def loop(n: int) -> None:
        i = n
        while time.perf_counter() < stop:
            t = time.perf_counter()
            kb.search(queries[i % len(queries)], k=10)
            latencies[n].append(time.perf_counter() - t)
            i += threads

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    ms = np.concatenate([np.array(x) for x in latencies]) * 1000
    return {
        "threads": threads,
        "per_second": len(ms) / seconds,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
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
    queries = [q.text for q in samples_set()]
    for q in queries[:5]:
        kb.search(q)
    say(f"threads: load average before {loadavg()}")
    for n in (int(x) for x in args.threads.split(",")):
        r = run(n, args.seconds, kb, queries)
        print(
            f"threads {n}: {r['per_second']:.1f} searches/s, p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms"
        )
    kb.close()


if __name__ == "__main__":
    main()
