"""Two app servers on one PostgreSQL database: write-to-searchable delay, then search throughput.

    .venv/bin/python -m bench.two_servers [--writes 200] [--seconds 30] [--threads 8] [--docs]

Two processes stand for two app servers: each opens `KnowledgeBase(home_i, db=url)` (its own cache
folder) on one throwaway PostgreSQL cluster started as the tests start theirs (tests/pg.py), and loads the
real model once. The base is data/samples, loaded by server A.

1. Delay: A adds one entry at a time (`--writes`, spaced 100-200 ms at random; texts are real MaintNet
   problem reports from ../shared/data, read in place, made unique by a tag, else synthetic), and tells B
   each id and the moment `add` returned. B then searches for the entry's text until it is the top hit
   (each search catches up from the change log, as an app request does) and records the delay from A's
   confirmation to B's answer that shows it.
2. Throughput: both servers x `--threads` searcher threads for `--seconds`, looping over the labelled
   sample queries (bench/queries_samples.jsonl); queries/s and per-query latency as a caller sees it.

Prints one JSON document (with the load average before and after); `--docs` also writes section 6 of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.synchronize
import os
import random
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import (
    REPO,
    MissingData,
    load_maintnet,
    loadavg,
    machine_info,
    machine_line,
    percentiles,
    say,
    write_section,
)

QUERIES = REPO / "bench" / "queries_samples.jsonl"
SECTION = "twoservers"


def _texts(n: int, seed: int = 15) -> tuple[list[str], str]:
    """Return n unique entry texts and where they came from (MaintNet problem reports, else synthetic)."""
    rng = random.Random(seed)
    tags = [f"tag{rng.getrandbits(40):010x}" for _ in range(n)]
    try:
        problems = list(dict.fromkeys(r.problem for r in load_maintnet()))
        rng.shuffle(problems)
        return [f"{problems[i % len(problems)]} ({tags[i]})" for i in range(n)], "MaintNet problem reports"
    except MissingData:
        return [
            f"Pump skid {i} pressure drifted after the CIP cycle ({tags[i]})" for i in range(n)
        ], "synthetic"


def _queries() -> list[str]:
    return [json.loads(line)["query"] for line in QUERIES.read_text(encoding="utf-8").splitlines() if line]


def _open(home: str, url: str) -> tuple[Any, float]:
    """Open a server's KnowledgeBase on the shared database with the model loaded; return it and the load s."""
    from kb.knowledge_base import KnowledgeBase
    from kb.retrieval.embed import load_embedder

    t0 = time.perf_counter()
    embedder = load_embedder()
    embedder.load()
    return KnowledgeBase(home, db=url, embedder=embedder), time.perf_counter() - t0


def search_threads(kb: Any, threads: int, seconds: float, start: Any) -> dict:
    """Run `threads` searcher threads on one KnowledgeBase for `seconds` after `start` (a Barrier); return latencies (s)."""
    queries = _queries()
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []
    start.wait(timeout=600)
    stop = time.monotonic() + seconds

    def loop(n: int) -> None:
        i = n * 7
        while time.monotonic() < stop:
            q = queries[i % len(queries)]
            i += 1
            t0 = time.perf_counter()
            try:
                kb.search(q, k=10)
            except Exception as exc:  # counted, not fatal
                errors.append(repr(exc))
                continue
            latencies[n].append(time.perf_counter() - t0)

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {
        "latencies": [x for part in latencies for x in part],
        "wall_s": time.perf_counter() - t0,
        "errors": errors,
    }


def server_a(
    url: str,
    home: str,
    writes: int,
    base_ready: multiprocessing.synchronize.Event,
    b_ready: multiprocessing.synchronize.Event,
    notes: multiprocessing.Queue,
    start: multiprocessing.synchronize.Barrier,
    threads: int,
    seconds: float,
    out: multiprocessing.Queue,
) -> None:
    """Server A: load the base, then write one entry at a time and announce each; then search."""
    from cli.common import load_samples

    kb, load_s = _open(home, url)
    t0 = time.perf_counter()
    loaded = load_samples(kb, "bench")
    kb.ensure_index()
    base_s = time.perf_counter() - t0
    base_ready.set()
    b_ready.wait(timeout=600)
    texts, source = _texts(writes)
    rng = random.Random(2)
    write_s: list[float] = []
    for i, text in enumerate(texts):
        time.sleep(rng.uniform(0.1, 0.2))
        t = time.perf_counter()
        entry = kb.add({"type": "cue", "text": text, "process": "LVV"}, author="site-a")
        confirmed = time.monotonic()
        write_s.append(time.perf_counter() - t)
        notes.put((i, text, entry.id, confirmed))
    notes.put(None)
    search = search_threads(kb, threads, seconds, start)
    kb.close()
    out.put({"server": "A", "model_load_s": load_s, "base": loaded, "base_s": base_s, "write_s": write_s,
             "texts": source, **search})  # fmt: skip


def server_b(
    url: str,
    home: str,
    base_ready: multiprocessing.synchronize.Event,
    b_ready: multiprocessing.synchronize.Event,
    notes: multiprocessing.Queue,
    start: multiprocessing.synchronize.Barrier,
    threads: int,
    seconds: float,
    out: multiprocessing.Queue,
) -> None:
    """Server B: for each entry A announces, search its text until it is the top hit; then search."""
    kb, load_s = _open(home, url)
    base_ready.wait(timeout=600)
    t0 = time.perf_counter()
    kb.ensure_index()  # B's caches built from the database
    open_s = time.perf_counter() - t0
    kb.search("warm-up query", k=1)
    b_ready.set()
    delays: list[float] = []
    tries: list[int] = []
    search_s: list[float] = []
    while (note := notes.get(timeout=600)) is not None:
        _, text, entry_id, confirmed = note
        n = 0
        while True:
            n += 1
            t = time.perf_counter()
            hits = kb.search(text, k=1)
            search_s.append(time.perf_counter() - t)
            if hits and hits[0].entry.id == entry_id:
                delays.append(time.monotonic() - confirmed)
                break
            if n >= 1000:
                raise AssertionError(f"{entry_id} is not the top hit for its own text after {n} searches")
        tries.append(n)
    search = search_threads(kb, threads, seconds, start)
    kb.close()
    out.put({"server": "B", "model_load_s": load_s, "cache_build_s": open_s, "delays": delays, "tries": tries,
             "delay_search_s": search_s, **search})  # fmt: skip


def _ms(samples_s: list[float]) -> dict[str, float]:
    p = percentiles(samples_s)
    return {
        "p50_ms": round(p["p50_ms"], 1),
        "p95_ms": round(p["p95_ms"], 1),
        "max_ms": round(max(samples_s) * 1000, 1),
        "n": p["n"],
    }


def run(writes: int, seconds: float, threads: int) -> dict[str, Any]:
    """Run both parts on a throwaway cluster and return the results."""
    from tests.pg import start_cluster

    info = machine_info()
    out: dict[str, Any] = {"load_before": loadavg(), "writes": writes, "seconds": seconds, "threads": threads}
    cluster = start_cluster()
    try:
        url = cluster.new_database()
        ctx = multiprocessing.get_context("spawn")
        base_ready, b_ready = ctx.Event(), ctx.Event()
        notes: multiprocessing.Queue = ctx.Queue()
        results: multiprocessing.Queue = ctx.Queue()
        start = ctx.Barrier(2)
        with tempfile.TemporaryDirectory(prefix="tacitkb-two-servers-") as tmp:
            homes = [str(Path(tmp) / name) for name in ("a", "b")]
            common = (start, threads, seconds, results)
            procs = [
                ctx.Process(
                    target=server_a, args=(url, homes[0], writes, base_ready, b_ready, notes, *common)
                ),
                ctx.Process(target=server_b, args=(url, homes[1], base_ready, b_ready, notes, *common)),
            ]
            for p in procs:
                p.start()
            by_server = {}
            for _ in procs:
                r = results.get(timeout=900 + writes + seconds)
                by_server[r["server"]] = r
            for p in procs:
                p.join(60)
    finally:
        cluster.destroy()
    a, b = by_server["A"], by_server["B"]
    latencies = a["latencies"] + b["latencies"]
    wall = max(a["wall_s"], b["wall_s"])
    out |= {
        "base": {"entries_added": a["base"]["added"], "links": a["base"]["linked"], "load_s": round(a["base_s"], 1)},
        "texts": a["texts"],
        "model_load_s": {"A": round(a["model_load_s"], 2), "B": round(b["model_load_s"], 2)},
        "b_cache_build_s": round(b["cache_build_s"], 2),
        "delay": _ms(b["delays"]) | {"searches_needed": {str(k): b["tries"].count(k) for k in sorted(set(b["tries"]))}},
        "a_write_ms": _ms(a["write_s"]),
        "b_search_during_writes_ms": _ms(b["delay_search_s"]),
        "throughput": {
            "queries": len(latencies),
            "queries_per_s": round(len(latencies) / wall, 1),
            "per_server_queries_per_s": {
                s: round(len(r["latencies"]) / r["wall_s"], 1) for s, r in (("A", a), ("B", b))
            },
            "latency": _ms(latencies),
            "errors": len(a["errors"]) + len(b["errors"]),
        },
        "load_after": loadavg(),
    }  # fmt: skip
    info["loadavg_end"] = out["load_after"]
    out["machine"] = info
    return out


def section(result: dict[str, Any]) -> str:
    """Return section 6 of docs/benchmarks.md for a result."""
    d, t, w = result["delay"], result["throughput"], result["a_write_ms"]
    lat, loads, threads = t["latency"], result["model_load_s"], result["threads"]
    first = d["searches_needed"].get("1", 0)
    command = (
        f"`.venv/bin/python -m bench.two_servers --writes {result['writes']} "
        f"--seconds {result['seconds']:g} --threads {threads} --docs`"
    )
    paragraphs = [
        f"Two processes, each a `KnowledgeBase(home_i, db=url)` with its own cache folder and the real model "
        f"(loaded once per process: A {loads['A']} s, B {loads['B']} s), on one throwaway PostgreSQL 15 "
        f"cluster (tests/pg.py); base: data/samples ({result['base']['entries_added']} entries, loaded by A; "
        f"B built its caches from the database in {result['b_cache_build_s']} s).",
        f"**Write-to-searchable delay.** A adds {d['n']} entries one at a time, 100-200 ms apart "
        f"({result['texts']}, made unique by a tag); after each `add` returns, B searches the entry's text "
        f"until it is the top hit. Delay from A's confirmation to B's answer showing it: **p50 {d['p50_ms']} "
        f"ms, p95 {d['p95_ms']} ms, max {d['max_ms']} ms**. B's first search found it {first} times out of "
        f"{d['n']}: each search catches up from the change log, so the delay is one search on B (p50 "
        f"{result['b_search_during_writes_ms']['p50_ms']} ms for these texts) plus the hand-over between the "
        f"processes. One write on A took p50 {w['p50_ms']} ms, p95 {w['p95_ms']} ms (encoding, transaction "
        "and A's own index update).",
        f"**Throughput.** 2 servers x {threads} searcher threads for {result['seconds']:g} s, looping over "
        f"the {len(_queries())} sample queries: **{t['queries_per_s']} queries/s** in all (A "
        f"{t['per_server_queries_per_s']['A']}, B {t['per_server_queries_per_s']['B']}); latency as a caller "
        f"sees it p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, max {lat['max_ms']} ms ({t['queries']} "
        f"queries, {t['errors']} errors). Within one process the searches take turns on the KnowledgeBase "
        f"lock (one query at a time per server), so a caller's latency is mostly waiting for the "
        f"{threads - 1} other threads; the two servers run in parallel. Load average before "
        f"{result['load_before']}, after {result['load_after']}.",
    ]
    body = "\n\n".join(textwrap.fill(p, width=105, break_on_hyphens=False) for p in paragraphs)
    return (
        "## 6. Two app servers on one PostgreSQL database\n\n"
        f"Command: {command}\n\n{machine_line(result['machine'])}\n\n{body}\n"
    )


def main() -> None:
    """Parse arguments, run, print JSON, optionally write the docs section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--docs", action="store_true", help="write section 6 of docs/benchmarks.md")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    say(f"two servers: {args.writes} writes, then {args.seconds:g} s x 2 x {args.threads} searchers ...")
    result = run(args.writes, args.seconds, args.threads)
    if args.docs:
        write_section(SECTION, section(result))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
