"""Evaluate clustering and drift signals on real data: FDA drug recalls, one recall event = one deviation.

    .venv/bin/python -m bench.fda_eval [--kb DIR] [--shuffles N] [--rebuild] [--no-doc]

What it does (results: docs/fda_evaluation.md, raw JSON: DIR/fda_eval_results.json):

1. Builds a knowledge base in DIR (default /tmp/tacitkb-fda) by importing
   ../shared/data/fda_recalls/fda_drug_enforcement_reports_2012-2026.csv through the real importer
   (ingest.importers.import_records, the same call as `tacitkb import FILE --type deviation
   --map ext_id="Event ID" --map text="Reason for Recall" --map occurred_at="Recall Initiation Date"
   --map site="Recalling Firm" --ignore-unmapped`). The file has one row per product, so the importer
   leaves one entry per distinct (Event ID, reason text); every entry after the first of an event is
   then retired (with a reason, through KnowledgeBase.retire) so that one recall event is one
   deviation. A DIR built by an earlier run is reused (import counts and timings are read back from
   DIR/fda_eval_import.json); --rebuild deletes it first.
2. Clusters through kb.qa.current_clusters (what `tacitkb clusters` and `tacitkb drift` use) and
   compares the clusters with FDA's own reason categories (the phrase the reason starts with,
   normalised by CATEGORY_RULES below): ARI, NMI, AMI, homogeneity, completeness, purity.
3. Drift: kb.qa.drift_report (what `tacitkb drift --since 2012-06-01 --exposure total` prints) and
   kb.drift.detect_drift on the same records with the export gaps declared as known_gaps (drift_report
   cannot pass them), plus two sensitivity settings (a 36-month baseline; raw counts).
4. The false-alarm rate with dates shuffled (kb.drift.shuffle_false_alarm_rate) for each setting.

Real data is read from ../shared/data relative to the repository root (TACITKB_BENCH_DATA overrides the
folder) and never copied into the repository.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import common
from bench.common import FDA_CSV, REPO, TimingEmbedder, loadavg, peak_rss_mib
from kb.files import file_sha256

FDA_SHA256 = "e401451b06e4a6d47cfaa3835bf04339a1070dd4e805db0b8715a38487402c76"
DEFAULT_KB = Path("/tmp/tacitkb-fda")
DOC = REPO / "docs" / "fda_evaluation.md"
MARKER = "fda_eval_import.json"
RESULTS = "fda_eval_results.json"

# The importer mapping (the CLI's --map FIELD=COLUMN); site = the recalling firm, see the doc for why.
MAPPING = {
    "ext_id": "Event ID",
    "text": "Reason for Recall",
    "occurred_at": "Recall Initiation Date",
    "site": "Recalling Firm",
}
# FDA's Enforcement Report starts in June 2012 (first Center Classification Date 2012-06-11): events
# initiated earlier are only the ones classified later, so the months before are left-truncated.
SINCE = "2012-06-01"
# Export holes (README): Class II/III records with Center Classification Date in these windows are missing.
EXPORT_HOLES = [("2013-01-01", "2013-01-13"), ("2017-09-29", "2017-12-04")]
# An initiation month is a known gap when the hole is expected to have removed at least this share of it.
GAP_LOSS_THRESHOLD = 0.2
SENSITIVITY_BASELINE = 36  # months: 2012-06..2015-05, before the 2018-2019 impurity wave

# FDA reason category = the phrase the "Reason for Recall" text starts with (usually before ':', but
# also before ';', '.', ' - ' or with no delimiter at all), normalised: lower case, typos fixed (FIXES),
# then the first rule whose pattern matches at the start of the text names the category.
FIXES = [
    (r"foriegn", "foreign"),
    (r"degredation", "degradation"),
    (r"labelling", "labeling"),
    (r"impuities", "impurities"),
    (r"microbal", "microbial"),
    (r"falied", "failed"),
    (r"^supotent", "subpotent"),
    (r"^supterpotent", "superpotent"),
    (r"^marked without", "marketed without"),
    (r"particular matter", "particulate matter"),
    (r"lack of assurance sterility", "lack of assurance of sterility"),
    (r"stability date", "stability data"),
    (r"\s+", " "),
]
CATEGORY_RULES: list[tuple[str, str]] = [
    (
        "cgmp deviations",
        r"(lack of )?(c ?gmps?|gcmp|cmgp|gmp|current good manufacturing|good manufacturing)\b",
    ),
    (
        "lack of assurance of sterility",
        r"(lack of (assurance of )?sterility|lack of sterile|sterility assurance)",
    ),
    ("non-sterility", r"(non[- ]?sterility|microbial contamination of (a )?sterile)"),
    ("microbial contamination of non-sterile products", r"microbial contamination"),
    ("failed impurities/degradation specifications", r"(failed )?(impurit|degradation)"),
    (
        "failed dissolution specifications",
        r"(failed (usp )?dissolution|out of specification for dissolution|dissolution)",
    ),
    ("failed content uniformity specifications", r"(failed (usp )?)?content uniformity"),
    (
        "failed tablet/capsule specifications",
        r"(failed (tablet|capsule|lozenge)|tablet (thickness|separation))",
    ),
    (
        "failed stability specifications",
        r"(failed stability|stability data does not support|product lacks stability)",
    ),
    ("failed ph specifications", r"failed ph\b"),
    ("failed moisture limits", r"failed moisture"),
    ("failed viscosity specifications", r"failed viscosity"),
    ("subpotent drug", r"sub[- ]?poten"),
    ("superpotent drug", r"super[- ]?poten"),
    ("marketed without an approved nda/anda", r"marketed without"),
    ("presence of particulate matter", r"(presence of )?particulate"),
    ("presence of foreign tablets/capsules", r"(adulterated )?presence of (a )?foreign (tablet|capsule)"),
    (
        "presence of foreign substance",
        r"(presence of (a )?foreign|foreign (matter|substance|material|particle))",
    ),
    ("presence of precipitate", r"presence of precipitate"),
    ("defective container", r"defective container"),
    ("defective delivery system", r"(miscalibrated|defective delivery|does not deliver)"),
    ("chemical contamination", r"chemical contamination"),
    ("cross contamination with other products", r"(penicillin )?cross[- ]?contamination"),
    ("discoloration", r"discolo"),
    ("crystallization", r"crystal"),
    ("temperature abuse", r"temperature abuse"),
    ("lack of processing controls", r"lack of processing control"),
    ("product mix-up / mispack", r"(product mix[- ]?up|correct labeled product mis|unit dose mispack)"),
    ("labeling", r"(label|mislabel|incorrect label|misbrand|incorrect or missing lot|incorrect expiration)"),
    ("incorrect product formulation", r"incorrect product formulation"),
    ("incorrect/undeclared excipients", r"incorrect ?/ ?undeclared excipient"),
    ("short fill", r"short ?fill"),
    ("resuspension problems", r"resuspension"),
    ("does not meet monograph", r"does not meet (usp or otc )?monograph"),
    ("contraceptive tablets out of sequence", r"contraceptive tablets out of sequence"),
    ("tablets/capsules imprinted with wrong id", r"tablets?/capsules? imprinted"),
]
OTHER = "(other / no category phrase)"
_RULES = [(name, re.compile(pattern)) for name, pattern in CATEGORY_RULES]

# Real-world waves to look for in the evidence of each signal: regexes over the reason text (R), the
# firm (F), or the product description from the CSV (P, joined on Event ID; not in the knowledge base).
THEMES: dict[str, tuple[str, str]] = {
    "nitrosamine (NDMA/NDEA/NMBA/...)": (
        "R",
        r"nitros|\bndma\b|\bndea\b|\bnmba\b|\bndipa\b|\bneipa\b|\bnnk\b",
    ),
    "azido impurity": ("R", r"azido"),
    "benzene": ("R", r"benzene"),
    "methanol": ("R", r"methanol"),
    "sartan (product)": ("P", r"sartan\b"),
    "ranitidine/nizatidine (product)": ("P", r"ranitidine|nizatidine"),
    "metformin (product)": ("P", r"metformin"),
    "hand sanitizer (product)": ("P", r"saniti[sz]"),
    "pharmacy/compounder (firm)": ("F", r"pharmacy|compound|apothecary|outsourc"),
}


def say(*parts: Any) -> None:
    """Print progress to stderr (the summary table goes to stdout)."""
    print(*parts, file=sys.stderr, flush=True)


def require_data() -> None:
    """Fail with a clear message when the shared FDA data is absent."""
    if not FDA_CSV.is_file():
        raise SystemExit(
            f"bench.fda_eval: {FDA_CSV} is missing. This evaluation reads the FDA recall export from "
            "../shared/data relative to the repository root (or $TACITKB_BENCH_DATA); see "
            "../shared/data/README.md. Nothing was run."
        )


# -- machine facts ---------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """Return the shared machine facts plus the clustering libraries' versions."""
    import scipy
    import sklearn

    return {**common.machine_info(), "scipy": scipy.__version__, "sklearn": sklearn.__version__}


# -- categories --------------------------------------------------------------------------------------


def normalise_category(reason: str) -> str:
    """Return FDA's reason category of a 'Reason for Recall' text, normalised (OTHER when none matches)."""
    text = (reason or "").strip().lower()
    for pattern, repl in FIXES:
        text = re.sub(pattern, repl, text)
    text = text.lstrip(" -:;.,\"'(")
    for name, rx in _RULES:
        if rx.match(text):
            return name
    return OTHER


def raw_prefix(reason: str) -> str:
    """Return the text before the first ':' (lower case, trimmed), as the README defines the category."""
    text = (reason or "").strip()
    return " ".join(text.split(":", 1)[0].lower().split()) if ":" in text else ""


# -- the source file (for facts the knowledge base does not hold) -------------------------------------


def read_events() -> dict[str, dict[str, Any]]:
    """Return per Event ID: classification, classification date, initiation date, product descriptions."""
    events: dict[str, dict[str, Any]] = {}
    with FDA_CSV.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            eid = (row.get("Event ID") or "").strip()
            if not eid:
                continue
            ev = events.setdefault(
                eid,
                {
                    "classification": (row.get("Classification") or "").strip(),
                    "classified": (row.get("Center Classification Date") or "").strip()[:10],
                    "initiated": (row.get("Recall Initiation Date") or "").strip()[:10],
                    "firm": (row.get("Recalling Firm") or "").strip(),
                    "products": [],
                    "rows": 0,
                    "reasons": set(),
                },
            )
            ev["rows"] += 1
            ev["reasons"].add((row.get("Reason for Recall") or "").strip())
            if len(ev["products"]) < 20:
                ev["products"].append((row.get("Product Description") or "")[:300])
    return events


def _month(day: str) -> str:
    return day[:7]


def _months_between(first: dt.date, last: dt.date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def known_gap_months(events: dict[str, dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the initiation months the export holes thin out, and the expected-loss table behind them.

    A Class II/III recall is missing when its classification date falls in a hole. For an initiation
    month M, the expected share lost is the share of Class II/III recalls (estimated over the whole
    file) times the chance that a recall initiated on a day of M is classified inside the hole, from
    the empirical initiation-to-classification lag of all Class II/III recalls classified outside the
    holes. Months with an expected loss of at least GAP_LOSS_THRESHOLD are declared known gaps.
    """
    holes = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in EXPORT_HOLES]
    lags, n23, n_all = [], 0, 0
    by_month: Counter[str] = Counter()
    for ev in events.values():
        try:
            ini = dt.date.fromisoformat(ev["initiated"])
            cls = dt.date.fromisoformat(ev["classified"])
        except ValueError:
            continue
        n_all += 1
        by_month[_month(ev["initiated"])] += 1
        if ev["classification"] in ("Class II", "Class III"):
            n23 += 1
            if not any(a <= cls <= b for a, b in holes):
                lags.append((cls - ini).days)
    lag_arr = np.sort(np.array(lags))
    share23 = n23 / max(n_all, 1)

    def p_lag_between(lo: int, hi: int) -> float:
        if hi < lo:
            return 0.0
        return float(
            np.searchsorted(lag_arr, hi, side="right") - np.searchsorted(lag_arr, lo, side="left")
        ) / len(lag_arr)

    rows, gaps = [], []
    for a, b in holes:
        # Months initiated up to two years before the hole can lose records (the lag's long tail).
        for month in _months_between(a - dt.timedelta(days=730), b):
            y, m = int(month[:4]), int(month[5:])
            first = dt.date(y, m, 1)
            nxt = dt.date(y + (m == 12), 1 if m == 12 else m + 1, 1)
            days = [first + dt.timedelta(days=i) for i in range((nxt - first).days)]
            loss = share23 * float(np.mean([p_lag_between((a - d).days, (b - d).days) for d in days]))
            if loss >= 0.01:
                rows.append(
                    {
                        "hole": f"{a}..{b}",
                        "month": month,
                        "expected_loss": round(loss, 3),
                        "observed": by_month.get(month, 0),
                        "declared_gap": loss >= GAP_LOSS_THRESHOLD,
                    }
                )
            if loss >= GAP_LOSS_THRESHOLD:
                gaps.append(month)
    return sorted(set(gaps)), rows


# -- step 1: the knowledge base ------------------------------------------------------------------------


def build_kb(kb_dir: Path, rebuild: bool) -> tuple[Any, dict[str, Any]]:
    """Return the knowledge base (importing the CSV if needed) and the import facts."""
    from ingest.importers import import_records
    from kb.knowledge_base import KnowledgeBase
    from kb.retrieval.embed import load_embedder

    marker = kb_dir / MARKER
    if rebuild and kb_dir.exists():
        if not marker.is_file():
            raise SystemExit(
                f"bench.fda_eval: --rebuild refuses to delete {kb_dir}: it has no {MARKER}, so this script "
                "did not build it. Pass another --kb folder or remove it yourself."
            )
        shutil.rmtree(kb_dir)
    if marker.is_file():
        facts = json.loads(marker.read_text())
        facts["reused"] = True
        say(f"fda_eval: reusing {kb_dir} (built {facts.get('built_at')}); --rebuild to import again")
        t = time.perf_counter()
        kb = KnowledgeBase(kb_dir, embedder=load_embedder())
        facts["model_load_s_this_run"] = round(time.perf_counter() - t, 2)
        return kb, facts
    if kb_dir.exists() and any(kb_dir.iterdir()):
        raise SystemExit(
            f"bench.fda_eval: {kb_dir} exists and was not built by this script (no {MARKER}); "
            "pass an empty or new --kb folder."
        )
    t = time.perf_counter()
    emb = TimingEmbedder(load_embedder())
    model_load = time.perf_counter() - t
    kb = KnowledgeBase(kb_dir, embedder=emb)
    say(f"fda_eval: importing {FDA_CSV.name} into {kb_dir} (encodes ~5.3k texts; minutes on 2 cores)")
    t = time.perf_counter()
    report = import_records(
        kb,
        FDA_CSV,
        mapping=dict(MAPPING),
        default_type="deviation",
        keep_unmapped=False,
        author="bench.fda_eval",
    )
    import_s = time.perf_counter() - t
    reject_reasons = Counter(e.split(": ", 1)[-1] for e in report.errors)
    # One recall event = one deviation: keep each Event ID's first entry (its first product row), retire
    # the rest. The importer adds one entry per distinct (Event ID, reason text) within one file.
    t = time.perf_counter()
    by_ext: dict[str, list[Any]] = defaultdict(list)
    for e in kb.store.iter_entries(type="deviation"):
        by_ext[e.ext_id].append(e)
    extra = [e for group in by_ext.values() for e in group[1:]]
    multi = sorted(((k, len(v)) for k, v in by_ext.items() if len(v) > 1), key=lambda kv: -kv[1])
    with kb.store.transaction():
        for e in extra:
            kb.retire(
                e.id,
                author="bench.fda_eval",
                reason="FDA evaluation: one deviation per recall event (Event ID); kept the first product row's reason",
            )
    dedupe_s = time.perf_counter() - t
    facts = {
        "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "file": str(FDA_CSV),
        "rows": report.rows,
        "added": report.added,
        "updated": report.updated,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "reject_reasons": dict(reject_reasons),
        "report_file": report.report_file,
        "events": len(by_ext),
        "events_with_several_reasons": len(multi),
        "largest_reason_variants": multi[:5],
        "retired_extra_entries": len(extra),
        "active_deviations": kb.store.count(),
        "model_load_s": round(model_load, 2),
        "import_s": round(import_s, 2),
        "encode_s": round(emb.seconds, 2),
        "encoded_texts": emb.texts,
        "dedupe_s": round(dedupe_s, 2),
        "loadavg": loadavg(),
        "reused": False,
    }
    marker.write_text(json.dumps(facts, indent=2))
    return kb, facts


# -- step 2: clusters vs FDA categories -------------------------------------------------------------------


def cluster_eval(kb: Any, recluster: bool, events: dict[str, dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    """Cluster (or reuse the stored run) and compare the clusters with FDA's reason categories."""
    from sklearn import metrics

    from kb.analytics.clustering import ctfidf_labels
    from kb.analytics.quality import current_clusters, run_clustering

    t = time.perf_counter()
    result = run_clustering(kb) if recluster else current_clusters(kb)
    wall = time.perf_counter() - t
    entries = {e.id: e for e in kb.store.iter_entries(type="deviation")}
    cluster_of = result.cluster_of()
    ids = sorted(entries)
    cats = {i: normalise_category(entries[i].text) for i in ids}
    clus = {i: cluster_of.get(i, "unclustered") for i in ids}

    def scores(sel: Sequence[str]) -> dict[str, float]:
        y = [cats[i] for i in sel]
        c = [clus[i] for i in sel]
        return {
            "n": len(sel),
            "n_categories": len(set(y)),
            "n_clusters": len(set(c)),
            "ARI": metrics.adjusted_rand_score(y, c),
            "NMI": metrics.normalized_mutual_info_score(y, c),
            "AMI": metrics.adjusted_mutual_info_score(y, c),
            "homogeneity": metrics.homogeneity_score(y, c),
            "completeness": metrics.completeness_score(y, c),
        }

    clustered = [i for i in ids if clus[i] != "unclustered"]
    agreement = {
        "all events (unclustered = one more label)": scores(ids),
        "clustered events only": scores(clustered),
        "clustered, with a recognised category": scores([i for i in clustered if cats[i] != OTHER]),
    }
    # Chance level: the same cluster sizes with the labels permuted.
    rng = np.random.default_rng(0)
    y_all = [cats[i] for i in ids]
    c_all = [clus[i] for i in ids]
    perm_ari = [metrics.adjusted_rand_score(y_all, list(rng.permutation(c_all))) for _ in range(5)]
    perm_nmi = [metrics.normalized_mutual_info_score(y_all, list(rng.permutation(c_all))) for _ in range(5)]
    agreement_chance = {"ARI": float(np.mean(perm_ari)), "NMI": float(np.mean(perm_nmi))}

    cat_counts = Counter(cats.values())
    prefix_counts = Counter(raw_prefix(entries[i].text) for i in ids)
    # Median days from initiation to FDA classification per cluster (a recent month is under-reported
    # more for a slow cluster: right-censoring at the end of the record).
    lag: dict[str, list[int]] = defaultdict(list)
    for i in ids:
        ev = events.get(entries[i].ext_id or "")
        if ev:
            try:
                d = (dt.date.fromisoformat(ev["classified"]) - dt.date.fromisoformat(ev["initiated"])).days
            except ValueError:
                continue
            lag[clus[i]].append(d)
            lag["(all)"].append(d)
    rows = []
    groups = [(c.id, c.label, list(c.member_ids)) for c in result.clusters]
    groups.append(("unclustered", [], list(result.unclustered_ids)))
    for cid, label, members in groups:
        cc = Counter(cats[m] for m in members)
        top = cc.most_common(3)
        rows.append(
            {
                "id": cid,
                "label": list(label),
                "size": len(members),
                "dominant": top[0][0] if top else "",
                "purity": top[0][1] / len(members) if members else 0.0,
                "top3": [(k, v) for k, v in top],
                "n_categories": len(cc),
                "median_lag_days": statistics.median(lag[cid]) if lag.get(cid) else None,
                "within_60d": float(np.mean([x <= 60 for x in lag[cid]])) if lag.get(cid) else None,
                "first": min((entries[m].occurred_at or "")[:10] for m in members) if members else None,
                "last": max((entries[m].occurred_at or "")[:10] for m in members) if members else None,
            }
        )
    # Where does each category go? (recall of the category's dominant cluster)
    by_cat: dict[str, Counter[str]] = defaultdict(Counter)
    for i in ids:
        by_cat[cats[i]][clus[i]] += 1
    cat_rows = [
        {
            "category": cat,
            "n": n,
            "main_cluster": by_cat[cat].most_common(1)[0][0],
            "share_in_main": by_cat[cat].most_common(1)[0][1] / n,
            "n_clusters": len(by_cat[cat]),
        }
        for cat, n in cat_counts.most_common()
    ]
    # Labels with extra stop words: does FDA boilerplate dominate the labels? (labels only; the same groups)
    member_texts = [[entries[m].search_text() for m in c.member_ids] for c in result.clusters]
    background = [entries[m].search_text() for m in result.unclustered_ids]
    extra_words = [
        "recall",
        "recalled",
        "recalling",
        "fda",
        "firm",
        "product",
        "products",
        "drug",
        "failed",
        "specification",
        "specifications",
        "presence",
        "lack",
    ]
    alt_labels = ctfidf_labels(member_texts, extra_stop_words=extra_words, background=background)
    label_words = Counter(w for c in result.clusters for t in c.label for w in t.split())
    info = {
        "run_id": result.run_id,
        "created_at": result.created_at,
        "wall_s": round(wall, 2),
        "timings": dict(result.timings),
        "diagnostics": {k: v for k, v in result.diagnostics.items() if k != "outlier_thresholds"},
        "n_items": len(ids),
        "n_clusters": len(result.clusters),
        "unclustered": len(result.unclustered_ids),
        "unclustered_share": len(result.unclustered_ids) / max(len(ids), 1),
        "agreement": agreement,
        "agreement_chance": agreement_chance,
        "clusters": rows,
        "categories": cat_rows,
        "n_categories": len(cat_counts),
        "other_share": cat_counts.get(OTHER, 0) / max(len(ids), 1),
        "no_colon_share": prefix_counts.get("", 0) / max(len(ids), 1),
        "raw_prefixes": len([p for p in prefix_counts if p]),
        "other_examples": [entries[i].text[:90] for i in ids if cats[i] == OTHER][:8],
        "alt_labels": {c.id: lab for c, lab in zip(result.clusters, alt_labels, strict=True)},
        "alt_stop_words": extra_words,
        "boilerplate_in_labels": {w: label_words[w] for w in ("recall", "recalled", "fda") if label_words[w]},
        "median_lag_all": statistics.median(lag["(all)"]) if lag.get("(all)") else None,
        "within_60d_all": float(np.mean([x <= 60 for x in lag["(all)"]])) if lag.get("(all)") else None,
        "min_cluster_size": result.params.get("min_cluster_size"),
    }
    return result, info


# -- step 3 and 4: drift and the shuffle null ---------------------------------------------------------------


def drift_records(kb: Any, result: Any) -> list[Any]:
    """Return the records drift_report builds: every deviation with a date, unclustered ones with None."""
    from kb.analytics.drift import DriftRecord, to_date

    cluster_of = result.cluster_of()
    return [
        DriftRecord(e.id, cluster_of.get(e.id), to_date(e.occurred_at), e.site)
        for e in kb.store.iter_entries(type="deviation")
        if e.occurred_at
    ]


def theme_counts(
    entry_ids: Iterable[str], entries: dict[str, Any], events: dict[str, dict[str, Any]]
) -> dict[str, int]:
    out: dict[str, int] = {}
    ids = list(entry_ids)
    for name, (where, pattern) in THEMES.items():
        rx = re.compile(pattern)
        n = 0
        for i in ids:
            e = entries[i]
            if where == "R":
                text = e.text.lower()
            elif where == "F":
                text = (e.site or "").lower()
            else:
                text = " ".join(events.get(e.ext_id or "", {}).get("products", [])).lower()
            n += bool(rx.search(text))
        if n:
            out[name] = n
    return out


def signal_row(
    s: Any, labels: dict[str, list[str]], entries: dict[str, Any], events: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    sites = Counter(entries[i].site or "(none)" for i in s.entry_ids)
    top_site, top_n = sites.most_common(1)[0] if sites else ("", 0)
    return {
        "kind": s.kind,
        "cluster": s.cluster_id,
        "label": ", ".join(labels.get(s.cluster_id, [])[:3]),
        "site": s.site,
        "start": s.start_period,
        "end": s.end_period,
        "ongoing": s.ongoing,
        "alarm": s.details.get("alarm_period"),
        "statistic": s.statistic,
        "threshold": s.threshold,
        "n": len(s.entry_ids),
        "firms": len(sites),
        "top_firm": f"{top_site} ({top_n})",
        "themes": theme_counts(s.entry_ids, entries, events),
        "first_ids": list(s.entry_ids[:5]),
        "message": s.message,
    }


def null_summary(runs: list[list[Any]], years: float, reports: int = 1) -> dict[str, Any]:
    """Summarise the signals per shuffle by kind: mean, median, p90, share of shuffles with any, per year."""
    out: dict[str, Any] = {"n_shuffles": len(runs), "monitored_years": years}
    for kind in ("rising", "site_concentration", "emerging"):
        counts = [sum(1 for s in run if s.kind == kind) for run in runs]
        if not counts:
            continue
        mean = float(np.mean(counts))
        row = {
            "mean": mean,
            "median": float(np.median(counts)),
            "p90": float(np.quantile(counts, 0.9)),
            "max": int(max(counts)),
            "share_with_any": float(np.mean([c > 0 for c in counts])),
            "counts": counts,
        }
        pairs = Counter(
            f"{s.cluster_id} at {s.site}" if s.site else s.cluster_id
            for run in runs
            for s in run
            if s.kind == kind
        )
        row["most_frequent"] = pairs.most_common(3)
        if kind == "rising":
            row["per_year"] = mean / years if years else None
        elif kind == "site_concentration":
            # One report per shuffle; a year holds 12 monthly reports (docs/drift.md section 3).
            row["per_report"] = mean / reports
            row["per_year_if_monthly_reports"] = 12 * mean / reports
        out[kind] = row
    return out


def drift_eval(
    kb: Any,
    result: Any,
    gaps: list[str],
    n_shuffles: int,
    n_sens_shuffles: int,
    events: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    from kb.analytics.drift import detect_drift, shuffle_false_alarm_rate
    from kb.analytics.quality import REPEAT_MIN, drift_report

    labels = {c.id: list(c.label) for c in result.clusters}
    entries = {e.id: e for e in kb.store.iter_entries(type="deviation")}
    records = drift_records(kb, result)
    base = {"period": "month", "labels": labels, "start": SINCE}
    out: dict[str, Any] = {"since": SINCE, "known_gaps": gaps, "configs": {}}

    # What QA gets today from `tacitkb drift --since 2012-06-01 --exposure total` (no known gaps).
    t = time.perf_counter()
    cli = drift_report(kb, period="month", since=SINCE, exposure="total", result=result)
    out["cli"] = {
        "seconds": round(time.perf_counter() - t, 2),
        "signals": [signal_row(s, labels, entries, events) for s in cli.signals],
        "notes": cli.notes,
        "false_alarm_rate": cli.false_alarm_rate.get("total_per_year"),
    }
    configs = {
        "main": {"exposure": "total", "known_gaps": gaps},
        "baseline36": {"exposure": "total", "known_gaps": gaps, "baseline_periods": SENSITIVITY_BASELINE},
        "raw_counts": {"exposure": None, "known_gaps": gaps},
    }
    for name, kw in configs.items():
        shuffles = n_shuffles if name == "main" else n_sens_shuffles
        t = time.perf_counter()
        rep = detect_drift(records, repeat_min=REPEAT_MIN, **base, **kw)
        real_s = time.perf_counter() - t
        far = rep.false_alarm_rate
        rising = far.get("rising", {})
        periods = rep.counts.periods
        base_rng = rising.get("baseline")
        monitored = len(periods) - (periods.index(base_rng[1]) + 1) if base_rng else 0
        monitored_active = (
            sum(1 for i in range(periods.index(base_rng[1]) + 1, len(periods)) if not rep.counts.is_gap(i))
            if base_rng
            else 0
        )
        years = monitored_active / 12
        t = time.perf_counter()
        null = (
            shuffle_false_alarm_rate(records, n_shuffles=shuffles, seed=0, **base, **kw) if shuffles else []
        )
        null_s = time.perf_counter() - t
        summary = null_summary(null, years)
        # Shuffling dates keeps each record's firm, so a firm that really concentrates in a cluster over
        # the whole record still does in a shuffled year: that is not a chance signal. Permuting the firms
        # too (shuffle_sites) is the null for the site test.
        null_sites = (
            shuffle_false_alarm_rate(records, n_shuffles=shuffles, seed=1, shuffle_sites=True, **base, **kw)
            if shuffles
            else []
        )
        summary_sites = null_summary(null_sites, years)
        null_s = time.perf_counter() - t
        real_counts = Counter(s.kind for s in rep.signals)
        for summ in (summary, summary_sites):
            for kind in ("rising", "site_concentration", "emerging"):
                if kind in summ:
                    counts = summ[kind]["counts"]
                    summ[kind]["real"] = real_counts.get(kind, 0)
                    summ[kind]["share_null_ge_real"] = float(
                        np.mean([c >= real_counts.get(kind, 0) for c in counts])
                    )
        per_cluster = rising.get("per_cluster", {})
        out["configs"][name] = {
            "kwargs": {k: v for k, v in kw.items() if k != "known_gaps"},
            "seconds": round(real_s, 2),
            "null_seconds": round(null_s, 2),
            "periods": [periods[0], periods[-1]] if periods else None,
            "n_periods": len(periods),
            "gaps": rep.counts.gaps,
            "baseline": base_rng,
            "monitored_periods": monitored,
            "monitored_years": years,
            "signals": [signal_row(s, labels, entries, events) for s in rep.signals],
            "notes": rep.notes,
            "false_alarm_rate": {
                "rising_per_year": rising.get("rate_per_year"),
                "per_cluster_arl": rising.get("per_cluster_arl_periods"),
                "site_per_year": far.get("site_concentration", {}).get("rate_per_year"),
                "site_alpha_per_report": far.get("site_concentration", {}).get("alpha_per_report"),
                "site_tests": far.get("site_concentration", {}).get("n_tests"),
                "site_window": far.get("site_concentration", {}).get("window"),
                "total_per_year": far.get("total_per_year"),
            },
            "h_range": [min(v["h"] for v in per_cluster.values()), max(v["h"] for v in per_cluster.values())]
            if per_cluster
            else None,
            "null": summary,
            "null_sites": summary_sites,
        }
        say(
            f"fda_eval: drift {name}: {len(rep.signals)} signals ({dict(real_counts)}) in {real_s:.1f} s; "
            f"{shuffles} shuffles in {null_s:.0f} s"
        )
    # Theme timelines (reason text / product description), to read the signals against real waves.
    years_by_theme: dict[str, Counter[str]] = defaultdict(Counter)
    for e in entries.values():
        for name, n in theme_counts([e.id], entries, events).items():
            if n and e.occurred_at:
                years_by_theme[name][e.occurred_at[:4]] += 1
    out["themes_by_year"] = {k: dict(sorted(v.items())) for k, v in years_by_theme.items()}
    cluster_of = result.cluster_of()
    by_cluster_theme: dict[str, Counter[str]] = defaultdict(Counter)
    for e in entries.values():
        for name in theme_counts([e.id], entries, events):
            by_cluster_theme[name][cluster_of.get(e.id, "unclustered")] += 1
    out["themes_by_cluster"] = {k: dict(v.most_common()) for k, v in by_cluster_theme.items()}
    out["cli_same_as_main"] = [(s["kind"], s["cluster"], s["start"]) for s in out["cli"]["signals"]] == [
        (s["kind"], s["cluster"], s["start"]) for s in out["configs"]["main"]["signals"]
    ]
    # Share of each cluster per year (the quantity exposure="total" watches).
    per_year: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for r in records:
        y = r.occurred_at.isoformat()[:4]
        if r.occurred_at.isoformat() >= SINCE:
            totals[y] += 1
            per_year[r.cluster_id or "unclustered"][y] += 1
    out["share_by_year"] = {
        cid: {y: round(c[y] / totals[y], 3) for y in sorted(totals)} for cid, c in sorted(per_year.items())
    }
    out["totals_by_year"] = dict(sorted(totals.items()))
    return out


# -- output ------------------------------------------------------------------------------------------------


def fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:
            return "–"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) < 0.001 and v != 0:
            return f"{v:.1e}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v).replace("|", "\\|")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(res: dict[str, Any]) -> str:
    c, d, imp = res["clusters"], res["drift"], res["import"]
    main = d["configs"]["main"]
    a = c["agreement"]["all events (unclustered = one more label)"]
    b = c["agreement"]["clustered events only"]
    null = main["null"]
    nsite = main.get("null_sites") or null
    rows = [
        ["recall events (deviations)", c["n_items"]],
        ["clusters / unclustered share", f"{c['n_clusters']} / {c['unclustered_share']:.1%}"],
        ["ARI / NMI vs FDA category (all; unclustered a label)", f"{a['ARI']:.3f} / {a['NMI']:.3f}"],
        ["ARI / NMI (clustered only)", f"{b['ARI']:.3f} / {b['NMI']:.3f}"],
        [
            "signals, main setting (rising / site / emerging)",
            " / ".join(
                str(null.get(k, {}).get("real", 0)) for k in ("rising", "site_concentration", "emerging")
            ),
        ],
        [
            "shuffled: rising per shuffle (mean, median) / per year",
            f"{null['rising']['mean']:.2f}, {null['rising']['median']:.0f} / {null['rising']['per_year']:.2f} (budget 0.5)",
        ],
        [
            "shuffled dates + firms: site signals per report (mean) / shuffles with any",
            f"{nsite['site_concentration']['mean']:.3f} / {nsite['site_concentration']['share_with_any']:.0%}"
            f" (budget {main['false_alarm_rate']['site_alpha_per_report']:.3f} per report)",
        ],
        [
            "shuffled dates only: site signals per report (true firm-cluster links)",
            f"{null['site_concentration']['mean']:.3f}",
        ],
        [
            "import (s) / of which encode (s)",
            f"{imp['import_s']:.0f} / {imp['encode_s']:.0f}"
            + (" (reused build)" if imp.get("reused") else ""),
        ],
        [
            "cluster: stages total (s) / current_clusters wall (s)",
            f"{c['timings'].get('total', 0):.1f} / {c['wall_s']:.1f}",
        ],
        [
            "drift: one report (s) / main shuffles (s)",
            f"{main['seconds']:.1f} / {main['null_seconds']:.0f} ({null['n_shuffles']} + {nsite['n_shuffles']})",
        ],
        ["whole run (s)", f"{res['total_s']:.0f}"],
    ]
    return table(["measure", "value"], rows)


def write_doc(res: dict[str, Any], path: Path) -> None:
    imp, c, d, m = res["import"], res["clusters"], res["drift"], res["machine"]
    main = d["configs"]["main"]
    b36 = d["configs"]["baseline36"]
    raw = d["configs"]["raw_counts"]
    L: list[str] = []
    w = L.append
    w("# Evaluation on real data: FDA drug recalls")
    w("")
    w("Written by `bench/fda_eval.py`; rerun it to refresh every number here:")
    w("")
    w("```")
    w(
        f".venv/bin/python -m bench.fda_eval --shuffles {res['args']['shuffles']}   # [--kb DIR] [--rebuild] [--no-doc]"
    )
    w("```")
    w("")
    w(
        "Each U.S. FDA drug recall event (2012–2026, `../shared/data/fda_recalls`, see its README) is treated as "
        "one deviation: its *Reason for Recall* is the deviation text, its *Recall Initiation Date* the date, its "
        "*Recalling Firm* the site. The script imports the file through the real importer, clusters with "
        "`kb.analytics.quality`, compares the clusters with FDA's own reason categories, runs the drift detectors and measures "
        "their false-alarm rate with the dates shuffled."
    )
    w("")
    w(
        f"**Machine.** Run {m['date']} on {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM; Python "
        f"{m['python']}, torch {m['torch']}, numpy {m['numpy']}, scipy {m['scipy']}, scikit-learn {m['sklearn']}. "
        f"Load average at start {m['loadavg_start']}, at end {m.get('loadavg_end')}; the machine was shared with "
        "other jobs, so the times are upper bounds. Total wall time of the run: "
        f"{res['total_s']:.0f} s; peak RSS {res['peak_rss_mib']:.0f} MiB."
    )
    w("")
    w("## Summary")
    w("")
    w(summary_table(res))
    w("")

    # -- import
    w("## 1. Import")
    w("")
    w(
        "The same call as `tacitkb --kb /tmp/tacitkb-fda import fda_drug_enforcement_reports_2012-2026.csv "
        '--type deviation --map ext_id="Event ID" --map text="Reason for Recall" --map '
        'occurred_at="Recall Initiation Date" --map site="Recalling Firm" --ignore-unmapped` '
        '(`ingest.importers.import_records(..., keep_unmapped=False, default_type="deviation")`).'
    )
    w("")
    rej = ", ".join(f"{k}: {v}" for k, v in imp["reject_reasons"].items()) or "none"
    w(
        table(
            [
                "rows",
                "entries added",
                "duplicates",
                "updated",
                "rejected (reasons)",
                "import s",
                "encode s",
                "texts encoded",
                "model load s",
            ],
            [
                [
                    imp["rows"],
                    imp["added"],
                    imp["duplicates"],
                    imp["updated"],
                    f"{imp['rejected']} ({rej})",
                    imp["import_s"],
                    imp["encode_s"],
                    imp["encoded_texts"],
                    imp["model_load_s"],
                ]
            ],
        )
    )
    w("")
    det = res.get("variant_details") or [[k, n, "", ""] for k, n in imp["largest_reason_variants"][:3]]
    big = "; ".join(
        f"Event ID {k}: {n} ({firm}, {day[:7]})" if firm else f"Event ID {k}: {n}" for k, n, firm, day in det
    )
    w(
        f"The file has one row per product. Rows repeating an event's reason are duplicates; but "
        f"{imp['events_with_several_reasons']} of {imp['events']:,} events carry more than one reason text "
        f"across their products (the most variants: {big}; the two largest are label mix-up notices that name "
        f"each product pair), and the importer adds one entry per distinct text, so {imp['added']:,} entries came in "
        f"for {imp['events']:,} events. To make one event one deviation, the script keeps each event's first "
        f"entry (its first product row) and retires the other {imp['retired_extra_entries']} with a reason "
        f"(`KnowledgeBase.retire`, in {imp['dedupe_s']:.1f} s), leaving {imp['active_deviations']:,} active "
        "deviations. Without this, the two largest events alone would add "
        f"{sum(n for _, n, _, _ in det[:2]) - 2} near-identical deviations in "
        + (f"one month ({det[0][3][:7]})" if len({x[3][:7] for x in det[:2]}) == 1 else "two months")
        + ": a trivially pure cluster and a false spike for drift."
    )
    w("")
    w(
        f"Encoding dominates the import ({imp['encode_s']:.0f} of {imp['import_s']:.0f} s for "
        f"{imp['encoded_texts']:,} texts with all-MiniLM-L6-v2 on CPU, load average {imp['loadavg']} at the end)."
        + (
            f" This run reused the knowledge base built {imp['built_at']}; the import figures are from that build."
            if imp.get("reused")
            else ""
        )
    )
    w("")
    w(
        "**Why the firm is the site.** A deviation's site is where it happened and who owns the fix; for a "
        "recall that is the recalling firm (1,631 firms; Teva, Hospira, Lupin, Dr. Reddy's and others each have "
        "80–95 events). `Country` would say almost nothing (93 % of product rows are United States), so a "
        "transfer-gap test by country could only ever point at 'United States' or 'India'. Firm names are used "
        "as FDA wrote them: a crude normalisation (case, punctuation, Inc/LLC/USA suffixes) merges 1,631 names "
        "into 1,428, so some firms are split across spellings, which can only weaken a site signal."
    )
    w("")

    # -- clusters
    w("## 2. Clusters and FDA's reason categories")
    w("")
    t = c["timings"]
    stages = ["prepare", "reduce", "select_k", "fit", "outliers", "label", "total"]
    w(
        f"`kb.analytics.quality.current_clusters` (the clusters `tacitkb clusters` shows; run {c['run_id']}): "
        f"**{c['n_clusters']} clusters** over {c['n_items']:,} deviations, **{c['unclustered']} unclustered "
        f"({c['unclustered_share']:.1%})**; k = {c['diagnostics'].get('k')} chosen by silhouette, PCA to "
        f"{c['diagnostics'].get('pca_dims')} dimensions keeping {c['diagnostics'].get('pca_explained_variance', 0):.0%} "
        "of the variance."
    )
    w("")
    w(
        table(
            [f"{s} s" for s in stages] + ["wall s (incl. loading vectors, saving the run)"],
            [[t.get(s) for s in stages] + [c["wall_s"]]],
        )
    )
    w("")
    w(
        "**Categories.** FDA's category is the phrase the reason starts with. The README says it comes before "
        "':'; in this file "
        f"{c['no_colon_share']:.0%} of the event reasons have no ':' at all (\"Failed Dissolution Specifications; "
        '18 month CRT", "Subpotent drug"), and the text before \':\' takes '
        f"{c['raw_prefixes']} distinct values. So the script lower-cases the text, fixes typos ("
        + ", ".join(f"{a.strip('^')} → {b}" for a, b in FIXES if not a.startswith("\\s"))
        + ") and assigns the first rule in `CATEGORY_RULES` whose pattern matches "
        "at the start of the reason. The rules merge spelling variants:"
    )
    w("")
    w(
        "- cGMP: `CGMP Deviations`, `cGMP deviation`, `GMP Deviations`, `GCMP`, `CMGP`, `cGMPs`, `Good Manufacturing Practices Deviations`, `Lack of cGMP` (and `CGMP Deviations- azido impurity ...`);"
    )
    w(
        "- sterility assurance: `Lack of Assurance of Sterility`, `Lack of Sterility Assurance` (with or without a full stop);"
    )
    w("- non-sterility: `Non-Sterility`, `Non Sterility`, `Microbial contamination of sterile products`;")
    w(
        "- non-sterile microbial: every other `Microbial contamination ...` (`of a non-sterile product(s)`, `non sterile`, `non-sterile drug product`);"
    )
    w(
        "- impurities: `Failed Impurities/Degradation Specification(s)`, `Impurity/Degradation`, `Impurities/ Degradation`, `Degredation`, `Impurities/Degradation Products`;"
    )
    w(
        '- sub/superpotent: `Subpotent`, `Sub-potent`, `Sub potent`, `Subpotency`, `Subpotent (Single Ingredient Drug)`; the same for superpotent. A reason naming two categories ("Subpotent drug and failed impurities...") gets the first;'
    )
    w(
        "- dissolution: `Failed Dissolution Specification(s)`, `Failed USP Dissolution Test Requirements`, `Out of specification for dissolution`;"
    )
    w(
        "- stability: `Failed Stability Specification(s)`, `Stability Data Does Not Support Expiry`, `Product lacks stability`;"
    )
    w(
        "- foreign tablets: `Presence of Foreign Tablets/Capsules`, `Foreign Tablet(s)`, `Adulterated Presence of Foreign Tablets`; foreign substance: `Presence of (a) Foreign Substance/Matter`, `Foreign Matter`;"
    )
    w(
        "- mix-up: `Product Mix-up`, `Product Mix Up`, `Correct Labeled Product Mispack`, `Unit Dose Mispackaging`;"
    )
    w(
        "- labeling: every `Labeling: <subcategory>` (Label Mixup, Incorrect or Missing Lot and/or Exp Date, Not Elsewhere Classified, ...), `Labeling;`, `Label Mix-Up`, `Mislabeling`, `Incorrect Labeling`: FDA's top-level category, the subcategory is dropped;"
    )
    w("- cross contamination: `Cross Contamination with Other Products`, `Penicillin Cross Contamination`;")
    w(
        "- tablet/capsule: `Failed Tablet/Capsule Specification(s)`, `Failed Lozenge Specifications`, `Tablet Thickness`, `Tablet Separation`; delivery: `Defective Delivery System`, `Miscalibrated and/or Defective Delivery System`, `Does Not Deliver Proper Metered Dose`; content uniformity: `Failed (USP) Content Uniformity ...`."
    )
    w("")
    w(
        f"That gives {c['n_categories']} categories (including the remainder); {c['other_share']:.1%} of the events "
        f"start with no category phrase and form the label `{OTHER}` (examples: "
        + "; ".join(f'"{x}"' for x in c["other_examples"][:3])
        + ")."
    )
    w("")
    w(
        "**Agreement** (`sklearn.metrics`; chance level from the same cluster sizes with the assignment permuted: "
        f"ARI {c['agreement_chance']['ARI']:.3f}, NMI {c['agreement_chance']['NMI']:.3f}):"
    )
    w("")
    rows = []
    for name, s in c["agreement"].items():
        rows.append(
            [
                name,
                s["n"],
                s["n_categories"],
                s["n_clusters"],
                s["ARI"],
                s["NMI"],
                s["AMI"],
                s["homogeneity"],
                s["completeness"],
            ]
        )
    w(
        table(
            ["events", "n", "categories", "clusters", "ARI", "NMI", "AMI", "homogeneity", "completeness"],
            rows,
        )
    )
    w("")
    w(
        "**Clusters** (label = the stored c-TF-IDF label; purity = the dominant category's share; lag = median days "
        "from initiation to FDA classification, and the share classified within 60 days, "
        f"{c['within_60d_all']:.0%} over all events):"
    )
    w("")
    rows = []
    for r in c["clusters"]:
        top3 = "; ".join(f"{k} {v}" for k, v in r["top3"])
        rows.append(
            [
                r["id"],
                ", ".join(r["label"]),
                r["size"],
                r["dominant"],
                f"{r['purity']:.0%}",
                r["n_categories"],
                top3,
                r["median_lag_days"],
                f"{r['within_60d']:.0%}" if r["within_60d"] is not None else None,
            ]
        )
    w(
        table(
            [
                "id",
                "label",
                "size",
                "dominant category",
                "purity",
                "categories",
                "top 3 categories",
                "lag d",
                "≤ 60 d",
            ],
            rows,
        )
    )
    w("")
    w(
        "**Where each category goes** (categories with at least 20 events; main cluster = the cluster holding most of them):"
    )
    w("")
    w(
        table(
            ["category", "events", "main cluster", "share there", "clusters used"],
            [
                [r["category"], r["n"], r["main_cluster"], f"{r['share_in_main']:.0%}", r["n_clusters"]]
                for r in c["categories"]
                if r["n"] >= 20
            ],
        )
    )
    w("")
    bp = c["boilerplate_in_labels"]
    w(
        "**Labels and extra stop words.** "
        + (
            "No stored label contains 'recall', 'recalled' or 'fda': FDA's reason texts rarely say them, so "
            "`extra_stop_words` is not needed for these labels. "
            if not bp
            else f"Stored labels contain boilerplate: {bp}. "
        )
        + "What the labels do carry is FDA's category vocabulary ('failed', 'specifications', 'presence', "
        "'lack', 'drug'). With those (and recall/fda/firm/product) as extra stop words the labels become "
        "(labels only; the same clusters):"
    )
    w("")
    w(
        table(
            ["id", "stored label", "with extra stop words"],
            [
                [r["id"], ", ".join(r["label"]), ", ".join(c["alt_labels"].get(r["id"], []))]
                for r in c["clusters"]
                if r["id"] != "unclustered"
            ],
        )
    )
    w("")

    # -- drift
    w("## 3. Drift signals")
    w("")
    w(
        f"Monthly periods from {SINCE[:7]} (FDA's Enforcement Report starts in June 2012: earlier initiation months "
        'hold only the recalls classified later) to the last month in the file. `exposure="total"`: each cluster\'s '
        "share of all recalls is watched, not its count, because recall volume moves for reasons that are not a "
        "problem type (FDA workload, the export's holes) and because the shuffle null keeps each month's total."
    )
    w("")
    w(
        "**Known gaps.** The export misses Class II/III recalls *classified* 2013-01-01..13 and 2017-09-29..2017-12-04, "
        "while the chart counts by *initiation* month. The script turns the holes into initiation months from the "
        "file's own lag between initiation and classification (median "
        f"{c['median_lag_all']} days): the expected share of a month's recalls that the hole removed is the Class "
        "II/III share times the chance that the lag lands the classification in the hole. Months with an expected "
        f"loss of at least {GAP_LOSS_THRESHOLD:.0%} are declared `known_gaps`: **{', '.join(d['known_gaps']) or 'none'}**."
    )
    w("")
    w(
        table(
            ["hole", "initiation month", "expected share lost", "recalls in file", "declared gap"],
            [
                [r["hole"], r["month"], f"{r['expected_loss']:.0%}", r["observed"], r["declared_gap"]]
                for r in res["gap_table"]
                if r["expected_loss"] >= 0.05
            ],
        )
    )
    w("")
    w(
        "`kb.analytics.quality.drift_report` has no `known_gaps` argument, so the script calls `kb.analytics.drift.detect_drift` with the "
        "same records drift_report builds (every deviation with a date; unclustered ones count toward the totals) "
        "and `known_gaps`. The CLI run without them is listed too."
    )
    w("")

    def sig_table(sigs: list[dict[str, Any]]) -> str:
        rows = []
        for s in sigs:
            stat = (
                f"p = {s['statistic']:.2g} ≤ {s['threshold']:.2g}"
                if s["kind"] == "site_concentration"
                else f"{s['statistic']:.1f} > {s['threshold']:.2f}"
            )
            themes = "; ".join(f"{k} {v}" for k, v in s["themes"].items()) or "–"
            span = f"{s['start']}..{s['end']}" + (" (ongoing)" if s["ongoing"] else "")
            rows.append(
                [
                    s["kind"],
                    s["cluster"],
                    s["label"],
                    s["site"] or "–",
                    span,
                    s["alarm"],
                    stat,
                    s["n"],
                    f"{s['firms']} firms; top {s['top_firm']}",
                    themes,
                ]
            )
        return (
            table(
                [
                    "kind",
                    "cluster",
                    "label",
                    "site",
                    "since..until",
                    "alarm",
                    "statistic vs threshold",
                    "records",
                    "where",
                    "themes in the records",
                ],
                rows,
            )
            if rows
            else "(no signals)"
        )

    far = main["false_alarm_rate"]
    w(
        f'**Main setting** (`exposure="total"`, known gaps, baseline = first half = {main["baseline"][0]}..{main["baseline"][1]}, '
        f"{main['monitored_periods']} monitored months): stated budget {far['total_per_year']} chance signals a year "
        f"(rising {far['rising_per_year']}/year with a per-cluster in-control ARL of {far['per_cluster_arl']:,.0f} months, "
        f"h from {main['h_range'][0]:.2f} to {main['h_range'][1]:.2f}; site concentration {far['site_per_year']}/year = "
        f"{far['site_alpha_per_report']:.3f} per report, Holm over {far['site_tests']} (cluster, firm) tests in "
        f"{far['site_window'][0]}..{far['site_window'][1]})."
    )
    w("")
    w(sig_table(main["signals"]))
    w("")
    w(
        "The messages of the main setting, in the form `tacitkb drift` prints them (records: the first five ids of each; all ids are in "
        f"`{RESULTS}` in the knowledge base folder):"
    )
    w("")
    for s in main["signals"]:
        w(
            f"- [{s['kind']}] {s['message']} Records: {', '.join(s['first_ids'])}{' ...' if s['n'] > 5 else ''}"
        )
    w("")
    cli = d["cli"]
    same = d["cli_same_as_main"]
    w(
        f"**Without known gaps** (`tacitkb drift --since {SINCE} --exposure total`, {cli['seconds']:.1f} s): "
        f"{len(cli['signals'])} signals; "
        + (
            "the same kinds, clusters and start months as above (only the evidence counts and statistics near the "
            "2017 hole differ)."
            if same
            else "they differ from the main setting:"
        )
    )
    w("")
    if not same:
        w(sig_table(cli["signals"]))
        w("")
    w(
        f"**Sensitivity: a {SENSITIVITY_BASELINE}-month baseline** ({b36['baseline'][0]}..{b36['baseline'][1]}, "
        f"{b36['monitored_periods']} monitored months), so that a wave starting in 2018 is not part of the baseline:"
    )
    w("")
    w(sig_table(b36["signals"]))
    w("")
    w(f"**Sensitivity: raw counts** (`exposure=None`, baseline {raw['baseline'][0]}..{raw['baseline'][1]}):")
    w("")
    w(sig_table(raw["signals"]))
    w("")
    w(
        "**Theme timelines** (events per initiation year whose reason text, or product description for the "
        "'(product)' themes, matches; the product description is read from the CSV, it is not in the knowledge base):"
    )
    w("")
    ty = d["themes_by_year"]
    years = sorted({y for v in ty.values() for y in v if y >= SINCE[:4]})
    w(table(["theme", *years], [[k, *[v.get(y, 0) for y in years]] for k, v in ty.items()]))
    w("")
    w(
        '**Cluster shares per year** (share of all recalls initiated that year; what `exposure="total"` watches):'
    )
    w("")
    sy = d["share_by_year"]
    yrs = sorted(d["totals_by_year"])
    w(
        table(
            ["cluster", *yrs],
            [[cid, *[f"{v.get(y, 0):.0%}" for y in yrs]] for cid, v in sy.items()]
            + [["recalls", *[d["totals_by_year"][y] for y in yrs]]],
        )
    )
    w("")

    # -- null
    w("## 4. False-alarm rate with the dates shuffled")
    w("")
    w(
        "`kb.analytics.drift.shuffle_false_alarm_rate(records, n_shuffles, seed, ...)` permutes the dates across all "
        "records (clustered and unclustered). That keeps each month's total, each cluster's size and each "
        "record's firm, and breaks any link between cluster and time; the detectors then run with the same "
        "settings as the real report, so every rising or emerging signal in a shuffle is a false alarm. "
        "Rising signals are counted over the monitored months. The site test is one report (the last 12 "
        "months), so its rate is per report; 12 monthly reports a year give the yearly figure (an upper bound, "
        "as successive reports overlap). Because a date shuffle keeps each record's firm, a firm that really "
        "concentrates in a cluster over the whole record still does in any shuffled year: such a site signal "
        "is true, not chance. The second null (`shuffle_sites=True`, seed 1) permutes the firms as well and is "
        "the false-alarm rate of the site test."
    )
    w("")
    rows = []
    for name, cfg in d["configs"].items():
        for null_name, key in (("dates", "null"), ("dates + firms", "null_sites")):
            n = cfg.get(key, {})
            if not n.get("n_shuffles"):
                continue
            r, st = n["rising"], n["site_concentration"]
            e = n.get("emerging", {})
            rows.append(
                [
                    name,
                    null_name,
                    n["n_shuffles"],
                    f"{cfg['monitored_years']:.1f}",
                    f"{r['mean']:.2f}",
                    r["median"],
                    r["max"],
                    f"{r['per_year']:.2f}",
                    cfg["false_alarm_rate"]["rising_per_year"],
                    r["real"],
                    f"{r['share_null_ge_real']:.0%}",
                    f"{st['mean']:.3f}",
                    f"{st['share_with_any']:.0%}",
                    f"{cfg['false_alarm_rate']['site_alpha_per_report']:.3f}",
                    f"{st['per_year_if_monthly_reports']:.2f}",
                    st["real"],
                    e.get("mean", 0.0),
                ]
            )
    w(
        table(
            [
                "setting",
                "shuffled",
                "shuffles",
                "monitored years",
                "rising / shuffle (mean)",
                "median",
                "max",
                "rising / year",
                "rising budget / year",
                "real rising",
                "shuffles ≥ real",
                "site / report (mean)",
                "shuffles with a site signal",
                "site budget / report",
                "site / year (x12)",
                "real site",
                "emerging / shuffle",
            ],
            rows,
        )
    )
    w("")
    site_pairs = main["null"]["site_concentration"].get("most_frequent") or []
    if site_pairs:
        w(
            "Site signals in the date-only shuffles (most frequent): "
            + "; ".join(f"{k} ({v} of {main['null']['n_shuffles']} shuffles)" for k, v in site_pairs)
            + ". These firms' recalls are concentrated in that cluster over the whole record; which year they land in "
            "is what the shuffle randomises."
        )
        w("")
    rising_pairs = main["null"]["rising"].get("most_frequent") or []
    if rising_pairs:
        w(
            "Clusters with the most rising signals in the date shuffles: "
            + "; ".join(f"{k} ({v})" for k, v in rising_pairs)
            + "."
        )
        w("")
    ns = main.get("null_sites") or main["null"]
    measured = main["null"]["rising"]["per_year"] + ns["site_concentration"]["per_year_if_monthly_reports"]
    w(
        f"Whole budget in the main setting: {measured:.2f} chance signals a year measured (rising from the date "
        f"shuffles, site from the date + firm shuffles, x12 reports) vs {far['total_per_year']} stated. Times: one "
        f"detect_drift run {main['seconds']:.1f} s; {main['null']['n_shuffles']} + {ns['n_shuffles']} shuffles "
        f"{main['null_seconds']:.0f} s."
    )
    w("")

    # -- discussion
    w("## 5. Discussion")
    w("")
    for para in discussion(res):
        w(para)
        w("")
    w("## 6. How QA reads this with the CLI")
    w("")
    w("```")
    w(
        ".venv/bin/python -m bench.fda_eval            # builds /tmp/tacitkb-fda (one deviation per recall event)"
    )
    w(".venv/bin/tacitkb --kb /tmp/tacitkb-fda clusters")
    w(f".venv/bin/tacitkb --kb /tmp/tacitkb-fda drift --since {SINCE} --exposure total")
    first_id = next((s["first_ids"][0] for s in main["signals"] if s["first_ids"]), "KB-000001")
    w(f".venv/bin/tacitkb --kb /tmp/tacitkb-fda show {first_id}   # a record behind the first signal")
    w("```")
    w("")
    w(
        "Each signal prints what rose (the cluster and its label), where (the firm holding most of its records, "
        "or the firm for a site signal), since when (the CUSUM excursion's start), how strong (statistic vs "
        "threshold), the record ids, and above the list the stated chance-signal rate. The shuffled rate above "
        "is the measured one on this data; the CLI cannot yet declare the export holes (below)."
    )
    w("")
    w("## 7. Open points for the product")
    w("")
    w(
        "- `kb.analytics.quality.drift_report` and `tacitkb drift` take no `known_gaps`: QA cannot declare an export hole, which "
        "`kb.analytics.drift.detect_drift` supports. This script calls detect_drift directly to do it."
    )
    w(
        "- Importing a file with several rows per `ext_id` (one recall event, many products) adds one entry per "
        "distinct text in one import, but a re-import of the same unchanged file then reports those rows as "
        "'updated' and writes new revisions (the lookup by ext_id finds only the latest entry), so the import is "
        "not idempotent. This script sidesteps both by retiring all but the first entry per event."
    )
    w(
        "- With `known_gaps`, detect_drift's note still says the gap periods have 'no records at all'; for a "
        "declared gap that is not true (2017-10 has 3 records here)."
    )
    w(
        "- The rising messages name the firm holding the most records even when it holds 1 of 22; a share "
        "threshold before naming a 'where' would read better."
    )
    w("")
    path.write_text("\n".join(L).rstrip() + "\n", encoding="utf-8")


def _share_range(shares: dict[str, float], years: Iterable[str]) -> str:
    vals = [shares.get(y, 0.0) for y in years]
    lo, hi = min(vals), max(vals)
    return f"{lo:.0%}" if round(lo, 2) == round(hi, 2) else f"{lo:.0%}–{hi:.0%}"


def _signal_sentence(s: dict[str, Any], c: dict[str, Any]) -> str:
    """Return one sentence per rising signal: what, since when, where, and which known wave its records show."""
    themes = s["themes"]
    n = s["n"]
    parts = [
        f"{s['cluster']} ({s['label']}) since {s['start']}, alarm {s['alarm']}"
        + (", still rising" if s["ongoing"] else f", until {s['end']}")
        + f": {n} records from {s['firms']} firms (most at {s['top_firm']})"
    ]
    known = []
    nit = themes.get("nitrosamine (NDMA/NDEA/NMBA/...)", 0)
    if nit >= 0.1 * n:
        prods = [
            f"{themes[k]} {k.split(' (')[0]}"
            for k in ("sartan (product)", "ranitidine/nizatidine (product)", "metformin (product)")
            if themes.get(k)
        ]
        known.append(
            f"{nit} name a nitrosamine (NDMA, NDEA, NMBA ...)"
            + (f"; products: {', '.join(prods)}" if prods else "")
        )
    san = themes.get("hand sanitizer (product)", 0)
    if san >= 0.05 * n:
        known.append(
            f"{san} are hand sanitizers ({themes.get('methanol', 0)} name methanol, {themes.get('benzene', 0)} benzene)"
        )
    if themes.get("azido impurity"):
        known.append(f"{themes['azido impurity']} name an azido impurity")
    if known:
        parts.append("; ".join(known))
    else:
        parts.append("no known wave in its records' themes")
    if s["start"] >= "2026" or (s["ongoing"] and s["start"] >= c.get("_last_year", "9999")):
        row = next((r for r in c["clusters"] if r["id"] == s["cluster"]), None)
        if row and row.get("within_60d") is not None:
            parts.append(
                f"recent: {row['within_60d']:.0%} of this cluster's recalls are classified within 60 days vs "
                f"{c['within_60d_all']:.0%} of all, so faster classification (right-censoring) "
                + (
                    "does not explain it"
                    if row["within_60d"] - c["within_60d_all"] < 0.1
                    else "may explain part of it"
                )
            )
    return "; ".join(parts) + "."


def discussion(res: dict[str, Any]) -> list[str]:
    """Return the discussion paragraphs; every number comes from this run."""
    c, d = res["clusters"], res["drift"]
    main, b36, raw = d["configs"]["main"], d["configs"]["baseline36"], d["configs"]["raw_counts"]
    c["_last_year"] = main["periods"][1][:4] if main.get("periods") else "9999"
    a = c["agreement"]["all events (unclustered = one more label)"]
    rec = c["agreement"]["clustered, with a recognised category"]
    big_cats = [r for r in c["categories"] if r["n"] >= 100 and r["category"] != OTHER]
    real_clusters = [r for r in c["clusters"] if r["id"] != "unclustered"]
    mixed = [r for r in real_clusters if r["purity"] < 0.7]
    pure = [r for r in real_clusters if r["purity"] >= 0.8]
    n, ns = main["null"], main.get("null_sites") or main["null"]
    sy, ty = d["share_by_year"], d["themes_by_year"]
    out = []
    out.append(
        f"**What works.** The clusters are recognisably FDA's problem types: {len(pure)} of {c['n_clusters']} clusters "
        f"have one category at 80 % or more ({', '.join(r['id'] + ' ' + r['dominant'] for r in pure) or 'none'}), and "
        "the large categories mostly land in one cluster ("
        + ", ".join(f"{r['category']} {r['share_in_main']:.0%}" for r in big_cats[:8])
        + f"). ARI {a['ARI']:.2f} and NMI {a['NMI']:.2f} over all events are far above chance "
        f"(ARI {c['agreement_chance']['ARI']:.3f}, NMI {c['agreement_chance']['NMI']:.3f}); "
        f"{c['unclustered_share']:.1%} of the events are left unclustered, the one-off remainder the design intends."
        + (
            " Labels need no FDA-specific stop words (no 'recall', 'recalled' or 'fda' in any label)."
            if not c["boilerplate_in_labels"]
            else ""
        )
    )
    merged = "; ".join(
        f"{r['id']} ({r['purity']:.0%} {r['dominant']}): " + ", ".join(f"{k} {v}" for k, v in r["top3"])
        for r in mixed
    )
    out.append(
        f"**What does not.** The silhouette picks k = {c['diagnostics'].get('k')} for {c['n_categories']} categories, "
        f"so completeness ({a['completeness']:.2f}) is higher than homogeneity ({a['homogeneity']:.2f}): related "
        f"categories share a cluster ({merged or 'none'}). Some of these merges are sound by meaning (a wrong tablet "
        "in the bottle, a label mix-up and a product mix-up are all 'the pack holds the wrong thing'; microbial, "
        "chemical and cross contamination are all contamination); a low-purity catch-all of failed physical "
        "specifications and defective containers/delivery systems is the weakest cluster, and a QA reader would "
        "want it split. Small categories (crystallization, temperature abuse, short fill) cannot have a cluster of "
        f"their own: the minimum cluster size is {c.get('min_cluster_size') or 'about sqrt(n)/2'}. Restricted to clustered "
        f"events with a recognised category the scores are ARI {rec['ARI']:.2f}, NMI {rec['NMI']:.2f}."
    )
    yrs_all = sorted(d["totals_by_year"])
    early = [y for y in yrs_all if y <= "2014"]
    sig_main = [_signal_sentence(s, c) for s in main["signals"] if s["kind"] == "rising"]
    out.append(
        "**Rising signals, main setting.** " + " ".join(f"({i + 1}) {t}" for i, t in enumerate(sig_main))
        if sig_main
        else "**Rising signals, main setting.** None."
    )
    top = next(
        (
            s
            for s in main["signals"]
            if s["kind"] == "rising"
            and s["themes"].get("nitrosamine (NDMA/NDEA/NMBA/...)", 0) >= 0.1 * s["n"]
        ),
        None,
    )
    if top:
        cid = top["cluster"]
        nit = ty.get("nitrosamine (NDMA/NDEA/NMBA/...)", {})
        nit_cl = d["themes_by_cluster"].get("nitrosamine (NDMA/NDEA/NMBA/...)", {})
        out.append(
            f"**The impurity wave.** {cid}'s share of all recalls was {_share_range(sy.get(cid, {}), early)} in "
            f"{early[0]}–{early[-1]} and {_share_range(sy.get(cid, {}), ['2018', '2019', '2020'])} in 2018–2020. "
            "Recalls whose reason names a nitrosamine: "
            + ", ".join(f"{y}: {nit.get(y, 0)}" for y in yrs_all if y >= "2017")
            + "; sartan products "
            + ", ".join(f"{y}: {ty.get('sartan (product)', {}).get(y, 0)}" for y in ("2018", "2019"))
            + f"; ranitidine/nizatidine 2019: {ty.get('ranitidine/nizatidine (product)', {}).get('2019', 0)}; metformin 2020: "
            f"{ty.get('metformin (product)', {}).get('2020', 0)}. This is the 2018–2020 nitrosamine (NDMA) wave and its "
            f"2024–2026 return: {nit_cl.get(cid, 0)} of the {sum(nit_cl.values())} nitrosamine-named recalls are in {cid} "
            "(FDA filed them as cGMP deviations, '... above the acceptable intake limit'; by cluster: "
            + ", ".join(f"{k} {v}" for k, v in nit_cl.items())
            + "), together with the 2020–2022 hand-sanitizer recalls. With the default baseline (first half of the record, "
            f"{main['baseline'][0]}..{main['baseline'][1]}) the wave's 2018 start lies inside the baseline: the baseline "
            "share is raised and the reported start is the first monitored month, because a CUSUM cannot date a change "
            "before its monitoring begins."
        )
    sig_b = [
        f"{s['cluster']} ({s['label']}) {s['start']}..{s['end']}{' ongoing' if s['ongoing'] else ''}, {s['n']} records"
        for s in b36["signals"]
        if s["kind"] == "rising"
    ]
    b_top = next((s for s in b36["signals"] if top and s["cluster"] == top["cluster"]), None)
    long_runs = [s for s in b36["signals"] if s["kind"] == "rising" and s["ongoing"] and s["start"] < "2020"]
    out.append(
        f"**With a {SENSITIVITY_BASELINE}-month baseline** ({b36['baseline'][0]}..{b36['baseline'][1]}): "
        + "; ".join(sig_b)
        + ". "
        + (
            f"{b_top['cluster']} now starts in {b_top['start']} (alarm {b_top['alarm']}): the cGMP share was already "
            f"rising in 2016–2017 ({_share_range(sy.get(b_top['cluster'], {}), ['2016', '2017'])}) before the nitrosamine "
            "recalls. "
            if b_top
            else ""
        )
        + (
            "An ongoing excursion that began years ago ("
            + ", ".join(f"{s['cluster']} since {s['start']}" for s in long_runs)
            + ") is a level shift against an early baseline, not a current wave: the chart does not reset after "
            "an alarm, so it keeps one signal open as long as the share stays above the reference. "
            if long_runs
            else ""
        )
        + f"The shuffles give {b36['null']['rising']['per_year']:.2f} rising false alarms a year in this setting, so the "
        "extra signals are not a calibration failure; they answer a different question ('higher than in 2012–2015')."
    )
    c4 = sy.get(
        next((r["id"] for r in real_clusters if r["dominant"] == "lack of assurance of sterility"), ""), {}
    )
    comp = ty.get("pharmacy/compounder (firm)", {})
    if c4:
        out.append(
            "**Not detectable here.** A 2013 wave of sterility-assurance recalls, many by pharmacies and compounders, "
            "shows in the data (sterility cluster share "
            + ", ".join(f"{y}: {c4.get(y, 0):.0%}" for y in ("2012", "2013", "2014", "2015"))
            + "; recalls for any reason by firms whose name says pharmacy, compounding or outsourcing "
            + ", ".join(f"{y}: {comp.get(y, 0)}" for y in ("2012", "2013", "2014", "2015"))
            + "), but the record starts in June 2012, so the wave is the baseline of every setting: no baseline "
            "without it exists in this file."
        )
    out.append(
        f"**Site concentration** fires {n['site_concentration']['real']} time(s) in the real report: with "
        f"{main['false_alarm_rate']['site_tests']} (cluster, firm) tests in the last 12 months, Holm's first threshold is "
        f"{main['false_alarm_rate']['site_alpha_per_report'] / max(main['false_alarm_rate']['site_tests'] or 1, 1):.1e}, "
        "and in one year few firms have enough recalls in one cluster for that. For 'where', the rising messages "
        "name the firm holding most of a signal's records; in this data the rises are spread over many firms."
    )
    out.append(
        f"**False alarms.** With dates shuffled the main setting gives {n['rising']['mean']:.2f} rising signals per "
        f"shuffle (median {n['rising']['median']:.0f}) over {main['monitored_years']:.1f} monitored years: "
        f"{n['rising']['per_year']:.2f} a year against the rising budget of {main['false_alarm_rate']['rising_per_year']}. "
        f"{n['rising']['share_null_ge_real']:.0%} of the shuffles gave at least as many rising signals as the real record "
        f"({n['rising']['real']}). With firms shuffled too, the site test gives {ns['site_concentration']['mean']:.3f} "
        f"signals per report ({ns['site_concentration']['share_with_any']:.0%} of shuffles) against "
        f"{main['false_alarm_rate']['site_alpha_per_report']:.3f}; with dates only it gives "
        f"{n['site_concentration']['mean']:.3f}, and those are firms that really concentrate in a cluster. Raw counts "
        f"(`exposure=None`) give {raw['null']['rising']['per_year']:.2f} rising false alarms a year against "
        f"{raw['false_alarm_rate']['rising_per_year']}"
        + (
            ": the shuffle keeps the month totals, whose level differs between the baseline and the monitored "
            "years, so clusters 'rise' with the volume; watch shares (`--exposure total`) on this kind of record. "
            if raw["null"]["rising"]["per_year"] > 1.2 * (raw["false_alarm_rate"]["rising_per_year"] or 0)
            else f" (vs {n['rising']['per_year']:.2f} with shares): recall volume is fairly level after 2013, so raw "
            "counts stay near the budget here, but shares are the safer default for a record whose volume moves. "
        )
        + "The shuffle keeps cluster sizes and month totals; it does not reproduce over-dispersion within a "
        "cluster (one firm recalling many products in one month), which a real record has."
    )
    out.append(
        "**Caveats.** (1) FDA's category is a weak label: it is a filing choice (the NDMA findings above are filed "
        "as cGMP deviations, not as failed impurity specifications), one reason can name two categories, and the category phrase is the "
        "first words of the text the model embeds, so agreement partly measures whether the embedding reads the "
        "first words. (2) The export holes thin the initiation months around them; declared as known gaps they "
        "are skipped, undeclared they read as a dip"
        + (
            " (here declaring them changes no signal's cluster or start, only counts near the holes). "
            if d["cli_same_as_main"]
            else " (here declaring them changes the signal list: compare section 3). "
        )
        + "(3) The end of the record is "
        f"right-censored: a recall appears only once FDA classifies it (median {c['median_lag_all']:.0f} days), so the "
        "last months are thin; the last month is partial. (4) One event = its first product row's reason; "
        "the other reasons of an event are retired, not lost. (5) Firm names are not normalised. (6) This is "
        "one industry's public record, not a deviation system: recalls are the tip of the deviations, and "
        "their dates are recall initiation dates, not occurrence dates."
    )
    return out


def print_summary(res: dict[str, Any]) -> None:
    print(summary_table(res))
    main = res["drift"]["configs"]["main"]
    print()
    print(
        table(
            ["kind", "cluster", "label", "since", "n", "statistic", "threshold"],
            [
                [s["kind"], s["cluster"], s["label"], s["start"], s["n"], s["statistic"], s["threshold"]]
                for s in main["signals"]
            ],
        )
    )


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, set):
        return sorted(_jsonable(v) for v in o)
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return o


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.fda_eval", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--kb", type=Path, default=DEFAULT_KB, help=f"knowledge base folder (default {DEFAULT_KB})"
    )
    ap.add_argument(
        "--shuffles", type=int, default=50, help="date shuffles for the main setting (default 50)"
    )
    ap.add_argument(
        "--sensitivity-shuffles",
        type=int,
        default=None,
        help="shuffles for each sensitivity setting (default: half of --shuffles)",
    )
    ap.add_argument(
        "--rebuild", action="store_true", help="delete the folder (if this script built it) and import again"
    )
    ap.add_argument(
        "--recluster", action="store_true", help="cluster again even if the stored run covers the entries"
    )
    ap.add_argument("--no-doc", action="store_true", help=f"do not write {DOC.relative_to(REPO)}")
    ap.add_argument(
        "--doc-only",
        action="store_true",
        help=f"rewrite the doc from DIR/{RESULTS} of an earlier run, computing nothing",
    )
    args = ap.parse_args(argv)
    if args.doc_only:
        path = args.kb / RESULTS
        if not path.is_file():
            raise SystemExit(f"bench.fda_eval: --doc-only needs {path} from an earlier run")
        res = json.loads(path.read_text())
        write_doc(res, DOC)
        print_summary(res)
        return 0
    require_data()
    t0 = time.perf_counter()
    info = machine_info()
    digest = file_sha256(FDA_CSV)
    if digest != FDA_SHA256:
        say(
            f"fda_eval: warning: {FDA_CSV.name} sha256 {digest[:12]}... differs from the README's {FDA_SHA256[:12]}..."
        )
    events = read_events()
    gaps, gap_table = known_gap_months(events)
    kb, imp = build_kb(args.kb, args.rebuild)
    variant_details = [
        [k, n, events.get(k, {}).get("firm", ""), events.get(k, {}).get("initiated", "")]
        for k, n in imp.get("largest_reason_variants", [])[:3]
    ]
    say(f"fda_eval: {kb.store.count()} active deviations; clustering")
    result, clus = cluster_eval(kb, args.recluster, events)
    say(
        f"fda_eval: {clus['n_clusters']} clusters, {clus['unclustered']} unclustered; drift (known gaps {gaps})"
    )
    sens = args.sensitivity_shuffles if args.sensitivity_shuffles is not None else max(args.shuffles // 2, 0)
    drift = drift_eval(kb, result, gaps, args.shuffles, sens, events)
    info["loadavg_end"] = loadavg()
    res = {
        "args": {"kb": str(args.kb), "shuffles": args.shuffles, "sensitivity_shuffles": sens},
        "data_sha256": digest,
        "machine": info,
        "import": imp,
        "gap_table": gap_table,
        "variant_details": variant_details,
        "clusters": clus,
        "drift": drift,
        "total_s": time.perf_counter() - t0,
        "peak_rss_mib": peak_rss_mib(),
    }
    (args.kb / RESULTS).write_text(json.dumps(_jsonable(res), indent=1, ensure_ascii=False, default=str))
    if not args.no_doc:
        write_doc(res, DOC)
        say(f"fda_eval: wrote {DOC.relative_to(REPO)}; raw results in {args.kb / RESULTS}")
    print_summary(res)
    kb.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
