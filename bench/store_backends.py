"""The store layer on SQLite beside PostgreSQL: write rate, row fetches, cache loads, write-to-visible delay.

    .venv/bin/python -m bench.store_backends --n 20000

Store level only (no model: random unit vectors of 384 floats stand in for embeddings, the text is
synthetic), so it measures what each backend adds, not encoding or ranking. PostgreSQL is a throwaway
cluster started like the tests' (tests/pg.py) on this machine, fsync off: absolute write figures are
optimistic for a real server, the comparison is what matters. Prints one JSON document with the load
average before and after.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from kb.models import Entry
from kb.storage.factory import open_store

FP = "bench-random-384"
BATCH = 500


def _entries(start: int, n: int) -> list[Entry]:
    return [
        Entry(
            type="cue",
            text=f"note {i}: medium colour drift on day {i % 14} at site {i % 5}",
            site=f"S{i % 5}",
        )
        for i in range(start, start + n)
    ]


def fill(target: str, n: int, rng: np.random.Generator) -> float:
    """Insert n entries with vectors in batches (entries + vectors in one transaction); return entries/s."""
    store = open_store(target)
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        batch = _entries(start, min(BATCH, n - start))
        vectors = rng.standard_normal((len(batch), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with store.transaction():
            stored = store.insert(batch, author="bench")
            store.put_vectors(zip(stored, vectors, strict=True), FP)
    rate = n / (time.perf_counter() - t0)
    store.close()
    return rate


def reads(target: str, n: int, reps: int, rng: np.random.Generator) -> dict[str, float]:
    """Time what a search asks of the store once the caches ranked: 10 rows and their links."""
    store = open_store(target)
    t0 = time.perf_counter()
    seqs, _ = store.vectors(FP)
    load_s = time.perf_counter() - t0
    times = []
    for _ in range(reps):
        ids = [f"KB-{int(s):06d}" for s in rng.integers(1, n + 1, 10)]
        t = time.perf_counter()
        store.get_many(ids)
        store.links_for(ids)
        times.append((time.perf_counter() - t) * 1000)
    store.close()
    q = statistics.quantiles(times, n=20)
    return {"rows_p50_ms": round(q[9], 2), "rows_p95_ms": round(q[18], 2), "vector_load_s": round(load_s, 2),
            "vectors": int(seqs.size)}  # fmt: skip


def _writer(target: str, count: int, gap_s: float, out: multiprocessing.Queue) -> None:
    store = open_store(target)
    stamps = {}
    for i in range(count):
        time.sleep(gap_s)
        (e,) = store.insert([Entry(type="cue", text=f"visibility probe {i}")], author="writer")
        stamps[e.id] = time.time()  # after commit returned
    store.close()
    out.put(stamps)


def visibility(target: str, count: int) -> dict[str, float]:
    """Delay from a commit in one process to another process's store seeing it via changes_since (ms)."""
    store = open_store(target)
    last = store.version()
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()
    proc = ctx.Process(target=_writer, args=(target, count, 0.05, queue))
    proc.start()
    seen: dict[str, float] = {}
    deadline = time.time() + 120
    while len(seen) < count and time.time() < deadline:
        version = store.version()
        if version != last:
            now = time.time()
            for seq, _ in store.changes_since(last):
                seen.setdefault(f"KB-{seq:06d}", now)
            last = version
        time.sleep(0.002)  # a follower polling every 2 ms (a request-driven server polls per request)
    stamps = queue.get(timeout=60)
    proc.join(60)
    store.close()
    delays = [max(0.0, (seen[k] - t) * 1000) for k, t in stamps.items() if k in seen]
    q = statistics.quantiles(delays, n=20)
    return {"probes": len(delays), "p50_ms": round(q[9], 2), "p95_ms": round(q[18], 2)}


def main() -> None:
    """Run every measurement on both backends and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--probes", type=int, default=100)
    args = parser.parse_args()
    from tests.pg import start_cluster

    out: dict = {"n": args.n, "load_before": os.getloadavg()}
    cluster = start_cluster()
    try:
        targets = {
            "sqlite": str(Path(tempfile.mkdtemp(prefix="tacitkb-bench-store-")) / "bench.db"),
            "postgres": cluster.new_database(),
        }
        for name, target in targets.items():
            rng = np.random.default_rng(7)
            out[name] = {"insert_per_s": round(fill(target, args.n, rng))}
            out[name] |= reads(target, args.n, args.reps, rng)
            out[name]["visibility"] = visibility(target, args.probes)
    finally:
        cluster.destroy()
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
