"""Evaluate clusters and drift on real records: FDA drug recalls (two mappings), MaintNet and the samples.

    .venv/bin/python -m bench.fda_eval [--work DIR] [--permutations 20] [--no-doc]

What it does (results: docs/fda_evaluation.md from bench/fda_report.md, raw JSON: DIR/fda_eval.json):

1. Imports as a user would, with the CLI: the FDA export reduced to one row per recall event
   (bench/fda_data.py, written to DIR, never into the repository) twice, `tacitkb import ... --map` with the
   product description kept as a field, and with it as the title; MaintNet (problem as the text; it has no
   dates); and `tacitkb init --samples`. A DIR/NAME folder that already holds a knowledge base is reused.
2. Clusters with the defaults (what `tacitkb clusters` shows) and scores them against FDA's reason
   categories: ARI and NMI over all events (unclustered events count as one more cluster).
3. Drift with the defaults (what `tacitkb drift --calibrate N` prints): the signals, whether each FDA wave
   is signalled near its onset by a signal most of whose records are about it, and the measured false
   alarms over N permutations of the dates beside the nominal rate.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import MAINTNET_CSV, REPO, loadavg
from bench.fda_data import MAPPINGS, SINCE, WAVES, normalise_category, write_event_csv

DOC = REPO / "docs" / "fda_evaluation.md"
TEMPLATE = Path(__file__).with_name("fda_report.md")
# A wave counts as signalled "near its onset" when the signal starts within this many months of it.
ONSET_MONTHS = 6


def say(*parts: Any) -> None:
    """Print progress to stderr."""
    print(*parts, file=sys.stderr, flush=True)


def cli(*args: str) -> str:
    """Run the tacitkb CLI (as a user would) and return its output; fail loudly on an error."""
    cmd = [sys.executable, "-m", "cli.main", *args]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench.fda_eval: {' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def build(work: Path, names: list[str]) -> dict[str, Path]:
    """Return the named knowledge bases (importing through the CLI where they do not exist yet)."""
    work.mkdir(parents=True, exist_ok=True)
    events = work / "fda_events.csv"
    if not events.exists():
        write_event_csv(events)
    homes = {"fda-field": work / "kb-field", "fda-title": work / "kb-title", "maintnet": work / "kb-maint"}
    for name, home in homes.items():
        if name not in names or (home / "tacitkb.db").exists():
            continue
        cli("--kb", str(home), "init")
        if name == "maintnet":
            maps = {"ext_id": "IDENT", "text": "PROBLEM"}
            src = MAINTNET_CSV
        else:
            maps = MAPPINGS[name.split("-")[1]]
            src = events
        args = [a for f, c in maps.items() for a in ("--map", f"{f}={c}")]
        t = time.perf_counter()
        say(cli("--kb", str(home), "import", str(src), "--type", "deviation", *args).strip())
        say(f"fda_eval: imported {name} in {time.perf_counter() - t:.0f} s (load {loadavg()})")
    samples = work / "kb-samples"
    if "samples" in names and not (samples / "tacitkb.db").exists():
        cli("--kb", str(samples), "init", "--samples")
    homes["samples"] = samples
    return homes


def evaluate(name: str, home: Path, permutations: int) -> dict[str, Any]:
    """Return the clusters, their agreement with FDA's categories and the default drift of one record."""
    from sklearn import metrics

    from kb.analytics.quality import cluster_rows, drift_report, run_clustering
    from kb.knowledge_base import KnowledgeBase
    from kb.models import KBError

    kb = KnowledgeBase(home)
    out: dict[str, Any] = {"name": name}
    t = time.perf_counter()
    result = run_clustering(kb)
    out["cluster_s"] = round(time.perf_counter() - t, 2)
    out["loadavg"] = loadavg()
    rows = cluster_rows(kb, result)
    entries = {e.id: e for e in kb.store.iter_entries(type="deviation")}
    of = result.cluster_of()
    out.update(
        n=result.n_items,
        k=len(result.clusters),
        unclustered=len(result.unclustered_ids),
        largest=max((c.size for c in result.clusters), default=0),
        families=result.families,
        clusters=[{k: r[k] for k in ("id", "family", "label", "size")} for r in rows],
    )
    if name.startswith("fda"):
        ids = sorted(entries)
        cats = [normalise_category(entries[i].text) for i in ids]
        labs = [of.get(i, "unclustered") for i in ids]
        out["ari"] = round(metrics.adjusted_rand_score(cats, labs), 3)
        out["nmi"] = round(metrics.normalized_mutual_info_score(cats, labs), 3)
        out["n_categories"] = len(set(cats))
        for c in out["clusters"]:
            top = Counter(cats[ids.index(m)] for m in result.get(c["id"]).member_ids).most_common(1)[0]
            c["top_category"] = f"{top[0]} ({top[1] / c['size']:.0%})"
    t = time.perf_counter()
    try:
        report = drift_report(kb, since=SINCE if name.startswith("fda") else None, calibrate=permutations)
    except KBError as exc:
        out["drift_error"] = str(exc)
        kb.close()
        return out
    out["drift_s"] = round(time.perf_counter() - t, 2)
    out["watching"] = report.params["watching"]
    out["watching_reason"] = report.params["watching_reason"]
    out["calibration"] = report.params.get("calibration")
    out["nominal_per_year"] = report.false_alarm_rate.get("total_per_year")
    out["signals"] = []
    for s in report.signals:
        texts = [entries[e].text for e in s.entry_ids if e in entries]
        sig = {
            "kind": s.kind,
            "cluster": s.cluster_id,
            "site": s.site,
            "start": s.start_period,
            "alarm": s.details.get("alarm_period"),
            "end": s.end_period,
            "n": len(s.entry_ids),
            "p": s.details.get("permutation_p"),
            "message": s.message,
        }
        for wave, (rx, _) in WAVES.items():
            sig[wave] = sum(bool(re.search(rx, t, re.I)) for t in texts)
        out["signals"].append(sig)
    if name.startswith("fda"):
        out["waves"] = {}
        for wave, (rx, onset) in WAVES.items():
            hits = [
                s
                for s in out["signals"]
                if s["kind"] in ("rising", "term_burst", "emerging")
                and s[wave] * 2 > s["n"]
                and _months(onset, s["start"]) <= ONSET_MONTHS
            ]
            total = sum(bool(re.search(rx, e.text, re.I)) for e in entries.values())
            out["waves"][wave] = {"onset": onset, "records": total, "signals": hits}
    kb.close()
    return out


def wave_spread(home: Path) -> dict[str, dict[str, int]]:
    """Return, per wave, how its records spread over the stored run's clusters (no model needed)."""
    from kb.analytics.cluster_runs import load_run
    from kb.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(home)
    run = load_run(kb.store, entry_type="deviation")
    of = run.cluster_of() if run else {}
    out = {}
    for wave, (rx, _) in WAVES.items():
        hits = [e.id for e in kb.store.iter_entries(type="deviation") if re.search(rx, e.text, re.I)]
        out[wave] = dict(Counter(of.get(i, "unclustered") for i in hits).most_common())
    kb.close()
    return out


def _months(a: str, b: str) -> int:
    """Return |b - a| in months between two YYYY-MM periods."""
    ya, ma = int(a[:4]), int(a[5:7])
    yb, mb = int(b[:4]), int(b[5:7])
    return abs((yb - ya) * 12 + mb - ma)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and write the doc."""
    from bench.fda_render import render  # noqa: PLC0415 - only needed here

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/tacitkb-eval"))
    parser.add_argument("--permutations", type=int, default=20)
    parser.add_argument(
        "--only", default="", help="Comma-separated subset: fda-field,fda-title,maintnet,samples"
    )
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--render-only", action="store_true", help="Write the doc from DIR/fda_eval.json.")
    args = parser.parse_args(argv)
    names = [s for s in args.only.split(",") if s] or ["fda-field", "fda-title", "maintnet", "samples"]
    store = args.work / "fda_eval.json"
    # Results of earlier partial runs are kept, so records can be evaluated one at a time.
    results = json.loads(store.read_text()) if store.exists() else {}
    if args.render_only:
        for name, r in results.items():
            if name.startswith("fda"):
                for wave, spread in wave_spread(args.work / f"kb-{name.split('-')[1]}").items():
                    r["waves"][wave]["by_cluster"] = spread
        DOC.write_text(render(results, args.permutations))
        return 0
    homes = build(args.work, names)
    for name in names:
        say(f"fda_eval: evaluating {name} (load {loadavg()})")
        results[name] = evaluate(name, homes[name], args.permutations)
        say(
            json.dumps(
                {k: v for k, v in results[name].items() if k not in ("clusters", "signals")}, default=str
            )[:2000]
        )
    # Re-read first: another run may have stored other records meanwhile.
    merged = json.loads(store.read_text()) if store.exists() else {}
    merged.update({n: results[n] for n in names})
    results = merged
    store.write_text(json.dumps(results, indent=1, default=str))
    if not args.no_doc:
        DOC.write_text(render(results, args.permutations))
        say(f"fda_eval: wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
