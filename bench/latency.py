"""Query latency at 10k, 100k and 1M entries: p50/p95 end to end, dense and hybrid, with and without a filter.

    .venv/bin/python -m bench.latency [--sizes 10000,100000,1000000] [--queries 200] [--rebuild] [--no-docs]

End to end = `KnowledgeBase.search(query, k=10, ...)`: encode the query, the BM25 keyword index and
FAISS under the filters, fuse, fetch the rows and links of the hits. Each size runs in its own process (peak RSS per size).

Bases (under /tmp/tacitkb-bench/latency/base-N, reused between runs unless --rebuild):
- the first ~10.7k rows are the real records (MaintNet problem + action, FDA recall reasons) with their
  real embeddings;
- above that, rows are synthetic variants of the real ones: ~30 % of the words swapped for words drawn
  from the corpus's own word frequencies plus a lot number, and the vector is the real vector plus
  Gaussian noise (cosine ~0.8 to its source), re-normalised. That keeps the clustered shape of real
  sentence embeddings (uniform random unit vectors would make IVF look worse than it is on real text,
  and BM25 posting lists would be unrealistically flat).
- rows are written through `Store.insert` and `Store.put_vectors` in batches of 20k (no model call),
  then the index is built by `KnowledgeBase.ensure_index()` (flat up to EXACT_LIMIT, IVF above).
- 1 % of rows carry site `RARE` (the selective filter); the rest are CAM or LEI.
Queries are real MaintNet PROBLEM texts and FDA reason openings (not stored verbatim in the base).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    REPO,
    WORK,
    CachingEmbedder,
    dir_size_mib,
    load_fda,
    load_maintnet,
    loadavg,
    machine_info,
    machine_line,
    peak_rss_mib,
    percentiles,
    real_records,
    rss_mib,
    save_result,
    say,
    table,
    write_section,
)

TARGETS_MS = {100_000: 25.0, 1_000_000: 50.0}
TARGET_RECALL = 0.95
STANDARD_SIZES = (10_000, 100_000, 1_000_000)
BATCH = 20_000
RARE_SHARE = 0.01
NOISE_COS = 0.8


def base_dir(n: int) -> Path:
    return WORK / "latency" / f"base-{n}"


# -- building a base ------------------------------------------------------------------------------


def _rows(n: int, seed: int = 0):  # noqa: ANN202
    """Yield (record dict, vector) for n rows: real first, synthetic variants after."""
    real = real_records()
    real = real[: min(n, len(real))]  # encode only what is used
    emb = CachingEmbedder()
    say(f"latency: real seed rows {len(real)} (vectors from cache or model)")
    vectors = emb.encode([r["text"] for r in real])
    rng = np.random.default_rng(seed)
    pyrng = random.Random(seed)
    words = Counter(w for r in real for w in re.findall(r"\S+", r["text"]))
    vocab, freq = zip(*words.most_common(), strict=True)
    cum = np.cumsum(np.asarray(freq, dtype=float))
    cum /= cum[-1]
    dim = vectors.shape[1]
    # Noise norm t with cos = 1/sqrt(1 + t^2) for a unit vector plus orthogonal-ish noise of norm t.
    sigma = np.sqrt(1 / NOISE_COS**2 - 1) / np.sqrt(dim)
    for i in range(n):
        base = real[i % len(real)]
        site = "RARE" if pyrng.random() < RARE_SHARE else ("CAM" if pyrng.random() < 0.5 else "LEI")
        rec = {
            "type": base["type"],
            "text": base["text"],
            "site": site,
            "process": "LVV" if base["type"] == "deviation" else "CAR-T",
            "ext_id": f"{base['ext_id']}",
        }
        vec = vectors[i % len(real)]
        if i >= len(real):
            toks = base["text"].split()
            draws = np.searchsorted(cum, rng.random(len(toks)))
            swap = rng.random(len(toks)) < 0.3
            toks = [
                vocab[min(d, len(vocab) - 1)] if s else t for t, s, d in zip(toks, swap, draws, strict=True)
            ]
            rec["text"] = " ".join(toks) + f" LOT {i:07d}"
            rec["ext_id"] = f"SYN-{i:07d}"
            vec = vec + rng.normal(0, sigma, dim).astype(np.float32)
            vec = vec / np.linalg.norm(vec)
        yield rec, np.asarray(vec, dtype=np.float32)


def build_base(n: int, *, rebuild: bool = False, exact_limit: int | None = None) -> dict[str, Any]:
    """Build (or reuse) a base of n entries; return build timings and sizes."""
    from kb.knowledge_base import KnowledgeBase
    from kb.models import Entry

    home = base_dir(n)
    done = home / "built.json"
    if done.is_file() and not rebuild:
        return json.loads(done.read_text())
    shutil.rmtree(home, ignore_errors=True)
    emb = CachingEmbedder()
    kb = (
        KnowledgeBase(home, embedder=emb)
        if exact_limit is None
        else KnowledgeBase(home, embedder=emb, exact_limit=exact_limit)
    )
    t0 = time.perf_counter()
    batch: list[tuple[dict[str, Any], np.ndarray]] = []
    written = 0

    def flush() -> None:
        nonlocal written
        entries = [Entry(**rec) for rec, _ in batch]
        with kb.store.transaction():
            stored = kb.store.insert(entries, author="bench", reason="latency base")
            kb.store.put_vectors(zip(stored, (v for _, v in batch), strict=True), emb.fingerprint)
        written += len(batch)
        batch.clear()
        if written % 100_000 == 0 or written == n:
            say(f"latency: base {n}: {written} rows ({time.perf_counter() - t0:.0f} s)")

    for item in _rows(n):
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    rows_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    kb.ensure_index()
    index_s = time.perf_counter() - t1
    meta = kb.index.meta
    kb.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    kb.close()
    info = {
        "n": n,
        "rows_s": rows_s,
        "index_build_s": index_s,
        "index_kind": meta.kind,
        "nprobe": meta.nprobe,
        "nlist": int(4 * np.sqrt(n)) if meta.kind == "ivf" else None,
        "build_peak_rss_mib": peak_rss_mib(),
        "db_mib": dir_size_mib(home / "tacitkb.db"),
        "index_mib": dir_size_mib(home / "index.faiss"),
    }
    done.write_text(json.dumps(info, indent=2))
    return info


def prepare_base(n: int) -> dict[str, Any]:
    """Open a built base once with the current code: schema migration, keyword index, index catch-up."""
    from kb.knowledge_base import KnowledgeBase

    home = base_dir(n)
    had_keywords = (home / "keywords.npz").is_file()
    kb = KnowledgeBase(home, embedder=CachingEmbedder())
    t0 = time.perf_counter()
    kb.ensure_index()
    info = {
        "prepare_s": time.perf_counter() - t0,
        "keywords_built_now": not had_keywords,
        "keywords_mib": dir_size_mib(home / "keywords.npz"),
        "db_mib": dir_size_mib(home / "tacitkb.db"),
        "index_mib": dir_size_mib(home / "index.faiss"),
        "repair": kb.last_index_repair,
        "prepare_peak_rss_mib": peak_rss_mib(),
    }
    kb.close()
    if not had_keywords:
        (home / "prepared.json").write_text(json.dumps(info, indent=2))
    return info


# -- queries --------------------------------------------------------------------------------------


def query_texts(count: int, seed: int = 1) -> list[str]:
    """Return real query texts: MaintNet problems (as typed) and the opening words of FDA reasons."""
    rng = random.Random(seed)
    problems = sorted({r.problem for r in load_maintnet()})
    reasons = [" ".join(r.reason.split()[:8]) for r in load_fda()]
    pool = rng.sample(problems, min(len(problems), count)) + rng.sample(reasons, min(len(reasons), count))
    rng.shuffle(pool)
    return pool[:count]


def measure(n: int, queries: int) -> dict[str, Any]:
    """Open a built base (this process only) and time the query configurations."""
    from kb.knowledge_base import KnowledgeBase
    from kb.retrieval.embed import load_embedder
    from kb.retrieval.search import SearchFilters, hybrid_search

    build = build_base(n)
    prepared_file = base_dir(n) / "prepared.json"
    prepared = json.loads(prepared_file.read_text()) if prepared_file.is_file() else {}
    emb = load_embedder()
    texts = query_texts(queries)
    emb.encode(texts[:8])
    rss_model = rss_mib()
    kb = KnowledgeBase(base_dir(n), embedder=emb)
    t0 = time.perf_counter()
    kb.ensure_index()
    open_s = time.perf_counter() - t0
    rss_open = rss_mib()
    configs = [
        ("dense", "dense", None),
        ("hybrid", "hybrid", None),
        ("dense + filter", "dense", SearchFilters(site="RARE")),
        ("hybrid + filter", "hybrid", SearchFilters(site="RARE")),
    ]
    for q in texts[:10]:  # warm-up: page cache, allocator
        for _, mode, flt in configs:
            kb.search(q, k=10, mode=mode, filters=flt)
    out: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg_at_measure": loadavg(),
        "n": n,
        "build": build,
        "prepared": prepared,
        "keywords_mib": dir_size_mib(base_dir(n) / "keywords.npz"),
        "db_mib_now": dir_size_mib(base_dir(n) / "tacitkb.db"),
        "open_s": open_s,
        "rss_model_mib": rss_model,
        "rss_after_open_mib": rss_open,
        "configs": {},
    }
    vectors = emb.encode(texts)
    encode_times = []
    for q in texts:
        t = time.perf_counter()
        emb.encode([q])
        encode_times.append(time.perf_counter() - t)
    out["encode_only"] = percentiles(encode_times)
    for name, mode, flt in configs:
        e2e, e2e_cpu, no_encode, hits_n = [], [], [], []
        for q, v in zip(texts, vectors, strict=True):
            t, c = time.perf_counter(), time.process_time()
            hits = kb.search(q, k=10, mode=mode, filters=flt)
            e2e.append(time.perf_counter() - t)
            e2e_cpu.append(time.process_time() - c)  # all threads of this process (torch uses 2)
            hits_n.append(len(hits))
            t = time.perf_counter()
            hybrid_search(
                kb.store, kb.index, kb.keywords, emb, q, k=10, mode=mode, filters=flt, query_vector=v
            )
            no_encode.append(time.perf_counter() - t)
        out["configs"][name] = {
            "e2e": percentiles(e2e),
            "e2e_cpu": percentiles(e2e_cpu),
            "search_without_encode": percentiles(no_encode),
            "mean_hits": float(np.mean(hits_n)),
            "loadavg": loadavg(),  # right after this configuration's queries
        }
        say(
            f"latency: {n}: {name}: p50 {out['configs'][name]['e2e']['p50_ms']:.1f} ms, "
            f"p95 {out['configs'][name]['e2e']['p95_ms']:.1f} ms"
        )
    out["peak_rss_serving_mib"] = peak_rss_mib()
    out["parts"] = parts(kb, texts, vectors)
    out["recall"] = approx_recall(kb, vectors)
    kb.close()
    return out


def _label(r: dict[str, Any]) -> str:
    """Return the size label of a result, marked when it comes from an earlier run."""
    if not r.get("earlier"):
        return f"{r['n']:,}"
    detail = ", ".join(
        x
        for x in (r.get("measured_at"), r.get("loadavg_at_measure") and f"load {r['loadavg_at_measure']}")
        if x
    )
    return f"{r['n']:,} (earlier run{': ' + detail if detail else ''})"


def parts(kb: Any, texts: list[str], vectors: np.ndarray) -> dict[str, Any]:
    """Time the pieces of a hybrid search separately, to show where the time goes."""
    from kb.models import format_id
    from kb.retrieval.search import SearchFilters, allowed_seqs, keyword_ranks, query_terms

    rare = SearchFilters(site="RARE")
    index, keywords = kb.index, kb.keywords
    rare_seqs = allowed_seqs(kb.store, rare)

    def each(fn) -> dict[str, float]:  # noqa: ANN001
        times, cpu = [], []
        for q, v in zip(texts, vectors, strict=True):
            t, c = time.perf_counter(), time.process_time()
            fn(q, v)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        return {**percentiles(times), "cpu_p95_ms": percentiles(cpu)["p95_ms"]}

    matches = [len(keywords.search(query_terms(q), len(keywords))[0]) for q in texts]
    top10 = {q: [format_id(s) for s in index.search(v, 10)[0]] for q, v in zip(texts, vectors, strict=True)}
    return {
        "keyword_matches_per_query_median": float(np.median(matches)),
        "keyword_ranks": each(lambda q, v: keyword_ranks(keywords, q, None, 50)),
        "keyword_ranks_filtered": each(lambda q, v: keyword_ranks(keywords, q, rare_seqs, 50)),
        "faiss_search": each(lambda q, v: index.search(v, 50)),
        "allowed_seqs_filter": each(lambda q, v: allowed_seqs(kb.store, rare)),
        "faiss_search_filtered": each(lambda q, v: index.search(v, 50, allowed_seqs(kb.store, rare))),
        "faiss_search_filtered_cold": each(
            lambda q, v: (index._filter_cache.clear(), index.search(v, 50, allowed_seqs(kb.store, rare)))
        ),
        "fetch_rows_and_links": each(
            lambda q, v: (kb.store.get_many(top10[q]), kb.store.links_for(top10[q]))
        ),
    }


def approx_recall(kb: Any, queries: np.ndarray, k: int = 10) -> dict[str, Any]:
    """Return recall@k of the index (as configured) against exact inner-product search."""
    import faiss

    index = kb.index
    if index.meta.kind != "ivf":
        return {"recall_at_10": 1.0, "kind": index.meta.kind, "nprobe": None}
    seqs, matrix = kb.store.vectors(kb.embedder.fingerprint)
    flat = faiss.IndexFlatIP(matrix.shape[1])
    flat.add(matrix)
    _, exact = flat.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    recalls = []
    for q, row in zip(queries, exact, strict=True):
        found, _ = index.search(q, k)
        recalls.append(len(set(seqs[row].tolist()) & set(found.tolist())) / k)
    by_nprobe = {}
    for nprobe in (index.meta.nprobe // 2, index.meta.nprobe * 2):
        if nprobe < 1:
            continue
        index.index.nprobe = nprobe
        _, got = index.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        by_nprobe[nprobe] = float(
            np.mean(
                [len(set(seqs[e].tolist()) & set(g.tolist())) / k for e, g in zip(exact, got, strict=True)]
            )
        )
    index.index.nprobe = index.meta.nprobe
    return {
        "recall_at_10": float(np.mean(recalls)),
        "kind": "ivf",
        "nprobe": index.meta.nprobe,
        "nlist": int(index.index.nlist),
        "recall_other_nprobe": by_nprobe,
    }


# -- driver ---------------------------------------------------------------------------------------


def run(sizes: list[int], queries: int = 200, *, rebuild: bool = False, docs: bool = True) -> dict[str, Any]:
    """Build and measure each size in a child process; print and document the table."""
    info = machine_info()
    results = []
    for n in sizes:
        out_file = WORK / "latency" / f"result-{n}.json"
        out_file.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "bench.latency",
            "--one",
            str(n),
            "--queries",
            str(queries),
            "--out",
            str(out_file),
        ] + (["--rebuild"] if rebuild else [])
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        t0 = time.perf_counter()
        build_cmd = [sys.executable, "-m", "bench.latency", "--build", str(n)] + (
            ["--rebuild"] if rebuild else []
        )
        say(f"latency: size {n}: {' '.join(build_cmd[1:])}")
        subprocess.run(build_cmd, check=True, cwd=REPO, env=env)
        cmd = [c for c in cmd if c != "--rebuild"]
        say(f"latency: size {n}: {' '.join(cmd[1:])}")
        subprocess.run(cmd, check=True, cwd=REPO, env=env)
        res = json.loads(out_file.read_text())
        res["wall_s"] = time.perf_counter() - t0
        results.append(res)
    info["loadavg_end"] = loadavg()
    # Sizes not run this time but measured before (same WORK folder) are kept in the table, marked.
    for n in STANDARD_SIZES:
        old = WORK / "latency" / f"result-{n}.json"
        if n not in sizes and old.is_file():
            res = json.loads(old.read_text())
            res["earlier"] = True
            results.append(res)
    results.sort(key=lambda r: r["n"])
    rows = []
    for r in results:
        for name, c in r["configs"].items():
            target = TARGETS_MS.get(r["n"])
            rows.append(
                [
                    _label(r),
                    name,
                    c["e2e"]["p50_ms"],
                    c["e2e"]["p95_ms"],
                    c["e2e_cpu"]["p95_ms"] if "e2e_cpu" in c else "-",
                    c["search_without_encode"]["p95_ms"],
                    f"< {target:.0f} ms: {'met' if c['e2e']['p95_ms'] < target else 'NOT met'}"
                    if target
                    else "-",
                    c.get("loadavg", "-"),
                ]
            )
    main = table(
        [
            "entries",
            "query",
            "p50 ms",
            "p95 ms",
            "p95 CPU ms",
            "p95 ms without query encode",
            "target p95",
            "load average",
        ],
        rows,
    )
    srows = []
    for r in results:
        b, rec = r["build"], r["recall"]
        srows.append(
            [
                _label(r),
                b["index_kind"]
                + (f" nlist {rec.get('nlist')} nprobe {rec['nprobe']}" if rec["nprobe"] else ""),
                rec["recall_at_10"],
                r["encode_only"]["p50_ms"],
                b["rows_s"],
                b["index_build_s"],
                r["open_s"],
                r["peak_rss_serving_mib"],
                b["build_peak_rss_mib"],
                r.get("db_mib_now", b["db_mib"]),
                b["index_mib"],
                r.get("keywords_mib", "-"),
                (r.get("prepared") or {}).get("prepare_s", "-"),
            ]
        )
    sizes_t = table(
        [
            "entries",
            "index",
            "recall@10 vs exact",
            "query encode p50 ms",
            "write rows s",
            "build index s",
            "open s",
            "peak RSS serving MiB",
            "peak RSS build MiB",
            "db MiB",
            "index MiB",
            "keyword index MiB",
            "keyword build s",
        ],
        srows,
    )
    part_names = [
        ("query encode", None),
        ("BM25 keyword_ranks (k=50)", "keyword_ranks"),
        ("BM25 keyword_ranks, filtered (allowed set given)", "keyword_ranks_filtered"),
        ("FAISS search (k=50)", "faiss_search"),
        ("allowed_seqs (filter SQL)", "allowed_seqs_filter"),
        ("FAISS search filtered (incl. allowed_seqs)", "faiss_search_filtered"),
        ("same, the filter's first use (its vectors not cached)", "faiss_search_filtered_cold"),
        ("fetch 10 rows and their links", "fetch_rows_and_links"),
    ]
    prow = []
    for label, key in part_names:
        row = [label]
        for r in results:
            pr = r["encode_only"] if key is None else r["parts"].get(key)
            cell = f"{pr['p50_ms']:.1f} / {pr['p95_ms']:.1f}" if pr else "-"  # older runs lack some
            row.append(cell + (f" (CPU p95 {pr['cpu_p95_ms']:.1f})" if pr and "cpu_p95_ms" in pr else ""))
        prow.append(row)
    prow.append(
        ["entries matching a query word (median)"]
        + [
            f"{r['parts']['keyword_matches_per_query_median']:,.0f}"
            if "keyword_matches_per_query_median" in r["parts"]
            else "-"
            for r in results
        ]
    )
    parts_t = table(["part (p50 / p95 ms)", *(_label(r) for r in results)], prow)
    print(main)
    print()
    print(sizes_t)
    print()
    print(parts_t)
    result = {"machine": info, "results": results}
    if docs:
        body = f"""## 2. Query latency at 10k, 100k and 1M entries

Command: `.venv/bin/python -m bench.latency --sizes {",".join(str(s) for s in sizes)} --queries {queries}`

{machine_line(info)}

{queries} real queries per configuration (MaintNet problem texts and FDA reason openings), k = 10, after
10 warm-up queries; one process per size. "filter" = `SearchFilters(site="RARE")`, which keeps 1 % of the
rows. End to end = `KnowledgeBase.search` (query encode, filter SQL, BM25 keyword index, FAISS,
fusion, row and link fetch). "load average" is the machine's 1/5/15-minute load right after that row's
queries: with 2 cores, anything above ~1 means other processes were competing for them. "p95 CPU ms" is
the process's CPU time per query (user + system, both torch threads), which moves far less with that load
than wall time does.

{main}

{sizes_t}

Where the time goes (each part timed alone over the same queries):

{parts_t}

Recall@10 is the IVF index as tuned at build time (`kb/retrieval/vector_index.py` `tune_nprobe`) against exact
inner-product search, on the benchmark's query vectors; target >= {TARGET_RECALL}. Filtered searches
are exact (the allowed vectors are scored directly); the vectors of the last filters used are kept in
memory (`kb/retrieval/vector_index.py`, up to 100k vectors), so the filtered rows show a filter in use, and the parts
table shows its first use too. "open" is the first `ensure_index()` of a
process: read both index files and check them against the database. "keyword build s" is building the
BM25 index from the database (once, when its file is missing). Bases above ~10.7k rows are synthetic
variants of the real rows (see `bench/latency.py`).
"""
        body += LATENCY_NOTES
        write_section("latency", body)
    save_result("latency", result)
    return result


LATENCY_NOTES = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the bases under /tmp")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build_base(args.build, rebuild=args.rebuild), indent=2))
        print(json.dumps(prepare_base(args.build), indent=2))
        return
    if args.one:
        res = measure(args.one, args.queries)
        Path(args.out).write_text(json.dumps(res, indent=2))
        return
    run([int(s) for s in args.sizes.split(",")], args.queries, rebuild=args.rebuild, docs=not args.no_docs)


if __name__ == "__main__":
    main()
