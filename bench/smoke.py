"""Run every benchmark at a tiny size (well under 60 s on 2 cores); docs/benchmarks.md is not touched.

    .venv/bin/python -m bench.smoke

Works in a throw-away folder (TACITKB_BENCH_DIR is pointed at a temporary directory unless set), so
it never reuses or disturbs the real benchmark bases. Exits non-zero if a benchmark fails. A test may
call `bench.smoke.main()`; it needs ../shared/data and the model, and should skip when the data is absent.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main(workdir: str | None = None) -> dict[str, float]:
    """Run all benchmarks tiny; return seconds per benchmark."""
    tmp = (
        workdir
        or os.environ.get("TACITKB_BENCH_SMOKE_DIR")
        or tempfile.mkdtemp(prefix="tacitkb-bench-smoke-")
    )
    os.environ["TACITKB_BENCH_DIR"] = tmp
    import importlib

    import bench.common as common

    importlib.reload(common)  # WORK is read from the environment at import
    common.RESULTS = Path(tmp) / "results"
    from bench import cluster, compare, ingest, latency, quality, quality_learning, startup

    for mod in (ingest, latency, quality, quality_learning, compare, cluster, startup):
        importlib.reload(mod)
    times: dict[str, float] = {}
    t_all = time.perf_counter()

    def step(name: str, fn) -> None:  # noqa: ANN001
        t0 = time.perf_counter()
        fn()
        times[name] = time.perf_counter() - t0
        print(f"smoke: {name}: ok ({times[name]:.1f} s)", file=sys.stderr, flush=True)

    common.embedder().encode(["load the model once"])
    step("ingest", lambda: ingest.run(n=24, reps=1, docs=False))

    def lat() -> None:
        latency.build_base(240, exact_limit=100)  # IVF above 100 vectors: exercises nprobe tuning and recall
        out = latency.measure(240, 4)
        assert out["recall"]["kind"] == "ivf", out["recall"]

    step("latency", lat)
    step(
        "startup",
        lambda: startup.run(
            40,
            1,
            docs=False,
            only=("stats", "show", "search --stdin, 1 query", "search --stdin, 51 queries"),
        ),
    )
    step("quality", lambda: quality.run(6, docs=False, sample_limit=30, maint_corpus_limit=20))
    step("learning", lambda: quality_learning.smoke())
    step("compare", lambda: compare.run(5, docs=False, sets=("maintnet",), corpus_limit=20))
    step("cluster", lambda: cluster.run([150], reps=1, docs=False))
    times["total"] = time.perf_counter() - t_all
    print(f"smoke: all benchmarks ran in {times['total']:.1f} s", file=sys.stderr)
    return times


if __name__ == "__main__":
    main()
