#!/usr/bin/env python3
"""Validate the TacitKB sample data set and print its counts.

    .venv/bin/python data/samples/check_samples.py

Exits non-zero on the first class of problems found (all problems of that run are printed).
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
START, END = date(2024, 1, 1), date(2025, 8, 31)
TYPES = ("cue", "know_how", "deviation", "fix", "lesson")
STEPS = {
    "CAR-T": {
        "apheresis_receipt",
        "tcell_selection",
        "activation",
        "transduction",
        "expansion",
        "harvest_wash",
        "formulation",
        "cryopreservation",
        "release_testing",
    },
    "LVV": {
        "cell_expansion",
        "transfection",
        "harvest",
        "clarification",
        "nuclease_treatment",
        "tff",
        "chromatography",
        "sterile_filtration",
        "fill_finish",
    },
}
REQUIRED = ("ext_id", "type", "text", "process", "step", "site", "occurred_at")
RELATIONS = {"fixed_by", "duplicate_of", "related"}
ROOT_CAUSES = {"man", "machine", "method", "material", "measurement", "mother_nature"}
ACTA = {
    "past_and_future",
    "big_picture",
    "noticing",
    "job_smarts",
    "opportunities_improvising",
    "self_monitoring",
    "anomalies",
    "equipment_difficulties",
}
PARTS = ("readiness", "transition", "success_cue", "stabiliser", "reversion_risk")


def main() -> int:
    errors: list[str] = []
    entries = []
    with open(HERE / "entries.jsonl", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as exc:
                errors.append(f"entries.jsonl line {n}: not JSON ({exc})")
    ids = Counter(e.get("ext_id") for e in entries)
    errors += [f"duplicate ext_id {i}" for i, c in ids.items() if c > 1]
    texts = Counter(e.get("text") for e in entries)
    errors += [f"duplicate text: {t[:60]}" for t, c in texts.items() if c > 1]
    by_id = {e["ext_id"]: e for e in entries}

    for e in entries:
        i = e.get("ext_id")
        for k in REQUIRED:
            if not e.get(k):
                errors.append(f"{i}: missing {k}")
        if e.get("type") not in TYPES:
            errors.append(f"{i}: bad type {e.get('type')}")
        if e.get("site") not in ("CAM", "LEI"):
            errors.append(f"{i}: bad site")
        if e.get("step") not in STEPS.get(e.get("process"), ()):
            errors.append(f"{i}: bad process/step {e.get('process')}/{e.get('step')}")
        if len(e.get("title", "")) > 90:
            errors.append(f"{i}: title too long")
        try:
            d = date.fromisoformat(e["occurred_at"])
            if not START <= d <= END:
                errors.append(f"{i}: date {d} out of range")
            if e["site"] == "LEI" and d < date(2024, 4, 1):
                errors.append(f"{i}: LEI entry before April 2024")
        except (KeyError, ValueError):
            errors.append(f"{i}: bad occurred_at")
        f = e.get("fields", {})
        if e["type"] == "deviation":
            if (
                e.get("severity") not in ("minor", "major", "critical")
                or e.get("root_cause") not in ROOT_CAUSES
            ):
                errors.append(f"{i}: deviation severity/root_cause")
            for k in (
                "deviation_no",
                "detected_at",
                "planned",
                "immediate_action",
                "classification",
                "status",
            ):
                if k not in f:
                    errors.append(f"{i}: deviation fields.{k} missing")
            if f.get("classification") != e.get("severity"):
                errors.append(f"{i}: classification != severity")
            if f.get("detected_at", "9") < e["occurred_at"] or f.get("detected_at", "0") > END.isoformat():
                errors.append(f"{i}: detected_at")
        elif e.get("severity") or e.get("root_cause"):
            errors.append(f"{i}: severity/root_cause on a non-deviation")
        if e["type"] == "fix":
            for k in ("symptom", "cause", "action", "verification", "held"):
                if k not in f:
                    errors.append(f"{i}: fix fields.{k} missing")
        if e["type"] == "lesson":
            for k in ("driving_event", "recommendation"):
                if k not in f:
                    errors.append(f"{i}: lesson fields.{k} missing")
        acta_ok = f.get("acta_category") in ACTA and f.get("cues") and f.get("why_difficult")
        if f.get("template_id") == "acta_knowledge_audit" and not acta_ok:
            errors.append(f"{i}: ACTA fields")
        card_ok = (
            f.get("state_part") in PARTS
            and f.get("condition")
            and f"state:{f.get('state_part')}" in e.get("tags", [])
        )
        if f.get("template_id") == "step_state_card" and not card_ok:
            errors.append(f"{i}: step state card fields/tags")
        if f.get("failure_pattern") not in (None, "context", "preparation", "stability"):
            errors.append(f"{i}: failure_pattern")

    links = []
    with open(HERE / "links.csv", encoding="utf-8", newline="") as fh:
        rd = csv.DictReader(fh)
        if rd.fieldnames != ["source_ext_id", "relation", "target_ext_id"]:
            errors.append(f"links.csv header {rd.fieldnames}")
        for n, row in enumerate(rd, 2):
            links.append(row)
            for k in ("source_ext_id", "target_ext_id"):
                if row[k] not in by_id:
                    errors.append(f"links.csv line {n}: unknown {k} {row[k]}")
            if row["relation"] not in RELATIONS:
                errors.append(f"links.csv line {n}: relation {row['relation']}")
            if (
                row["relation"] == "fixed_by"
                and row["source_ext_id"] in by_id
                and row["target_ext_id"] in by_id
            ):
                s, t = by_id[row["source_ext_id"]], by_id[row["target_ext_id"]]
                if s["type"] != "deviation" or t["type"] != "fix":
                    errors.append(f"links.csv line {n}: fixed_by must go deviation -> fix")
                if t["occurred_at"] < s["occurred_at"]:
                    errors.append(f"links.csv line {n}: fix dated before its deviation")
    batches = set()
    with open(HERE / "batches.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            batches.add(row["batch"])
    errors += [
        f"{e['ext_id']}: batch {e['batch']} not in batches.csv"
        for e in entries
        if e.get("batch") and e["batch"] not in batches
    ]

    # ---- counts --------------------------------------------------------------------------------
    print(f"entries: {len(entries)}   links: {len(links)}   batches: {len(batches)}")
    t = Counter(e["type"] for e in entries)
    print("by type:   ", dict(t))
    print("by process:", dict(Counter(e["process"] for e in entries)))
    print("by site:   ", dict(Counter(e["site"] for e in entries)))
    print("links:     ", dict(Counter(r["relation"] for r in links)))
    acta = [e for e in entries if e.get("fields", {}).get("template_id") == "acta_knowledge_audit"]
    cards = [e for e in entries if e.get("fields", {}).get("template_id") == "step_state_card"]
    print(f"ACTA know-how: {len(acta)} ({dict(Counter(e['fields']['acta_category'] for e in acta))})")
    print(f"step state cards: {len(cards)}")
    fp = Counter(
        e["fields"]["failure_pattern"] for e in entries if e.get("fields", {}).get("failure_pattern")
    )
    print("failure patterns:", dict(fp), "total", sum(fp.values()))
    devs = [e for e in entries if e["type"] == "deviation"]
    fixed = {r["source_ext_id"] for r in links if r["relation"] == "fixed_by"}
    print(f"deviations with a fix: {len(fixed)}/{len(devs)}")

    minimum = {"cue": 90, "know_how": 60, "deviation": 100, "fix": 60, "lesson": 20}
    errors += [f"too few {k}: {t[k]} < {v}" for k, v in minimum.items() if t[k] < v]
    if len(entries) < 340:
        errors.append("fewer than 340 entries")
    if len(acta) < 40:
        errors.append("fewer than 40 ACTA entries")

    # step state cards: every part from both sites for each card step; the planted disagreement
    card_cov = defaultdict(set)
    for e in cards:
        card_cov[(e["process"], e["step"])].add((e["site"], e["fields"]["state_part"]))
    for (p, s), have in sorted(card_cov.items()):
        missing = [f"{site}:{part}" for site in ("CAM", "LEI") for part in PARTS if (site, part) not in have]
        print(f"  cards {p}/{s}: {'complete' if not missing else 'missing ' + ', '.join(missing)}")
        if missing:
            errors.append(f"cards {p}/{s} missing {missing}")
    for need in (("LVV", "transfection"), ("CAR-T", "cryopreservation")):
        if need not in card_cov:
            errors.append(f"no step state cards for {need}")
    ranges = defaultdict(dict)
    for e in cards:
        f = e["fields"]
        ranges[(e["process"], e["step"], f["condition"])][e["site"]] = (
            f["range_min"],
            f["range_max"],
            f["unit"],
        )
    for key, by_site in sorted(ranges.items()):
        if len(by_site) == 2 and by_site["CAM"] != by_site["LEI"]:
            print(f"  DISAGREEMENT {key}: CAM {by_site['CAM']} vs LEI {by_site['LEI']}")

    # coverage gaps
    kh_lei_chrom = [
        e for e in entries if e["type"] == "know_how" and e["site"] == "LEI" and e["step"] == "chromatography"
    ]
    cue_cam_fill = [
        e for e in entries if e["type"] == "cue" and e["site"] == "CAM" and e["step"] == "fill_finish"
    ]
    print(
        f"gap LEI know-how chromatography: {len(kh_lei_chrom)}; gap CAM cues fill_finish: {len(cue_cam_fill)}"
    )
    if kh_lei_chrom or cue_cam_fill:
        errors.append("planted coverage gaps are not empty")

    # drift: deviations at LVV clarification, by month and site
    truth = json.loads((HERE / "ground_truth.json").read_text(encoding="utf-8"))
    clar = [e for e in devs if e["process"] == "LVV" and e["step"] == "clarification"]
    if sorted(e["ext_id"] for e in clar) != sorted(truth["drift"]["ext_ids"]):
        errors.append("drift ext_ids in ground_truth.json differ from the clarification deviations")
    months = defaultdict(Counter)
    for e in clar:
        months[e["occurred_at"][:7]][e["site"]] += 1
    print("drift problem (LVV clarification deviations) per month:")
    ym = [(y, m) for y in (2024, 2025) for m in range(1, 13) if (y, m) <= (2025, 8)]
    base, late = Counter(), Counter()
    for y, m in ym:
        key = f"{y}-{m:02d}"
        c = months.get(key, Counter())
        print(f"  {key}  CAM {c['CAM']}  LEI {c['LEI']}  {'#' * (c['CAM'] + c['LEI'])}")
        (late if key >= "2025-05" else base).update(c)
    print(
        f"  baseline 2024-01..2025-04: {sum(base.values())} ({dict(base)}); "
        f"2025-05..08: {sum(late.values())} ({dict(late)}), LEI share {late['LEI'] / max(1, sum(late.values())):.0%}"
    )
    late_months = [sum(months[f"2025-{m:02d}"].values()) for m in range(5, 9)]
    if not all(4 <= c <= 6 for c in late_months) or late["LEI"] / sum(late.values()) < 0.8:
        errors.append(f"drift months off: {late_months}")
    gaps_base = [sum(months[f"{y}-{m:02d}"].values()) for y, m in ym if f"{y}-{m:02d}" < "2025-05"]
    if max(gaps_base) > 1 or not 6 <= sum(gaps_base) <= 9:
        errors.append(f"drift baseline off: {gaps_base}")
    raf = truth["repeat_after_fix"]
    fx = by_id[raf["fix"]]
    after = [e for e in clar if e["occurred_at"] > fx["occurred_at"]]
    print(
        f"repeat after fix: {raf['fix']} {fx['occurred_at']} held={fx['fields']['held']}; "
        f"{len(after)} same-problem deviations after it"
    )
    if not fx["fields"]["held"] or not after:
        errors.append("repeat-after-fix case missing")

    # other deviation problems: steps other than clarification, per quarter (should look flat)
    q = Counter()
    for e in devs:
        if e["step"] != "clarification":
            y, m = int(e["occurred_at"][:4]), int(e["occurred_at"][5:7])
            q[f"{y}-Q{(m - 1) // 3 + 1}"] += 1
    print("other deviations per quarter:", dict(sorted(q.items())))

    if errors:
        print(f"\n{len(errors)} PROBLEM(S):")
        for x in errors:
            print("  -", x)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
