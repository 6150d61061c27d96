"""The store layer on SQLite beside PostgreSQL: write rate, row fetches, cache loads, write-to-visible delay.

    .venv/bin/python -m bench.store_backends --n 20000 [--rows random|latency] [--batch 500] [--docs]

Store level only (no model: random unit vectors of 384 floats stand in for embeddings, the text is
synthetic), so it measures what each backend adds, not encoding or ranking. PostgreSQL is a throwaway
cluster started like the tests' (tests/pg.py) on this machine, fsync off: absolute write figures are
optimistic for a real server, the comparison is what matters. Prints one JSON document with the load
average before and after.

Import: the same batches go to both stores in turn (entries + vectors in one transaction each, as
`KnowledgeBase.add` and the latency base build write them), so load from other processes falls on both
alike; the rate is reported overall and over the last tenth of the batches (the rate near size n).
`--rows latency` writes the latency benchmark's rows instead (bench/latency.py `_rows`: real MaintNet and
FDA texts with their real vectors, then synthetic variants), generated before the clock starts.
`--docs` writes the import table into docs/benchmarks.md (section 7, block `postgres_import`).
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
ENCODE_PER_S = (
    160  # the model's pure encode rate on the 2-core benchmark machine (docs/benchmarks.md section 1)
)
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


def random_rows(n: int, rng: np.random.Generator) -> list[tuple[Entry, np.ndarray]]:
    """Return n synthetic entries with random unit vectors."""
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return list(zip(_entries(0, n), vectors, strict=True))


def latency_rows(n: int) -> list[tuple[Entry, np.ndarray]]:
    """Return the latency benchmark's first n rows (real texts and vectors, then synthetic variants)."""
    from bench.latency import _rows

    return [(Entry(**rec), vec) for rec, vec in _rows(n)]


def fill(targets: dict[str, str], rows: list[tuple[Entry, np.ndarray]], batch: int) -> dict[str, dict]:
    """Write the rows into every target in batches, one transaction per batch, taking turns per batch.

    Return per target: entries/s overall and over the last tenth of the rows, and the seconds spent in
    `insert` and in `put_vectors`.
    """
    stores = {name: open_store(target) for name, target in targets.items()}
    n = len(rows)
    spent = {name: {"insert_s": 0.0, "put_vectors_s": 0.0, "last_tenth_s": 0.0} for name in stores}
    batches = -(-n // batch)
    tail_from = batches - max(1, batches // 10)  # the last tenth of the batches (at least one)
    last = 0  # rows in those batches
    names = list(stores)
    for i, start in enumerate(range(0, n, batch)):
        chunk = rows[start : start + batch]
        last += len(chunk) if i >= tail_from else 0
        for name in names if i % 2 == 0 else names[::-1]:
            store, acc = stores[name], spent[name]
            t0 = time.perf_counter()
            with store.transaction():
                stored = store.insert([e for e, _ in chunk], author="bench")
                t1 = time.perf_counter()
                store.put_vectors(zip(stored, (v for _, v in chunk), strict=True), FP)
            t2 = time.perf_counter()
            acc["insert_s"] += t1 - t0
            acc["put_vectors_s"] += t2 - t1  # includes the commit
            if i >= tail_from:
                acc["last_tenth_s"] += t2 - t0
    out = {}
    for name, store in stores.items():
        acc = spent[name]
        total = acc["insert_s"] + acc["put_vectors_s"]
        out[name] = {
            "insert_per_s": round(n / total),
            "insert_per_s_last_tenth": round(last / acc["last_tenth_s"]),
            "last_tenth_rows": last,
            "insert_s": round(acc["insert_s"], 2),
            "put_vectors_s": round(acc["put_vectors_s"], 2),
            "total_s": round(total, 2),
        }
        store.close()
    return out


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
        store.get_many_with_links(ids)  # as a search asks for them
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
    parser.add_argument(
        "--batch",
        default=str(BATCH),
        help="entries per write transaction; a comma list imports once per size, into fresh stores",
    )
    parser.add_argument("--rows", choices=("random", "latency"), default="random")
    parser.add_argument("--docs", action="store_true", help="write the import table into docs/benchmarks.md")
    args = parser.parse_args()
    from tests.pg import start_cluster

    batches = [int(b) for b in args.batch.split(",")]
    rng = np.random.default_rng(7)
    rows = random_rows(args.n, rng) if args.rows == "random" else latency_rows(args.n)
    out: dict = {
        "n": args.n,
        "rows": args.rows,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_before": os.getloadavg(),
        "imports": [],
    }
    cluster = start_cluster()
    folder = tempfile.TemporaryDirectory(prefix="tacitkb-bench-store-")
    try:
        first: dict[str, str] = {}
        for batch in batches:
            targets = {
                "sqlite": str(Path(folder.name) / f"bench-{batch}.db"),
                "postgres": cluster.new_database(),
            }
            first = first or targets
            out["imports"].append(
                {"batch": batch, **fill(targets, rows, batch), "load_after": os.getloadavg()}
            )
        # The first import's stores: its figures under each backend's name, then the reads on them.
        for name, target in first.items():
            out[name] = dict(out["imports"][0][name])
            out[name] |= reads(target, args.n, args.reps, np.random.default_rng(7))
            out[name]["visibility"] = visibility(target, args.probes)
    finally:
        cluster.destroy()
        folder.cleanup()
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    if args.docs:
        from bench.common import write_section

        write_section("postgres_import", import_section(out, args))


def import_section(out: dict, args: argparse.Namespace) -> str:
    """Return the markdown of the import-rate block (docs/benchmarks.md, section 7)."""

    def load(values: list[float]) -> str:
        return " ".join(f"{v:.2f}" for v in values)

    rows = [
        "| entries per transaction | backend | entries/s (all rows) | entries/s (last tenth) | insert s | "
        "put_vectors s | PG / SQLite (all rows) | load average after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for imp in out["imports"]:
        ratio = imp["postgres"]["insert_per_s"] / imp["sqlite"]["insert_per_s"]
        for name, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
            r = imp[name]
            rows.append(
                f"| {imp['batch']:,} | {label} | {r['insert_per_s']:,} | {r['insert_per_s_last_tenth']:,} | "
                f"{r['insert_s']:.1f} | {r['put_vectors_s']:.1f} | {f'{ratio:.2f}' if name == 'postgres' else ''} | "
                f"{load(imp['load_after']) if name == 'postgres' else ''} |"
            )
    reads_rows = ["| backend | fetch 10 rows + links p50 / p95 ms | load all vectors s | write visible elsewhere p50 / p95 ms |",
                  "|---|---|---|---|"]  # fmt: skip
    for name, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        r = out[name]
        reads_rows.append(
            f"| {label} | {r['rows_p50_ms']:.2f} / {r['rows_p95_ms']:.2f} | {r['vector_load_s']:.2f} | "
            f"{r['visibility']['p50_ms']:.2f} / {r['visibility']['p95_ms']:.2f} |"
        )
    what = (
        "the latency benchmark's rows (real MaintNet and FDA texts with their vectors, then synthetic "
        "variants; `bench/latency.py` `_rows`)"
        if args.rows == "latency"
        else "synthetic one-line texts with random unit vectors"
    )
    command = (
        f"nice -n 5 .venv/bin/python -m bench.store_backends --n {args.n} --rows {args.rows} "
        f"--batch {args.batch} --docs"
    )
    tail = out["imports"][0]["sqlite"]["last_tenth_rows"]
    first = out["imports"][0]
    encode_s = out["n"] / ENCODE_PER_S
    store_s = {name: first[name]["total_s"] for name in ("sqlite", "postgres")}
    pct = 100 * (store_s["postgres"] - store_s["sqlite"]) / (encode_s + store_s["sqlite"])
    return f"""### Import rate at {out["n"]:,} entries (store layer)

Command: `{command}`

Run {out["date"]}; load average before {load(out["load_before"])}, at the end {load(out["load_after"])}.
Same PostgreSQL cluster settings as above (fsync off: a server with fsync on also waits for a WAL flush
at each commit, one per transaction here).

{out["n"]:,} entries, written into empty stores through `Store.insert` + `Store.put_vectors`, one
transaction per batch (entries, revisions, audit events, vectors), as the latency base build does (20,000
per transaction); no model call. Rows: {what}. The same batches go to both stores in turn, so they share
the machine's load. "last tenth" is the rate over the last tenth of the batches
(the last {tail:,} rows at the first batch size), with the store already near {out["n"]:,} entries.

{chr(10).join(rows)}

On the stores of the first import: the row fetch a search makes after ranking (10 random entries and their
links, {args.reps} times), loading every vector (what building a cache reads), and the delay from a commit
in one process to another process seeing it through `changes_since`, polling every 2 ms:

{chr(10).join(reads_rows)}

For scale: the model encodes ~{ENCODE_PER_S} entries/s on these 2 cores (section 1, pure encode), so
encoding {out["n"]:,} entries takes ~{encode_s:,.0f} s, against {store_s["sqlite"]:.1f} s of store writes on SQLite
and {store_s["postgres"]:.1f} s on PostgreSQL ({first["batch"]:,} per transaction): an import into PostgreSQL
takes about {pct:.1f} % longer end to end than into SQLite.
"""


if __name__ == "__main__":
    main()
