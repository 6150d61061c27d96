"""Clustering plus drift time for 10k deviations: cluster_deviations per stage, then the default drift.

    .venv/bin/python -m bench.cluster [--sizes 2000,10000] [--reps 2] [--no-docs]

Deviations: the distinct real texts (FDA recall reasons, one per Event ID, and MaintNet problem + action
records), with their real all-MiniLM-L6-v2 vectors; above the ~8.6k distinct real texts, synthetic
variants as in bench/latency.py. Encoding is not part of the clustering time (vectors are stored). Stage
names and times come from the result's own `timings` (prepare, reduce, select_k, fit, outliers, label).
Drift: the default of `tacitkb drift` (counts or shares chosen from the record, all four detectors) over the
clusters, with dates spread over four years and five sites by a fixed seed (drift's time does not depend on
what the texts say). Target (issue 12): clustering plus drift on 10,000 deviations under 10 s.
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
    peak_rss_mib,
    save_result,
    say,
    table,
    write_section,
)


def deviations(n: int) -> tuple[list[str], np.ndarray, list[str]]:
    """Return (ids, vectors, texts) of n deviations."""
    from bench.latency import _rows

    ids, vecs, texts = [], [], []
    for i, (rec, vec) in enumerate(_rows(n)):
        ids.append(f"KB-{i + 1:06d}")
        vecs.append(vec)
        texts.append(rec["text"])
    return ids, np.vstack(vecs).astype(np.float32), texts


def drift_seconds(result: Any, ids: list[str], texts: list[str]) -> tuple[float, float]:
    """Return the wall and CPU time of the default drift review over these clusters (seeded dates and sites),
    the term-burst detector included (its words are read from the texts inside the timing)."""
    from datetime import date, timedelta

    from kb.analytics.calibration import choose_exposure
    from kb.analytics.drift import DriftRecord, detect_drift
    from kb.analytics.drift.terms import record_terms

    rng = np.random.default_rng(0)
    of = result.cluster_of()
    days = rng.integers(0, 4 * 365, len(ids))
    recs = [
        DriftRecord(e, of.get(e), date(2021, 1, 1) + timedelta(days=int(d)), f"Site {rng.integers(0, 5)}")
        for e, d in zip(ids, days, strict=True)
    ]
    t0, c0 = time.perf_counter(), time.process_time()
    choice = choose_exposure(recs)
    words = record_terms(dict(zip(ids, texts, strict=True)))
    detect_drift(recs, exposure=choice.exposure, repeat_min=2, entry_terms=words)
    return time.perf_counter() - t0, time.process_time() - c0


def run(sizes: list[int], reps: int = 2, *, docs: bool = True) -> dict[str, Any]:
    from kb.analytics.clustering import cluster_deviations

    info = machine_info()
    results = []
    for n in sizes:
        ids, vectors, texts = deviations(n)
        runs = []
        for rep in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            res = cluster_deviations(ids, vectors, texts)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            drift_s, drift_cpu = drift_seconds(res, ids, texts)
            runs.append(
                {
                    "wall_s": wall,
                    "drift_s": drift_s,
                    "cluster_plus_drift_s": wall + drift_s,
                    # One BLAS thread: CPU time is what the wall time would be on an idle core.
                    "cluster_plus_drift_cpu_s": cpu + drift_cpu,
                    "loadavg": loadavg(),
                    "families": len(res.families),
                    "timings": dict(res.timings),
                    "k": len(res.clusters),
                    "unclustered": len(res.unclustered_ids),
                }
            )
            say(
                f"cluster: n={n} rep {rep + 1}: {wall:.1f} s + drift {drift_s:.1f} s (CPU {cpu + drift_cpu:.1f} s), "
                f"k={len(res.clusters)}, "
                f"timings {res.timings}, load {loadavg()}"
            )
        best = min(runs, key=lambda r: r["cluster_plus_drift_s"])
        results.append({"n": n, "runs": runs, "best": best})
    info["loadavg_end"] = loadavg()
    info["peak_rss_mib"] = peak_rss_mib()
    stages = sorted(
        {s for r in results for s in r["best"]["timings"] if s != "total"},
        key=lambda s: (
            ["prepare", "reduce", "select_k", "fit", "outliers", "label"].index(s)
            if s in ["prepare", "reduce", "select_k", "fit", "outliers", "label"]
            else 99
        ),
    )
    rows = [
        [
            f"{r['n']:,}",
            *(r["best"]["timings"].get(s, float("nan")) for s in stages),
            r["best"]["timings"].get("total", r["best"]["wall_s"]),
            r["best"]["wall_s"],
            r["best"]["drift_s"],
            r["best"]["cluster_plus_drift_s"],
            r["best"]["cluster_plus_drift_cpu_s"],
            r["best"]["loadavg"],
            r["best"]["k"],
            r["best"]["families"],
            r["best"]["unclustered"],
        ]
        for r in results
    ]
    main = table(
        [
            "deviations",
            *(f"{s} s" for s in stages),
            "total s",
            "wall s",
            "drift s",
            "cluster + drift s",
            "cluster + drift CPU s",
            "load average",
            "clusters",
            "families",
            "unclustered",
        ],
        rows,
    )
    print(main)
    result = {"machine": info, "results": results}
    if docs:
        body = f"""## 5. Clustering time per stage

Command: `.venv/bin/python -m bench.cluster --sizes {",".join(str(s) for s in sizes)} --reps {reps}`

{machine_line(info)}

`kb.analytics.clustering.cluster_deviations(ids, vectors, texts)` with its defaults (one BLAS thread, see the
function), on real deviation-like texts with stored vectors (no encoding in the time); best of {reps}.
Stage times are the function's own `timings`. Peak RSS of the process: {info["peak_rss_mib"]:.0f} MiB.

{main}
"""
        write_section("cluster", body)
    save_result("cluster", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    run([int(s) for s in args.sizes.split(",")], args.reps, docs=not args.no_docs)


if __name__ == "__main__":
    main()
