#!/usr/bin/env python3
"""Build the TacitKB synthetic sample data set (entries.jsonl, links.csv, batches.csv, README.md).

Everything here is SYNTHETIC and was written for the TacitKB project: the sites, people, batches,
deviation numbers and results are invented. The texts are hand-written (one per entry); this script only
places them in time, assigns batches from a batch calendar, numbers them and writes the files.

Deterministic: a fixed seed, no wall-clock input. Run from anywhere:

    .venv/bin/python data/samples/make_samples.py

Content keys (k="...") are local handles used to build links; they are not written out.
"""

from __future__ import annotations

import calendar
import csv
import json
import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

SEED = 20250831
HERE = Path(__file__).resolve().parent
START = date(2024, 1, 1)
END = date(2025, 8, 31)

CART_STEPS = (
    "apheresis_receipt",
    "tcell_selection",
    "activation",
    "transduction",
    "expansion",
    "harvest_wash",
    "formulation",
    "cryopreservation",
    "release_testing",
)
LVV_STEPS = (
    "cell_expansion",
    "transfection",
    "harvest",
    "clarification",
    "nuclease_treatment",
    "tff",
    "chromatography",
    "sterile_filtration",
    "fill_finish",
)
STEPS = {"CAR-T": CART_STEPS, "LVV": LVV_STEPS}
TYPES = ("cue", "know_how", "deviation", "fix", "lesson")
PREFIX = {"cue": "CUE", "know_how": "KH", "deviation": "DEV", "fix": "FIX", "lesson": "LL"}
ROOT_CAUSES = ("man", "machine", "method", "material", "measurement", "mother_nature")
ACTA_CATEGORIES = (
    "past_and_future",
    "big_picture",
    "noticing",
    "job_smarts",
    "opportunities_improvising",
    "self_monitoring",
    "anomalies",
    "equipment_difficulties",
)
STATE_PARTS = ("readiness", "transition", "success_cue", "stabiliser", "reversion_risk")

# A small, consistent cast per site. The last name on each list is MSAT/QA.
CAST = {
    ("CAM", "CAR-T"): ["M. Okafor", "J. Reyes", "S. Patel"],
    ("CAM", "LVV"): ["K. Lindqvist", "D. Chen", "S. Patel"],
    ("CAM", "QA"): ["A. Brennan"],
    ("LEI", "CAR-T"): ["E. de Vries", "L. Visser", "N. Smit"],
    ("LEI", "LVV"): ["T. Bakker", "R. Jansen", "N. Smit"],
    ("LEI", "QA"): ["F. van Dijk"],
}

# Day offsets of each step from the batch start (CAR-T: apheresis day; LVV: bioreactor inoculation).
OFFSETS = {
    "apheresis_receipt": (0, 0),
    "tcell_selection": (0, 0),
    "activation": (0, 1),
    "transduction": (1, 2),
    "expansion": (3, 8),
    "harvest_wash": (9, 9),
    "formulation": (9, 9),
    "cryopreservation": (9, 9),
    "release_testing": (10, 24),
    "cell_expansion": (0, 2),
    "transfection": (3, 3),
    "harvest": (5, 5),
    "clarification": (5, 5),
    "nuclease_treatment": (5, 5),
    "tff": (6, 6),
    "chromatography": (6, 6),
    "sterile_filtration": (7, 7),
    "fill_finish": (7, 8),
}

rng = random.Random(SEED)


# ----------------------------------------------------------------------------------------------
# Batch calendar
# ----------------------------------------------------------------------------------------------
def _cadence(process: str, site: str, d: date) -> int | None:
    """Return the mean gap in days between batch starts, or None when the site is not running."""
    if process == "CAR-T":
        if site == "CAM":
            return 5
        if d < date(2024, 4, 8):
            return None
        return 7 if d < date(2025, 1, 1) else 5
    if site == "CAM":
        return 14
    if d < date(2024, 5, 6):
        return None
    return 14 if d < date(2025, 4, 28) else 5


def build_calendar() -> list[dict]:
    cal_rng = random.Random(SEED + 1)
    rows = []
    first = {
        ("CAR-T", "CAM"): date(2024, 1, 3),
        ("CAR-T", "LEI"): date(2024, 4, 8),
        ("LVV", "CAM"): date(2024, 1, 8),
        ("LVV", "LEI"): date(2024, 5, 6),
    }
    for (process, site), d in first.items():
        while d <= END - timedelta(days=3):
            rows.append({"process": process, "site": site, "start": d})
            gap = _cadence(process, site, d)
            d = d + timedelta(days=gap + cal_rng.choice((-1, 0, 0, 0, 1)))
    rows.sort(key=lambda r: (r["start"], r["process"], r["site"]))
    seq: Counter = Counter()
    for r in rows:
        yy = r["start"].year % 100
        code = "CT" if r["process"] == "CAR-T" else "LV"
        seq[(code, yy)] += 1
        r["batch"] = f"{code}-{yy:02d}-{seq[(code, yy)]:03d}"
        if r["process"] == "CAR-T":
            r["scale"] = "G-Rex 100M"
        elif r["site"] == "CAM":
            r["scale"] = "50 L"
        else:
            r["scale"] = "200 L" if r["start"] >= date(2025, 5, 1) else "50 L"
    return rows


CALENDAR = build_calendar()
BY_BATCH = {r["batch"]: r for r in CALENDAR}


# ----------------------------------------------------------------------------------------------
# Defaults for equipment and scale
# ----------------------------------------------------------------------------------------------
def default_equipment(process: str, site: str, step: str, scale: str | None) -> str | None:
    if process == "CAR-T":
        return {
            "tcell_selection": "CliniMACS Prodigy",
            "activation": "CliniMACS Prodigy",
            "transduction": "CliniMACS Prodigy",
            "expansion": "G-Rex 100M-CS",
            "harvest_wash": "LOVO" if site == "CAM" else "Sepax C-Pro",
            "formulation": "Sepax C-Pro",
            "cryopreservation": "CryoMed CRF",
            "release_testing": "NucleoCounter NC-200" if site == "CAM" else "Vi-CELL BLU",
        }.get(step)
    if step in ("cell_expansion", "transfection", "harvest"):
        if site == "CAM":
            return "Mobius 50 L" if scale != "2 L" else None
        return "Xcellerex XDR-200" if scale == "200 L" else "Xcellerex XDR-50"
    return {
        "clarification": "Sartoclear depth filter",
        "tff": "Repligen KrosFlo KR2i",
        "chromatography": "ÄKTA ready",
        "sterile_filtration": "Sartopore 2 0.2 um",
    }.get(step)


def default_scale(process: str, site: str, step: str, d: date) -> str | None:
    if process == "CAR-T":
        if step in ("tcell_selection", "activation", "transduction"):
            return "Prodigy"
        if step in ("expansion", "harvest_wash", "formulation", "cryopreservation"):
            return "G-Rex 100M"
        return None
    if site == "CAM":
        return "50 L"
    return "200 L" if d >= date(2025, 5, 1) else "50 L"


# ----------------------------------------------------------------------------------------------
# Content registry
# ----------------------------------------------------------------------------------------------
RAW: list[dict] = []
RELATED: list[tuple[str, str]] = []  # (source key, target key), relation "related"


def _add(kind: str, site: str, process: str, step: str, when: str, title: str, text: str, **kw) -> dict:
    assert kind in TYPES, kind
    assert site in ("CAM", "LEI"), site
    assert step in STEPS[process], (process, step)
    assert len(title) <= 90, title
    rec = {
        "kind": kind,
        "site": site,
        "process": process,
        "step": step,
        "when": when,
        "title": title,
        "text": " ".join(text.split()),
    }
    rec.update(kw)
    RAW.append(rec)
    return rec


def cue(site, process, step, when, title, text, tags=(), **kw):
    """An operator cue logged during a run (what was seen/heard/smelled/measured and what was done)."""
    return _add("cue", site, process, step, when, title, text, tags=list(tags), **kw)


def know(site, process, step, when, title, text, tags=(), **kw):
    """Plain know-how (no workshop template)."""
    return _add("know_how", site, process, step, when, title, text, tags=list(tags), **kw)


def acta(site, process, step, when, category, title, text, cues, why, tags=(), workshop=None, **kw):
    """Know-how captured with the ACTA knowledge-audit template."""
    assert category in ACTA_CATEGORIES, category
    fields = {
        "template_id": "acta_knowledge_audit",
        "acta_category": category,
        "cues": " ".join(cues.split()),
        "why_difficult": " ".join(why.split()),
    }
    if workshop:
        fields["workshop_id"] = workshop
    return _add("know_how", site, process, step, when, title, text, tags=list(tags), fields=fields, **kw)


def card(site, process, step, when, part, condition, rmin, rmax, unit, title, text, tags=(), **kw):
    """Know-how captured as a step state card line."""
    assert part in STATE_PARTS, part
    fields = {
        "template_id": "step_state_card",
        "state_part": part,
        "condition": condition,
        "range_min": rmin,
        "range_max": rmax,
        "unit": unit,
    }
    return _add(
        "know_how", site, process, step, when, title, text, tags=[f"state:{part}", *tags], fields=fields, **kw
    )


def dev(
    k,
    site,
    process,
    step,
    when,
    sev,
    rc,
    title,
    text,
    imm,
    tags=(),
    fp=None,
    capa=None,
    status=None,
    planned=False,
    dup_of=None,
    **kw,
):
    """A GMP deviation record."""
    assert sev in ("minor", "major", "critical"), sev
    assert rc in ROOT_CAUSES, rc
    return _add(
        "deviation",
        site,
        process,
        step,
        when,
        title,
        text,
        k=k,
        severity=sev,
        root_cause=rc,
        imm=" ".join(imm.split()),
        tags=list(tags),
        fp=fp,
        capa=capa,
        status=status,
        planned=planned,
        dup_of=dup_of,
        **kw,
    )


def fix(
    k,
    site,
    process,
    step,
    when,
    title,
    text,
    symptom,
    cause,
    action,
    verification,
    held,
    fixes=(),
    tags=(),
    fp=None,
    **kw,
):
    """A troubleshooting / fix note; `fixes` lists the deviation keys it resolves (fixed_by links)."""
    f = {"symptom": symptom, "cause": cause, "action": action, "verification": verification, "held": held}
    f = {a: (" ".join(b.split()) if isinstance(b, str) else b) for a, b in f.items()}
    return _add(
        "fix",
        site,
        process,
        step,
        when,
        title,
        text,
        k=k,
        ffields=f,
        fixes=list(fixes),
        tags=list(tags),
        fp=fp,
        **kw,
    )


def lesson(k, site, process, step, when, title, text, driving_event, recommendation, rel=(), tags=(), **kw):
    """A lesson learned (driving event, recommendation)."""
    f = {"driving_event": " ".join(driving_event.split()), "recommendation": " ".join(recommendation.split())}
    return _add(
        "lesson", site, process, step, when, title, text, k=k, lfields=f, rel=list(rel), tags=list(tags), **kw
    )


def rel(src, *targets):
    for t in targets:
        RELATED.append((src, t))


# ==============================================================================================
# CONTENT
# ==============================================================================================
# fmt: off
# ----------------------------------------------------------------------------------------------
# PLANTED DRIFT: LVV clarification, depth filter (Sartoclear) blocking early / dP climbing fast,
# with cell clumps and DNA strings in the harvest. Baseline ~1 per 2-3 months (2024-02 .. 2025-03),
# then 4-6 per month 2025-05 .. 2025-08, mostly at LEI (200 L scale-up from 2025-05).
# ----------------------------------------------------------------------------------------------
DRIFT_KEYS: list[str] = []


def ddev(k, *a, **kw):
    DRIFT_KEYS.append(k)
    return dev(k, *a, **kw)


ddev("dz01", "CAM", "LVV", "clarification", "2024-02", "minor", "material",
     "Sartoclear train plugged at ~60 % of 50 L harvest volume",
     """During clarification of the 50 L harvest the differential pressure across the Sartoclear depth
     filter train rose from 0.2 bar to 1.4 bar after only ~30 L had passed, above the 1.0 bar action
     limit in BR-LVV-05 step 9.3. Flow was stopped and a spare 0.55 m2 capsule was installed to finish
     the remaining volume. White clumps and stringy material were visible in the harvest bag before
     filtration started.""",
     """Pump stopped, spare depth filter capsule installed and flushed, clarification completed;
     filtrate sampled for turbidity and infectious titer.""",
     tags=["depth filter", "dP", "clumps"])

ddev("dz02", "CAM", "LVV", "clarification", "2024-04", "minor", "method",
     "Depth filter dP +0.3 bar in 10 min right after start",
     """Pressure drop across the depth filter climbed 0.3 bar in the first 10 minutes of clarification
     (expected < 0.1 bar per 10 min at 1.5 L/min). Harvest looked ropey: long translucent strands
     collected around the dip tube and on the bag walls. The batch record requires clarification of the
     whole harvest through one primary/secondary filter set; a second set was needed.""",
     """Flow reduced to 1.0 L/min while spare set was prepared; switched to spare set at 0.9 bar;
     retained the blocked capsule for inspection.""",
     tags=["clarification", "pressure", "DNA strings"])

ddev("dz03", "LEI", "LVV", "clarification", "2024-07", "minor", "man",
     "Pressure over depth filter above alarm limit after 18 L of 50 L harvest",
     """Pressure drop over the depth filter reached the alarm limit of 1.0 bar after 18 L of the 50 L
     harvest was processed. Filter was blocked. Aggregates were observed in the harvest. MBR step 7.4
     requires complete clarification with one filter set; an additional filter set was used, which is not
     described in the MBR. Operator had started the pump at 2.5 L/min instead of ramping from 1 L/min.""",
     """Clarification paused, second filter set installed from stock (not pre-flushed, flushed in
     place with 10 L buffer), process continued, QA informed by phone.""",
     tags=["depth filtration", "alarm", "aggregates"], fp="context")

ddev("dz04", "CAM", "LVV", "clarification", "2024-09", "major", "method",
     "Clarification filter fouled early; 35 % titer loss vs trend",
     """Sartoclear primary stage fouled at about 22 L/m2 throughput (trend 80-110 L/m2). Harvest showed
     visible cell-debris clumps and a slimy film on the sight glass. Pre-harvest nuclease addition in the
     bioreactor (WI-LVV-112 step 4) was not performed because the harvest was moved forward by 3 h.
     Clarified pool infectious titer 35 % below the 50 L trend.""",
     """Completed clarification with two spare capsules; batch continued; impact on titer assessed in
     deviation; QA notified same shift.""",
     tags=["filter fouling", "benzonase", "titer loss"], fp="preparation", capa="CAPA-2024-031")

ddev("dz05", "LEI", "LVV", "clarification", "2024-11", "minor", "method",
     "Early blocking of Sartoclear primary stage, pressure alarm at 1.2 bar",
     """During depth filtration of the XDR-50 harvest the primary Sartoclear stage blocked early;
     pressure alarm at 1.2 bar after 14 minutes. Stringy white material was present in the harvest bag and
     in the filter inlet line. Filtration was continued on a second filter set. Process description
     expects one set per 50 L.""",
     """Pump stopped on alarm, second filter set connected, remaining harvest clarified at reduced flow
     1.2 L/min.""",
     tags=["depth filter", "blocking", "harvest quality"])

ddev("dz06", "LEI", "LVV", "clarification", "2025-01", "major", "method",
     "Depth filtration stopped twice on high dP after extended harvest hold",
     """Harvest was held 56 h post-transfection (MBR 46-50 h) because of a weekend shift gap. During
     clarification the dP went above the 1.0 bar limit twice; filtration had to be stopped and two extra
     Sartoclear capsules were used. Operators described the harvest as 'full of snot-like strings' with
     many visible clumps. Filtrate turbidity 31 NTU (target < 20 NTU).""",
     """Stopped and changed filters twice; filtrate re-filtered over the secondary stage; sample for
     residual host-cell DNA added; QA deviation opened.""",
     tags=["dP", "harvest hold", "turbidity"], capa="CAPA-2025-004", fp="context")

ddev("dz07", "LEI", "LVV", "clarification", "2025-03-04", "major", "method",
     "Repeat: clarification train blocked, harvest full of clumps",
     """Third clarification blockage at LEI in five months. Differential pressure rose from 0.3 to
     1.1 bar within 8 minutes at 1.5 L/min; visible clumps and long DNA strings in the harvest. Only 21 L
     clarified through the first filter set; a complete second train was needed. Same failure as the
     January deviation, linked to CAPA-2025-004.""",
     """Changed to spare filter train, completed clarification, flagged as recurrence to QA and the
     CAPA owner.""",
     tags=["repeat", "depth filter", "clumps", "DNA"], capa="CAPA-2025-004", fp="stability")

# --- 2025-05: LEI scale-up to Xcellerex XDR-200 -------------------------------------------------
ddev("dz08", "LEI", "LVV", "clarification", "2025-05", "major", "method",
     "First 200 L harvest: depth filter train blinded at ~45 % throughput",
     """First GMP 200 L run. The Sartoclear train (3 x 1.1 m2 primary, sized linearly from 50 L) blinded
     after about 90 L of 200 L. dP above 1.0 bar, flow dropped to 0.4 L/min. Harvest had visible
     flocculent clumps and DNA-like strings. The filter sizing in the transfer package assumes 100 L/m2
     capacity; actual capacity was about 27 L/m2.""",
     """Clarification paused; two extra capsules taken from the 50 L stock; process completed 2 h 10 min
     later than planned; harvest kept at 18-22 C during the hold.""",
     tags=["200 L", "scale-up", "filter capacity", "clumps"], batch_hint="first200")

ddev("dz09", "LEI", "LVV", "clarification", "2025-05", "minor", "method",
     "dP on clarification rose to 1.5 bar within 12 min, flow cut back",
     """Clarification of the 200 L harvest: the pressure differential over the depth filter went from
     0.25 bar to 1.5 bar in 12 minutes. Operator reduced flow from 3.0 to 1.2 L/min which slowed but did
     not stop the rise. Strings and small white clumps were visible in the harvest line.""",
     """Flow reduced, then switched to spare capsule pair at 1.5 bar; QA informed.""",
     tags=["dP", "200 L", "flow reduction"])

ddev("dz10", "LEI", "LVV", "clarification", "2025-05", "major", "material",
     "Heavy flocculent material in 200 L harvest blocked Sartoclear capsules",
     """Large amount of flocculent material in the harvest (visible settling in the bag within 15 min).
     The Sartoclear capsules blocked after 70 L; a total of 7 capsules were used against 3 in the MBR.
     Cell viability at harvest 61 %, lower than at 50 L (typically 70-75 %).""",
     """Filtration continued in stages with filter changes; harvest mixed gently before each stage;
     extra samples for residual DNA taken.""",
     tags=["flocculation", "low viability at harvest", "filter change"])

ddev("dz11", "LEI", "LVV", "clarification", "2025-05", "minor", "method",
     "Clarification not completed on one filter set - third set needed",
     """MBR-LV-200 step 8.2 requires clarification of the complete harvest on the installed filter set.
     The set blocked (dP 1.1 bar) at 95 L and the second set at 160 L; a third set was installed. Clumps
     and stringy material were seen in the harvest bag and on the filter inlet.""",
     """Third filter set installed; throughput recorded per set; deviation raised.""",
     tags=["filter set", "throughput", "clarification"])

# --- 2025-06 ------------------------------------------------------------------------------------
ddev("dz12", "LEI", "LVV", "clarification", "2025-06", "minor", "method",
     "Filter pressure high alarm during harvest clarification, strands in sight glass",
     """'P-high' alarm on the clarification skid (limit 1.0 bar) 20 min into depth filtration.
     Translucent strands, probably DNA, were visible in the sight glass and the harvest bag. Filtration
     continued after capsule change.""",
     """Alarm acknowledged, capsule changed, flow restarted at 1.5 L/min.""",
     tags=["pressure alarm", "DNA", "strands"])

ddev("dz13", "LEI", "LVV", "clarification", "2025-06", "major", "machine",
     "Pre-filter blocked, fluid backed up and wetted harvest bag vent filter",
     """The first-stage depth filter blocked while the pump kept running; pressure build-up pushed
     harvest back into the bag and wetted the 0.2 um vent filter of the harvest bag. Closed-system
     integrity of the bag is in doubt. Harvest was full of clumps; the filter inlet was coated with a
     gel-like layer.""",
     """Pump stopped; harvest transferred to new bag via sterile weld; vent filter integrity test
     requested; bioburden sample taken.""",
     tags=["vent filter", "closed system", "blockage"])

ddev("dz14", "CAM", "LVV", "clarification", "2025-06", "minor", "man",
     "50 L harvest: dP +0.4 bar in first 5 min; clumps after delayed harvest",
     """Harvest was delayed 6 h because of staffing and moved to the night shift; the pre-harvest
     Benzonase addition in the Mobius was not done. At the start of clarification the dP increased by
     0.4 bar in 5 minutes and clumps were visible in the harvest line. WI-LVV-112 requires the
     pre-harvest nuclease step.""",
     """Stopped, added Benzonase 10 U/mL + 2 mM MgCl2 to the harvest bag, held 45 min at 20 C, resumed
     on a fresh capsule; dP then stable at 0.35 bar.""",
     tags=["night shift", "benzonase", "dP"], fp="preparation")

ddev("dz15", "LEI", "LVV", "clarification", "2025-06", "minor", "method",
     "Unplanned Sartoclear capsule exchange during clarification (third this month)",
     """Unplanned exchange of the Sartoclear primary capsules during clarification because of fast
     pressure increase. Harvest contained visible aggregates. This is the third occurrence in June at
     200 L scale.""",
     """Capsules exchanged, clarification completed; trend sent to MSAT.""",
     tags=["capsule exchange", "aggregates", "trend"])

ddev("dz16", "LEI", "LVV", "clarification", "2025-06", "major", "method",
     "Turbid filtrate and breakthrough after pressure spike on depth filter",
     """After a pressure spike to 1.7 bar on the depth filter the filtrate became visibly hazy (turbidity
     48 NTU, limit 20 NTU), which indicates breakthrough of the primary stage. Harvest was very clumpy
     with long strings. Clarified pool re-filtered over a new secondary stage.""",
     """Filtrate collected separately, re-filtered through a new secondary capsule; turbidity after
     re-filtration 12 NTU; extra titer and HCD samples.""",
     tags=["breakthrough", "turbidity", "pressure spike"])

# --- 2025-07 ------------------------------------------------------------------------------------
ddev("dz17", "LEI", "LVV", "clarification", "2025-07", "minor", "method",
     "Clarification throughput 38 L/m2 vs expected >= 80 L/m2",
     """Depth filter capacity at 200 L was 38 L/m2 before the dP limit was reached (process description:
     >= 80 L/m2). Harvest was sticky with visible clumps. Two additional capsules consumed.""",
     """Extra capsules installed from the new buffer stock, clarification completed.""",
     tags=["filter capacity", "L/m2", "200 L"])

ddev("dz18", "LEI", "LVV", "clarification", "2025-07", "minor", "man",
     "Depth filter pressure climbed fast; flow reduced below MBR minimum",
     """Pressure across the depth filter climbed quickly after start. To avoid a filter change the operator
     reduced the flow to 0.6 L/min, below the MBR minimum of 1.5 L/min; clarification then took 3 h 40
     min, exceeding the harvest hold limit at room temperature. The harvest had DNA strings and clumps.""",
     """Supervisor stopped the run at 0.6 L/min, capsule changed, flow restored to 1.5 L/min;
     hold-time excursion added to the deviation.""",
     tags=["flow rate", "hold time", "DNA strings"], fp="context")

ddev("dz19", "CAM", "LVV", "clarification", "2025-07", "minor", "method",
     "Depth filter plugged, gelatinous strands on the capsule inlet",
     """The primary Sartoclear capsule plugged (dP 1.2 bar) after 28 L of the 50 L harvest. Gel-like
     strands were found on the capsule inlet when it was removed. Pre-harvest nuclease was added, but only
     20 min before harvest instead of 60 min because the harvest window moved.""",
     """Spare capsule installed; remaining volume clarified at 1.2 L/min; capsule kept for photos.""",
     tags=["plugged", "gel", "pre-harvest nuclease"], fp="context")

ddev("dz20", "LEI", "LVV", "clarification", "2025-07", "minor", "method",
     "Clumped harvest; 4 Sartoclear capsules consumed against 2 planned",
     """Harvest of the 200 L batch was visibly clumped. During depth filtration 4 Sartoclear capsules were
     needed instead of the 2 planned in MBR-LV-200 rev 2. Each capsule change took ~15 min.""",
     """Capsules changed as they blocked; total hold recorded; MSAT informed.""",
     tags=["clumps", "capsules", "MBR"])

ddev("dz21", "LEI", "LVV", "clarification", "2025-07", "major", "man",
     "dP over 1.0 bar at 25 min; clarification held 40 min waiting for spare filters",
     """Differential pressure over the depth filter exceeded 1.0 bar after 25 minutes. No spare capsules
     were staged in the suite; clarification was on hold for 40 minutes while capsules were brought from
     the warehouse and flushed. Harvest (visible clumps, strings) stood at room temperature.""",
     """Harvest held at room temperature, spare filters fetched and flushed, clarification completed;
     hold time added to impact assessment.""",
     tags=["spares", "hold", "dP"], fp="preparation")

ddev("dz22", "LEI", "LVV", "clarification", "2025-07", "minor", "material",
     "Harvest with visible cell aggregates and slimy strings; filter train blocked",
     """Before clarification the operator noted visible cell aggregates and slimy strings in the 200 L
     harvest. The depth filter train blocked after 110 L. Pressure alarm at 1.0 bar. A new train was
     needed for the rest.""",
     """Second train installed; harvest gently mixed; process completed.""",
     tags=["aggregates", "slimy", "blocked"])

# --- 2025-08 ------------------------------------------------------------------------------------
ddev("dz23", "LEI", "LVV", "clarification", "2025-08", "major", "method",
     "Depth-filter blockage; harvest hold exceeded while replacing filters",
     """Depth filtration of the 200 L harvest stopped three times on high pressure drop. Total harvest hold
     at ambient reached 5 h 15 min against the 4 h limit in the process description. Operators saw large
     clumps and 'string' in the harvest bag again.""",
     """Filters changed three times; hold-time excursion assessed; batch on hold pending titer and
     stability data.""",
     tags=["hold time", "blockage", "repeat"], status="open", fp="stability")

ddev("dz24", "LEI", "LVV", "clarification", "2025-08", "minor", "machine",
     "Pressure up to 1.8 bar on clarification filters; leak at capsule vent",
     """Pressure on the clarification filters rose to 1.8 bar before the operator stopped the pump; a
     small leak appeared at the vent valve of the primary capsule. Harvest was full of clumps. Leak
     contained on the absorbent mat; no product contact with the operator.""",
     """Pump stopped, vent closed and taped, capsule replaced, spill cleaned per spill SOP.""",
     tags=["leak", "overpressure", "capsule"], status="open")

ddev("dz25", "CAM", "LVV", "clarification", "2025-08", "minor", "material",
     "Early fouling of depth filter during 50 L clarification",
     """The depth filter fouled early during clarification of the 50 L harvest: dP from 0.2 to 0.9 bar in
     15 min. Some clumps visible; fewer strings than usual for a fouling event. Pre-harvest nuclease was
     added on time. New Benzonase lot in use since July.""",
     """Spare capsule installed at 0.9 bar; sample of the new Benzonase lot sent for activity assay.""",
     tags=["fouling", "benzonase lot", "dP"], status="open")

ddev("dz26", "LEI", "LVV", "clarification", "2025-08", "major", "method",
     "Clarification stopped at high dP, filtrate turbidity 42 NTU",
     """Clarification was stopped at a dP of 1.3 bar. Filtrate turbidity 42 NTU (limit 20 NTU). Harvest
     showed clumps and DNA strings. Filtrate will be re-filtered; impact on downstream TFF fouling to be
     evaluated.""",
     """Filtrate held at 2-8 C, re-filtered next morning over a fresh secondary stage.""",
     tags=["turbidity", "NTU", "re-filtration"], status="open")

ddev("dz27", "LEI", "LVV", "clarification", "2025-08", "minor", "method",
     "Again blocked depth filter at 200 L: stringy DNA and cell clumps, 2 filter changes",
     """Again a blocked depth filter at 200 L. Stringy DNA and cell clumps in the harvest; two filter
     changes needed. Operators ask for the pre-harvest nuclease step used at the sending site to be
     evaluated.""",
     """Two filter changes; completed; MSAT and CAPA owner informed.""",
     tags=["repeat", "200 L", "DNA", "clumps"], status="open")

# --- fixes on the drift problem ------------------------------------------------------------------
fix("fz01", "CAM", "LVV", "clarification", "2024-06-10",
    "Pre-harvest Benzonase in the Mobius keeps Sartoclear dP flat",
    """Two early depth-filter blockages in Feb and Apr 2024. Both harvests had long DNA strings. We now add
    Benzonase 10 U/mL with 2 mM MgCl2 directly to the Mobius 60 min before harvest (agitation on, 37 C)
    and clarify within 2 h. Written into CAM working instruction WI-LVV-112; the batch record only says
    'harvest per WI'.""",
    "Depth filter dP climbs 0.3 bar in 10 min; stringy harvest; filter set exhausted at half volume.",
    """Released host-cell DNA from lysed cells forms strings and nets with debris; the filter blinds. The
    nuclease step after clarification comes too late to help the filter.""",
    """Benzonase 10 U/mL + 2 mM MgCl2 into the bioreactor 60 min pre-harvest; harvest to clarification
    start < 2 h; flush capsules 20 L/m2 before use.""",
    """Next three 50 L batches clarified on one filter set, max dP 0.45 bar, throughput > 100 L/m2,
    no strings seen.""",
    True, fixes=["dz01", "dz02"], tags=["benzonase", "pre-harvest", "WI-LVV-112"])

fix("fz02", "LEI", "LVV", "clarification", "2024-08-14",
    "Ramp the clarification pump and stage a spare filter set",
    """After the July blockage: ramp the pump from 1.0 to 1.5 L/min over 5 min instead of starting at
    full flow, and stage one flushed spare Sartoclear set at the skid for every run.""",
    "Depth filter blocked after 18 L; pump started at 2.5 L/min.",
    "Started at too high flow; clumps packed the primary stage.",
    "MBR amendment: pump ramp 1.0 -> 1.5 L/min; spare set staged and pre-flushed.",
    "Next two 50 L runs completed on one set (max dP 0.7 bar).",
    True, fixes=["dz03"], tags=["pump ramp", "spare filter"])

fix("fz03", "CAM", "LVV", "clarification", "2024-11-08",
    "Pre-harvest nuclease added to the batch record checklist",
    """The September fouling happened because the pre-harvest nuclease was skipped when the harvest moved
    forward. Added a hard check-box in the CAM batch record: 'pre-harvest Benzonase added at hh:mm,
    >= 45 min before harvest'. Harvest cannot start without the second-person check.""",
    "Filter fouled at 22 L/m2, slimy film, titer loss 35 %.",
    "Pre-harvest nuclease (WI-LVV-112 step 4) missed when harvest time changed.",
    "BR checklist line with verifier; shift handover note template updated.",
    "Four following CAM batches: one filter set each, dP max 0.5 bar.",
    True, fixes=["dz04"], tags=["checklist", "benzonase"])

fix("fz04", "LEI", "LVV", "clarification", "2025-03-28",
    "CAPA-2025-004: more depth-filter area plus dP trend check; blockages resolved",
    """CAPA-2025-004 action after the January and March blockages. Filter area increased by 40 % (two
    Sartoclear primary capsules in parallel per 50 L), capsules pre-flushed with 20 L/m2 buffer, and dP
    recorded every 5 min with a stop-and-call rule at +0.3 bar in 10 min. Verified on the next XDR-50
    batch: max dP 0.6 bar, one filter set, clear filtrate. Considered effective; CAPA closed.""",
    "Depth filtration blocked twice in one run, stringy clumped harvest, turbid filtrate.",
    """Filter area too small for the solids load at LEI; late harvest (56 h) increased lysis.""",
    """Increase primary filter area 40 %; pre-flush; dP trend sheet every 5 min; harvest within 46-50 h
    enforced by planning.""",
    "Next batch clarified on one set; max dP 0.6 bar; effectiveness check signed off by QA.",
    True, fixes=["dz06", "dz07"], tags=["CAPA-2025-004", "filter area", "dP trend"], fp="stability")

fix("fz05", "LEI", "LVV", "clarification", "2025-06",
    "200 L: second parallel Sartoclear train - did not hold",
    """For 200 L we added a second parallel primary train (total 6 x 1.1 m2). First batch after the change
    went through with one train change, the next one blocked both trains after 120 L. More area only moves
    the problem. Something about the 200 L harvest itself is different (more clumps, lower viability at
    harvest).""",
    "Repeated depth-filter blockage at 200 L, 3-7 capsules per run instead of 3.",
    "Suspected: filter sizing scaled linearly from 50 L; more lysis at 200 L.",
    "Second parallel train of primary capsules.",
    "Batch 1 after change: one extra change; batch 2: both trains blocked at 120 L.",
    False, fixes=["dz08", "dz09", "dz10", "dz11"], tags=["200 L", "parallel train"], fp="stability")

fix("fz06", "LEI", "LVV", "clarification", "2025-07",
    "Lower clarification flux at 200 L tried; dP still climbs",
    """Trial: clarification flux reduced from 150 to 90 LMH on the primary stage, to give the filter more
    time. dP still rose 0.3-0.4 bar per 10 min and clumps were visible, so throughput per m2 did not
    improve and the hold time got longer. Reverted to the MBR flux. Not a fix.""",
    "High dP within 20 min of clarification start on 200 L harvests.",
    "Assumed flux too high for the solids load.",
    "Flux reduced to 90 LMH on two batches.",
    "No gain in L/m2; hold time increased by 50 min. Reverted.",
    False, fixes=["dz12", "dz13", "dz15"], tags=["flux", "trial"], fp="stability")

fix("fz07", "CAM", "LVV", "clarification", "2025-07-10",
    "Night-shift harvest skipped pre-harvest nuclease; re-briefed and reordered",
    """The June blockage at CAM came from a harvest moved to night shift where the pre-harvest Benzonase
    step was not known to the crew. Added the step to the night-shift handover card and moved Benzonase
    thaw to the day-shift task list. Rescue in the bag (Benzonase 10 U/mL + 2 mM MgCl2, 45 min) worked:
    dP stable afterwards.""",
    "dP +0.4 bar in 5 min, clumps in line; pre-harvest nuclease missing.",
    "Shift change; the WI step was not on the handover card.",
    "Handover card updated; in-bag rescue treatment described in WI-LVV-112 rev 4.",
    "Next CAM 50 L harvest: one filter set, max dP 0.4 bar.",
    True, fixes=["dz14"], tags=["handover", "night shift", "benzonase"])


# ----------------------------------------------------------------------------------------------
# Baseline deviation problems (roughly flat over the period) with their fixes
# ----------------------------------------------------------------------------------------------
# A. CAR-T post-thaw viability low
dev("a1", "CAM", "CAR-T", "release_testing", "2024-02", "major", "method",
    "Post-thaw viability 64 % on retain vial (spec >= 70 %)",
    """Post-thaw viability of the retain vial was 64 % on the NC-200 (release specification >= 70 %).
    Pre-freeze viability was 91 % and the CRF curve was normal. A second retain vial, thawed by a
    different analyst, gave 67 %. The two analysts thawed differently: one left the vial in the 37 C bath
    until fully liquid (about 3 min 40 s).""",
    """Lot placed on QA hold; OOS investigation opened; third retain kept for a controlled re-thaw.""",
    tags=["post-thaw", "viability", "OOS"], capa="CAPA-2024-006")

dev("a2", "LEI", "CAR-T", "release_testing", "2024-05", "major", "man",
    "Viability after thaw 66 % (Vi-CELL BLU), vial warmed on bench before thaw",
    """Viability after thaw was 66 % on the Vi-CELL BLU, specification >= 70 %. The QC vial was carried
    from the LN2 storage to the QC lab on dry ice and then left about 15 minutes on the bench in the dry
    ice box with the lid open before thawing. The thaw method in the QC SOP does not state a maximum time
    between removal from LN2 and thaw.""",
    """Result reported as OOS; retain vial thawed directly at the LN2 freezer using a transport
    dewar; second result 78 %.""",
    tags=["thaw", "vial handling", "viability"], fp="context")

dev("a3", "CAM", "CAR-T", "cryopreservation", "2024-08", "major", "machine",
    "CRF run started with chamber not pre-cooled; post-thaw viability 69 %",
    """The CryoMed CRF run was started with the chamber at +14 C instead of the +4 C pre-cool required by
    SOP-CT-044. The first segment of the profile therefore took 9 min longer and the bags sat in 10 %
    DMSO at rising temperature. Post-thaw viability of the retain was 69 % (spec >= 70 %).""",
    """Run completed; printout annotated; lot held pending investigation.""",
    tags=["CRF", "pre-cool", "DMSO exposure"], fp="preparation")

dev("a4", "LEI", "CAR-T", "release_testing", "2024-11", "minor", "measurement",
    "Post-thaw viable cell recovery 58 % of pre-freeze; viability 71 %",
    """Post-thaw viability 71 % meets the specification but viable cell recovery was only 58 % of the
    pre-freeze count (internal alert limit 65 %). Pre-freeze count was done on the NC-200 during the dual
    run at CAM, post-thaw count on the Vi-CELL BLU at LEI. The two counters were never bridged for
    thawed CAR-T material.""",
    """Retain re-counted on both instruments side by side (NC-200 loaned from CAM); comparability study
    requested.""",
    tags=["cell recovery", "counter comparability"])

dev("a5", "CAM", "CAR-T", "cryopreservation", "2025-02", "major", "material",
    "Post-thaw viability 62 % after dry-shipper temperature excursion",
    """Lot was shipped to the clinical site in an LN2 vapour dry shipper. The logger showed the shipper
    warmed from -172 C to -118 C for 3 h 20 min during a customs hold (requirement <= -150 C). Retain
    vial (never shipped) 84 %; a vial shipped alongside in the same shipper read 62 % post-thaw.""",
    """Product quarantined at the clinical site; shipper returned for inspection; replacement
    manufacturing discussed with the clinic.""",
    tags=["shipper", "temperature excursion", "LN2 vapour"])

dev("a6", "LEI", "CAR-T", "formulation", "2025-04", "major", "mother_nature",
    "Formulation done at 25.8 C room temperature (HVAC fault); post-thaw viability 67 %",
    """HVAC fault in suite B2 raised the room temperature to 25.8 C (limit 18-24 C) during formulation.
    Cells in CryoStor CS10 were handled at this temperature for 24 min before loading the CRF. Post-thaw
    viability 67 %, below the 70 % specification.""",
    """Facilities called; formulation moved to cold packs; lot under investigation; room temperature
    trend attached.""",
    tags=["HVAC", "room temperature", "formulation"])

dev("a7", "LEI", "CAR-T", "release_testing", "2025-07", "major", "measurement",
    "Post-thaw viability 65 % on Vi-CELL vs 74 % on NC-200 from same vial",
    """Release post-thaw viability 65 % on the Vi-CELL BLU (OOS). The same thawed suspension measured on the
    NC-200 gave 74 %. The Vi-CELL trypan blue method counts DMSO-damaged but intact cells as dead more
    often than the dual-dye NC-200 method. The specification was set on NC-200 data at the sending
    site.""",
    """OOS investigation phase 1: no lab error; method comparability issue escalated to QA of both
    sites.""",
    tags=["viability method", "trypan blue", "OOS"], status="open")

fix("fa1", "CAM", "CAR-T", "release_testing", "2024-03",
    "Standard thaw: stop at the last ice crystal, not at fully liquid",
    """The two analysts thawed differently. We standardised: 37 C bath, swirl, pull the vial out when one
    small ice crystal is left (about 2 min 15 s to 2 min 30 s for a 1.5 mL vial), then add 9 mL warm
    medium dropwise over the first minute. Count within 10 min of thaw.""",
    "Post-thaw viability 64-67 % on retains with pre-freeze 91 %.",
    "Over-thawing: vial sat at 37 C in 10 % DMSO after melting; no timed dilution.",
    "SOP-QC-017 rev 5: timed thaw, ice-crystal endpoint, dropwise dilution, count within 10 min.",
    "Five retains of three lots re-thawed by three analysts: 79-86 %, spread 4 points.",
    True, fixes=["a1"], tags=["thaw", "SOP"])

fix("fa6", "LEI", "CAR-T", "release_testing", "2024-06",
    "QC thaw vial goes from LN2 to the bath in a transport dewar, max 2 min",
    """The vial warmed in an open dry-ice box while the bath was set up. Now the bath is ready first, the vial
    travels in a small LN2 transport dewar and goes into the 37 C bath within 2 minutes of leaving it. Also
    adopted the CAM timed thaw card (last ice crystal, dropwise dilution).""",
    "Post-thaw viability 66 % on a vial that sat in an open dry-ice box.",
    "Partial warming of the vial before the thaw; no maximum time in the QC SOP.",
    "LN2 transport dewar; bath ready before retrieval; 2-min rule; CAM thaw card.",
    "Retain re-tested 78 %; the next 8 LEI release thaws 76-85 %.",
    True, fixes=["a2"], tags=["thaw", "vial transport"])

fix("fa2", "CAM", "CAR-T", "cryopreservation", "2024-08",
    "CRF pre-cool interlock: do not load bags until chamber reads <= +4 C",
    """Added a pre-cool hold step to the CRF profile so the run waits until the chamber reads +4 C, and
    the operator checklist now has 'chamber temperature at loading' as a recorded value. The CRF also
    beeps now when the pre-cool is reached.""",
    "Profile started at +14 C; first segment 9 min long; post-thaw 69 %.",
    "Operator started run straight from idle; profile had no pre-cool hold.",
    "Pre-cool hold segment in profile CAR-T_v4; recorded value on checklist.",
    "Next 10 CAM lots loaded at +3 to +4 C; post-thaw 78-88 %.",
    True, fixes=["a3"], tags=["CRF profile", "pre-cool"])

fix("fa3", "CAM", "CAR-T", "cryopreservation", "2025-02",
    "Dry shipper: charge 48 h, weigh before pack-out, courier with LN2 top-up",
    """After the customs hold excursion: the shipper is now charged for 48 h and weighed at pack-out
    (reject below the charged-weight spec), the logger alarm is set at -150 C, and we only use the courier
    lane with LN2 re-icing at the hub.""",
    "Shipper warmed to -118 C during a customs hold; post-thaw 62 %.",
    "Hold time exceeded shipper hold capacity; weight not checked at pack-out.",
    "Pack-out checklist with weight; courier lane with re-icing; logger alarm -150 C.",
    "Eight shipments since, all <= -160 C on arrival.",
    True, fixes=["a5"], tags=["shipper", "cold chain"])

fix("fa4", "LEI", "CAR-T", "formulation", "2025-04",
    "Formulate on cold blocks when the room runs warm",
    """Facilities repaired the HVAC damper. Until then and as standing practice: formulation bags sit on
    2-8 C cold blocks from CryoStor addition to CRF loading, and the room temperature is read at the start
    of formulation. Above 23 C the supervisor is called.""",
    "Post-thaw viability 67 % after formulation at 25.8 C.",
    "HVAC damper fault; DMSO toxicity increases at higher temperature.",
    "Cold blocks during formulation; room-temperature check at start; damper replaced.",
    "Six lots since: room 20-22 C, post-thaw 76-83 %.",
    True, fixes=["a6"], tags=["cold block", "DMSO"])

fix("fa5", "LEI", "CAR-T", "release_testing", "2025-01",
    "NC-200 vs Vi-CELL BLU bridging for thawed CAR-T",
    """Side-by-side on 24 thawed samples: Vi-CELL BLU reads viability 3-9 points lower than NC-200 on
    freshly thawed CAR-T (mean 5.2), difference shrinks after 30 min in medium. Agreed interim: release on
    NC-200 at both sites until the specification is re-justified; Vi-CELL for in-process only.""",
    "Low post-thaw recovery and viability at LEI not seen at CAM for the same lots.",
    "Different counting principle (trypan blue vs acridine orange/DAPI).",
    "NC-200 purchased for LEI QC; release on NC-200; comparability report TR-0931.",
    "Recovery and viability now comparable between sites on dual lots (within 3 points).",
    True, fixes=["a4"], tags=["comparability", "cell counter"])

# B. CliniMACS Prodigy tubing set alarms
dev("b1", "CAM", "CAR-T", "tcell_selection", "2024-01", "minor", "machine",
    "Prodigy 'air detected' alarm during labelling, 12 min delay",
    """The CliniMACS Prodigy paused with an 'Air detected in line' alarm during the CD4/CD8 labelling phase
    of the TCT program (TS 520 tubing set). The operator cleared the alarm following the on-screen
    instructions; the program resumed after 12 minutes. The batch record does not allow undocumented
    interventions on the closed system.""",
    """Alarm cleared per Prodigy user manual; intervention documented retrospectively; cell count after
    selection within range.""",
    tags=["Prodigy", "air alarm", "TS 520"])

dev("b2", "LEI", "CAR-T", "tcell_selection", "2024-05", "minor", "man",
    "Pressure sensor alarm at column loading: bag line clamp not opened",
    """Pressure sensor alarm (P3 high) at the start of column loading on the Prodigy. Roller clamp on the
    buffer bag line was still closed. The tubing set installation checklist was signed as complete.
    Program paused 6 min.""",
    """Clamp opened, alarm acknowledged, program continued; checklist deviation recorded.""",
    tags=["clamp", "pressure alarm", "checklist"], fp="preparation")

dev("b3", "CAM", "CAR-T", "transduction", "2024-09", "minor", "machine",
    "Prodigy stopped with 'centrifuge imbalance' during culture wash",
    """During the culture wash before transduction the Prodigy stopped with a 'centrifuge imbalance' message.
    The tubing from the centrifugation chamber was found pinched under the chamber lid. Program restarted
    after re-seating; total delay 25 min.""",
    """Tubing re-seated, chamber lid checked, wash repeated from the last completed sub-step.""",
    tags=["centrifugation chamber", "pinched tubing"])

dev("b4", "LEI", "CAR-T", "activation", "2024-12", "major", "material",
    "TS 520 tubing set leak at sampling pouch weld",
    """At the day-0 activation sample a drop of liquid was seen at the weld seam of the sampling pouch of the
    TS 520 set. Closed-system integrity was compromised. Culture continued after the pouch line was
    sealed off; sterility samples added at day 3 and harvest.""",
    """Pouch line heat-sealed above the leak; extra sterility samples; supplier complaint filed with lot
    number of the set.""",
    tags=["leak", "tubing set", "sterility"], capa="CAPA-2024-044")

dev("b5", "CAM", "CAR-T", "tcell_selection", "2025-04", "minor", "method",
    "Repeated 'liquid sensor' alarms: buffer bag hung too low",
    """Four 'liquid sensor' alarms during priming and the first wash of the TCT program. The 3 L CliniMACS
    buffer bag had been hung on the lower hook so the line to the set ran uphill and trapped air. SOP text
    says 'hang buffer bag on the Prodigy' without stating the hook.""",
    """Bag moved to the top hook; air cleared; priming repeated; delay 18 min.""",
    tags=["liquid sensor", "priming", "buffer bag"])

dev("b6", "LEI", "CAR-T", "transduction", "2025-08", "minor", "machine",
    "Prodigy software froze during day-1 transduction step",
    """The Prodigy screen froze during the day-1 transduction step (vector addition completed, incubation
    running). Device was restarted per vendor hotline instructions; program resumed at the correct
    sub-step; culture temperature stayed at 37 C per log.""",
    """Vendor hotline called; restart; log file exported and attached; service ticket raised.""",
    tags=["software", "restart"], status="open")

fix("fb1", "CAM", "CAR-T", "tcell_selection", "2025-04",
    "Prodigy air and liquid-sensor alarms: hang high, tap the drip chambers",
    """Most of our air-type alarms on the TS 520 come from buffer bags hung low and from the drip chamber
    not being filled to the line at priming. Hang CliniMACS buffer on the top hook, squeeze the drip
    chamber to two-thirds full before starting, and check the line to the set runs downhill.""",
    "Air detected / liquid sensor alarms in priming and labelling.",
    "Air trapped in uphill line and under-filled drip chamber.",
    "Photo added to SOP-CT-020 showing bag position and drip chamber fill line.",
    "No air alarms in the next 14 CAM runs.",
    True, fixes=["b1", "b5"], tags=["priming", "photo SOP"])

fix("fb2", "LEI", "CAR-T", "tcell_selection", "2024-05",
    "Clamp check added as a read-back step before program start",
    """Checklist was ticked from memory. Now the second operator reads each clamp position aloud from the
    installation screen and the first operator touches the clamp. Takes 2 min.""",
    "P3 high alarm at column loading; bag clamp closed.",
    "Checklist signed without physical check.",
    "Read-back and touch check of all clamps before start.",
    "No clamp-related alarms in next 10 runs at LEI.",
    True, fixes=["b2"], tags=["read-back", "clamps"])

fix("fb3", "CAM", "CAR-T", "transduction", "2024-09",
    "Route chamber tubing through the guide before closing the lid",
    """Pinched tubing under the centrifugation chamber lid: run the tubing through the guide notch and
    close the lid with a flat hand, do not press the corner. The centrifuge imbalance message was the
    symptom, not an actual imbalance.""",
    "Centrifuge imbalance stop during culture wash.",
    "Tubing pinched under the chamber lid.",
    "Lid closing technique and guide notch added to training; photo in SOP.",
    "No repeat in the following three months.",
    True, fixes=["b3"], tags=["chamber lid"])

fix("fb4", "LEI", "CAR-T", "activation", "2025-01",
    "TS 520 lot with weak pouch welds quarantined; incoming visual check",
    """Supplier confirmed a weld issue on one TS 520 lot. Remaining sets of that lot quarantined and
    returned. We added an incoming check: flex each pouch weld and look for whitening before release of a
    set to the suite.""",
    "Leak at sampling pouch weld during activation.",
    "Supplier weld defect on one lot.",
    "Lot quarantine; incoming flex check of pouch welds.",
    "Three later lots inspected, no defects; no leaks since.",
    True, fixes=["b4"], tags=["supplier", "incoming inspection"])

fix("fb5", "LEI", "CAR-T", "transduction", "2025-08",
    "Prodigy freeze: firmware update scheduled, export logs after each run",
    """Vendor traced the freeze to a known firmware issue triggered when the sample pouch screen is opened
    during incubation. Workaround: do not open the sampling screen during a running incubation step.
    Firmware update booked with the service engineer.""",
    "Screen froze during day-1 transduction incubation.",
    "Known firmware bug (vendor service bulletin).",
    "Operator workaround; firmware update scheduled.",
    "Workaround used in two runs without freeze; firmware not yet installed.",
    False, fixes=["b6"], tags=["firmware", "workaround"], fp="stability")

# C. Transduction: low %CAR+ / high VCN
dev("c1", "CAM", "CAR-T", "release_testing", "2024-03", "major", "material",
    "%CAR+ 14 % (spec >= 20 %), vector aliquot thawed twice",
    """Release flow cytometry gave 14 % CAR+ among CD3+ cells (spec >= 20 %), VCN 0.9 copies/cell. The
    vector aliquot used (LV-23-041) had been thawed, partly used for a development run and refrozen, then
    thawed again for this lot. Vector handling SOP allows a single thaw.""",
    """Lot rejected for release; patient re-apheresis discussed with the clinic; vector inventory
    reviewed for other refrozen aliquots.""",
    tags=["%CAR+", "vector handling", "freeze-thaw"], capa="CAPA-2024-009")

dev("c2", "LEI", "CAR-T", "transduction", "2024-06", "major", "man",
    "MOI calculated from superseded CoA titer; actual MOI 2.4 instead of 5",
    """The vector volume was calculated with the infectious titer from revision 1 of the vector CoA; the
    current revision 2 gives a titer about half as high. Actual MOI was about 2.4 instead of 5. %CAR+ at
    release 17 %.""",
    """Lot disposition by QA; calculation sheet re-checked for the two other ongoing lots (correct).""",
    tags=["MOI", "CoA", "calculation"], fp="context")

dev("c3", "CAM", "CAR-T", "release_testing", "2024-10", "major", "material",
    "VCN 5.8 copies/cell exceeds spec <= 5",
    """Vector copy number 5.8 copies per transduced cell (spec <= 5.0); %CAR+ 61 %. The vector lot in use
    had an unusually high functional titer and the MOI was calculated correctly from the CoA. Patient
    T-cells were highly activated (CD25 92 % at day 1).""",
    """Lot on hold; medical assessment of risk requested; vector lot titer re-tested.""",
    tags=["VCN", "vector copy number", "high transduction"])

dev("c4", "LEI", "CAR-T", "transduction", "2025-01", "minor", "method",
    "Vector added on day 2 instead of day 1 after late activation",
    """Activation was started late in the evening of day 0 because the apheresis arrived late. Vector was
    added 40 h after activation instead of the 20-28 h window. %CAR+ at release 19 % (spec >= 20 %).""",
    """Lot assessed by QA; timing recorded; clinic informed of possible lower dose.""",
    tags=["timing", "activation", "%CAR+"], fp="context")

dev("c5", "CAM", "CAR-T", "release_testing", "2025-05", "major", "material",
    "%CAR+ 18 % from apheresis with 38 % monocytes",
    """Transduction efficiency 18 % CAR+ (spec >= 20 %). The apheresis product contained 38 % CD14+
    monocytes (typical 10-20 %). Activation was weak: cells did not cluster on day 1 and expansion was
    slow. CD14 depletion is not part of the current process.""",
    """Lot held; investigation of starting material; clinic informed.""",
    tags=["monocytes", "starting material", "activation"])

dev("c6", "LEI", "CAR-T", "transduction", "2025-08", "minor", "man",
    "Vector held 3.5 h at 2-8 C after thaw (limit 2 h)",
    """The vector vial was thawed for the transduction and then kept 3 h 30 min at 2-8 C before addition
    because the Prodigy run was delayed by a prior alarm. Limit after thaw is 2 h at 2-8 C.""",
    """Vector used (no replacement aliquot available that day); extra VCN and %CAR+ testing planned;
    result pending.""",
    tags=["vector hold", "post-thaw hold"], status="open")

fix("fc1", "CAM", "CAR-T", "transduction", "2024-04",
    "Single-use vector aliquots, labelled 'thawed' on first thaw",
    """Vector now aliquoted into single-use volumes for one patient lot. The vial cap gets a red 'T' dot
    at first thaw; any vial with a dot is discarded. Inventory reconciled weekly.""",
    "%CAR+ 14 % with a refrozen vector aliquot.",
    "Vector freeze-thaw loses functional titer; no visual marker.",
    "Single-use aliquots; red dot on thaw; weekly inventory check.",
    "All lots since with single-thaw vector; %CAR+ 28-52 %.",
    True, fixes=["c1"], tags=["vector", "aliquots"])

fix("fc2", "LEI", "CAR-T", "transduction", "2024-07",
    "MOI sheet pulls titer from the current CoA in LIMS",
    """Replaced the manual MOI sheet with a locked calculation template that reads the vector titer from the
    released CoA record in LIMS and shows the CoA revision. Second-person check of the vector volume
    stays.""",
    "MOI 2.4 instead of 5, %CAR+ 17 %.",
    "Superseded CoA used for manual calculation.",
    "Locked template linked to LIMS CoA; revision displayed.",
    "Template validated; used for all LEI lots since July 2024.",
    True, fixes=["c2"], tags=["MOI", "LIMS"])

fix("fc3", "CAM", "CAR-T", "transduction", "2024-11",
    "Cap MOI by vector-lot functional titer on T cells, not HEK titer",
    """High VCN came with a vector lot that transduced T cells better than its HEK293T titer predicted. We
    now do a small T-cell titration for each new vector lot and set the MOI to hit VCN 2-3 at %CAR+
    >= 30 %. MOI for the current lot lowered from 5 to 3.""",
    "VCN 5.8 with %CAR+ 61 %.",
    "HEK293T titer does not predict T-cell transduction for every lot.",
    "T-cell titration per vector lot; lot-specific MOI.",
    "Next 6 lots on lowered MOI: VCN 1.9-3.4, %CAR+ 34-55 %.",
    True, fixes=["c3"], tags=["VCN", "titration"])

fix("fc4", "CAM", "CAR-T", "activation", "2025-06",
    "High-monocyte apheresis: plastic adherence step before selection",
    """For apheresis with > 30 % CD14+ cells we add a 2 h plastic adherence step at 37 C before the Prodigy
    selection, as a deviation-controlled option (planned deviation). It removes about two-thirds of the
    monocytes. Also: keep activation on schedule even when the apheresis arrives late - better to start
    selection the next morning than activate at night.""",
    "Weak activation and %CAR+ < 20 % with monocyte-rich apheresis; late activation.",
    "Monocytes suppress CD3/CD28 activation; transduction window missed.",
    "Planned adherence step for CD14+ > 30 %; schedule rule for late arrivals.",
    "Two high-monocyte lots since: %CAR+ 27 % and 31 %.",
    True, fixes=["c5", "c4"], tags=["monocytes", "adherence", "schedule"])

# D. Mycoplasma sample mix-ups
dev("d1", "CAM", "CAR-T", "release_testing", "2024-04", "major", "man",
    "Mycoplasma qPCR samples of two lots labelled with each other's lot number",
    """At sample reconciliation QC found that the mycoplasma samples of two lots harvested on the same day
    carried each other's lot numbers. Labels were hand-written at the BSC. The SOP requires printed labels
    applied before sampling. Both results were negative.""",
    """Both results invalidated; retain samples of both lots re-tested with printed labels;
    release delayed 4 days.""",
    tags=["mycoplasma", "labels", "sample mix-up"], capa="CAPA-2024-014", lag=3, equipment=None)

dev("d1dup", "CAM", "CAR-T", "release_testing", "2024-04", "major", "man",
    "QC: myco samples swapped between two same-day lots",
    """QC logged a deviation for swapped mycoplasma samples between two lots harvested the same day;
    hand-written tube labels. Same event as the production deviation.""",
    """Results invalidated, re-test from retains.""",
    tags=["mycoplasma", "duplicate"], dup_of="d1", equipment=None)

dev("d2", "LEI", "CAR-T", "release_testing", "2024-10", "minor", "method",
    "Mycoplasma sample taken from final product bag instead of pre-harvest culture",
    """The mycoplasma sample was taken from the final formulated product bag. The batch record requires
    the sample from the cell suspension with supernatant before harvest (highest chance of detection,
    no DMSO). The LEI translation of the sampling plan listed the sample under 'final product'.""",
    """Pre-harvest retain of culture supernatant and cells used for the test instead; sampling plan
    corrected.""",
    tags=["mycoplasma", "sampling point", "sampling plan"], equipment=None)

dev("d2dup", "LEI", "CAR-T", "release_testing", "2024-10", "minor", "method",
    "Wrong sampling point mycoplasma (QC report)",
    """QC report of the same mycoplasma sampling point error: sample received from final product instead
    of pre-harvest culture.""",
    """See production deviation.""",
    tags=["mycoplasma", "duplicate"], dup_of="d2", equipment=None)

dev("d3", "CAM", "CAR-T", "release_testing", "2025-03", "minor", "method",
    "Mycoplasma sample sent as supernatant only, no cells",
    """The mycoplasma sample for the lot arrived at the contract lab as 10 mL clarified supernatant without
    the cell fraction. The method requires cells plus supernatant. The operator had spun the sample down
    'to make it easier to ship'.""",
    """Pre-harvest retain with cells sent; contract lab informed; result 6 days late.""",
    tags=["mycoplasma", "sample prep"], equipment=None)

dev("d4", "LEI", "CAR-T", "release_testing", "2025-06", "minor", "man",
    "Mycoplasma sample registered in LIMS under an LVV lot number",
    """Mycoplasma sample for a CAR-T lot was registered in LIMS under a lentiviral vector lot number with
    similar digits. Detected when the LVV lot showed two mycoplasma results.""",
    """LIMS entry corrected with audit-trail reason; both lots' sample chains verified.""",
    tags=["LIMS", "lot number", "mycoplasma"], equipment=None)

fix("fd1", "CAM", "CAR-T", "release_testing", "2024-05",
    "Pre-printed barcode labels and scan-at-sampling for release samples",
    """All release samples now get pre-printed barcode labels from the sample plan, applied before the
    sampling session, and each tube is scanned against the lot's BR page at the BSC. Hand-written labels
    not allowed in the sampling suite any more.""",
    "Myco samples of two same-day lots swapped.",
    "Hand-written labels at the BSC, two lots open at the same time.",
    "Pre-printed barcodes; scan at sampling; one lot per BSC session.",
    "No sample mix-ups at CAM since; label audit quarterly clean.",
    True, fixes=["d1"], tags=["barcode", "labels"])

fix("fd2", "LEI", "CAR-T", "release_testing", "2024-11",
    "Sampling plan re-translated; myco sample point spelled out with a picture",
    """The LEI sampling plan now has a sample-point picture for mycoplasma ('cells + supernatant, before
    harvest, no spin, no DMSO') and one line on why: the cells carry most of the mycoplasma.""",
    "Myco sample taken from the final product bag.",
    "Ambiguous translated sampling plan; reason for cells+supernatant not known to operators.",
    "Sampling plan with picture and rationale; short training.",
    "Sampling checks at LEI correct for 3 months.",
    True, fixes=["d2"], tags=["sampling plan", "training"])

fix("fd3", "CAM", "CAR-T", "release_testing", "2025-03",
    "Adopted the LEI mycoplasma sampling picture after a supernatant-only sample",
    """Our operator spun the myco sample down to make shipping easier. LEI had a picture card for the sample
    point since November; we copied it into our sampling plan and added 'do not centrifuge' in bold.""",
    "Mycoplasma sample sent as supernatant only.",
    "Rationale for cells + supernatant never explained in the CAM plan.",
    "LEI picture card adopted; 'do not centrifuge' added.",
    "Next 12 CAM myco samples accepted by the contract lab.",
    True, fixes=["d3"], tags=["sampling plan", "cross-site"])

fix("fd4", "LEI", "CAR-T", "release_testing", "2025-07",
    "LIMS sample registration by barcode scan only; CT/LV prefix check",
    """Lot numbers are no longer typed at sample registration. The sample barcode is scanned and LIMS rejects a
    CAR-T sample type against an LV lot prefix.""",
    "Myco sample registered under an LVV lot number.",
    "Manual typing of similar lot numbers.",
    "Scan-only registration; prefix/sample-type check in LIMS.",
    "Validated in LIMS change; no mis-registrations since go-live.",
    True, fixes=["d4"], tags=["LIMS", "barcode"])

# E. LVV low titer after transfection
dev("e1", "CAM", "LVV", "transfection", "2024-02", "major", "method",
    "Crude titer 4.1e6 TU/mL; PEI:DNA complexes held 42 min before addition",
    """Crude harvest infectious titer 4.1e6 TU/mL (typical 2-3e7 TU/mL at 50 L). The PEI:DNA complexes were
    formed and then held 42 minutes before addition because the bioreactor addition line was not connected
    (BR: add within 10-20 min of complexation). Operators noted a faint haze in the complex bag before
    addition.""",
    """Batch continued; downstream yield impact assessed; deviation raised at harvest when titer came
    back.""",
    tags=["titer", "complexation time", "PEI"], fp="preparation")

dev("e2", "LEI", "LVV", "transfection", "2024-05", "major", "man",
    "Transfection performed at viability 88 % (MBR >= 90 %)",
    """At the time of transfection the HEK293T culture viability was 88 % on the Vi-CELL BLU (MBR: >= 90 %)
    and the viable cell density 2.6e6 cells/mL. Operator proceeded because the plasmid/PEI complex was already prepared.
    Harvest titer 6e6 TU/mL.""",
    """Proceeded with transfection; QA informed after the fact; titer and p24 trended.""",
    tags=["viability at transfection", "titer"], fp="context")

dev("e3", "CAM", "LVV", "transfection", "2024-08", "major", "man",
    "Envelope plasmid added at twice the intended mass",
    """The VSV-G envelope plasmid (pMD2.G) was added at 2x the intended mass because the plasmid stock
    concentration from the new lot (1.0 mg/mL) was confused with the old stock (2.0 mg/mL). Total DNA per
    cell was therefore high and the PEI:DNA ratio fell to about 1.6:1. Titer 7.5e6 TU/mL; p24 normal;
    TU/pg p24 low.""",
    """Batch completed for engineering use only; plasmid stock labels reviewed.""",
    tags=["plasmid ratio", "VSV-G", "TU per p24"])

dev("e4", "LEI", "LVV", "transfection", "2024-11", "major", "material",
    "Transfection reagent stock prepared at pH 7.4 instead of 7.0; low titer",
    """The polyethylenimine working stock was adjusted to pH 7.4 instead of 7.0 (the MBR specifies pH 7.0 +/- 0.1). The
    complex looked clear rather than slightly opalescent. Harvest titer 5.2e6 TU/mL.""",
    """Stock discarded, new stock prepared; titer impact recorded; batch continued to downstream for
    process data.""",
    tags=["PEI stock", "pH", "titer"])

dev("e5", "CAM", "LVV", "transfection", "2025-02", "minor", "method",
    "50 L complexation done in one 5 L bag with poor mixing",
    """For the 50 L transfection the full complexation volume (5 L) was prepared in a single bag and mixed
    by inverting, instead of two 2.5 L bags on the rocker. The complex was visibly non-homogeneous (swirls).
    Titer 1.1e7 TU/mL, about half of trend.""",
    """Batch continued; mixing method documented; MSAT to define bag size.""",
    tags=["complexation", "mixing", "scale"])

dev("e6", "LEI", "LVV", "transfection", "2025-05", "major", "method",
    "First 200 L transfection: complex added over 25 min instead of < 5 min",
    """At the first XDR-200 run the plasmid/PEI complex (20 L) was added by peristaltic pump at the
    maximum rate, which took 25 minutes (MBR-LV-200 requires complete addition within 5 minutes).
    Harvest titer 9e6 TU/mL versus 2.2e7 at 50 L.""",
    """Completed addition; flagged to MSAT; addition method to be redesigned before next 200 L run.""",
    tags=["200 L", "addition time", "titer"], batch_hint="first200")

dev("e7", "CAM", "LVV", "transfection", "2025-08", "major", "method",
    "Low titer 7e6 TU/mL; VCD 3.1e6/mL at transfection, pH 6.85",
    """Culture over-grew because transfection was postponed one day for a plasmid release delay: VCD at
    transfection 3.1e6 cells/mL (BR 1.8-2.2e6), pH 6.85, lactate 2.6 g/L. Transfection proceeded under a
    QA-approved planned deviation; harvest titer 7e6 TU/mL.""",
    """Proceeded per planned deviation; titer trended; seed train schedule reviewed.""",
    tags=["VCD", "over-grown", "lactate"], planned=True, status="open", fp="context")

fix("fe1", "CAM", "LVV", "transfection", "2024-03",
    "Complexation timer starts only when the addition line is connected",
    """Complexes now only get mixed once the addition line is welded and the pump is primed. A kitchen timer
    hangs on the BSC: 15 min complex time, add between 10 and 20 min. If the complex looks hazy rather
    than faintly opalescent, it sat too long.""",
    "Low crude titer; complex held 42 min; faint haze.",
    "PEI:DNA complexes grow and lose activity with time.",
    "Order of operations changed; timer; visual haze cue in WI.",
    "Next 5 transfections added at 13-17 min; titer 1.8-3.1e7 TU/mL.",
    True, fixes=["e1"], tags=["complex time", "timer"])

fix("fe2", "LEI", "LVV", "transfection", "2024-06",
    "Count first, then make the complex",
    """Complex preparation now starts only after the pre-transfection count meets the MBR (viability and
    VCD). If it does not, stop and call: do not 'use up' the complex.""",
    "Transfected at 88 % viability because the complex was ready.",
    "Complex prepared before the count; sunk-cost decision.",
    "Sequence changed in MBR; hold point with QA sign-off if out of range.",
    "Since then all LEI transfections at >= 90 % or via planned deviation.",
    True, fixes=["e2"], tags=["hold point", "sequence"])

fix("fe3", "CAM", "LVV", "transfection", "2024-09",
    "Plasmid stock concentration printed in large font on every label",
    """Plasmid stock labels now show concentration in 14 pt bold and the mass-to-volume table is in the BR
    per plasmid lot. Second-person check of each plasmid volume.""",
    "VSV-G added at 2x; low TU/p24.",
    "Two stock concentrations in circulation; small-print labels.",
    "Label redesign; volume table per lot; second-person check.",
    "No plasmid errors since.",
    True, fixes=["e3"], tags=["labels", "plasmid"])

fix("fe4", "LEI", "LVV", "transfection", "2024-12",
    "PEI stock: pH to 7.0 with a calibrated probe, look for opalescence",
    """pH meter at the prep bench was out of calibration by 0.3 units. Calibrated, and added a visual check:
    a good complex at PEI:DNA 2:1 is faintly opalescent after 10-15 min; water-clear complex is suspect.""",
    "Clear complex, low titer.",
    "pH meter drift; stock at pH 7.4.",
    "Calibration; visual cue added; pH recorded with probe ID.",
    "Next 3 batches titer 1.9-2.4e7 TU/mL.",
    True, fixes=["e4"], tags=["pH meter", "opalescent"])

fix("fe5", "LEI", "LVV", "transfection", "2025-06",
    "200 L complex addition by pressure transfer from a 20 L bag",
    """Replaced the peristaltic pump addition at 200 L with pressure transfer (0.5 bar) from a 20 L bag
    through a 1/2 inch line. Addition now takes 3 min 40 s. Complexation split into two 10 L bags mixed on
    the rocker.""",
    "Addition 25 min, titer 9e6 TU/mL at 200 L.",
    "Pump capacity and line bore scaled from 50 L.",
    "Pressure transfer, wider line, two complex bags.",
    "Three 200 L runs: addition 3.5-4 min, titer 1.6-2.0e7 TU/mL.",
    True, fixes=["e6", "e5"], tags=["200 L", "addition", "scale-up"])

# F. TFF TMP excursions
dev("f1", "CAM", "LVV", "tff", "2024-03", "minor", "machine",
    "TMP rose to 1.6 bar (limit 1.2 bar) during diafiltration",
    """During diafiltration the transmembrane pressure rose to 1.6 bar (BR limit 1.2 bar) for about 6 min.
    The feed pump ran at 110 % of the set flow after its last calibration. Permeate flux was steady at
    45 LMH.""",
    """Feed flow reduced manually until TMP < 1.0 bar; diafiltration completed; pump sent for
    re-calibration.""",
    tags=["TMP", "diafiltration", "pump calibration"])

dev("f2", "LEI", "LVV", "tff", "2024-06", "minor", "man",
    "Transmembrane pressure 1.4 bar during concentration: retentate valve closed too far",
    """During the concentration phase the transmembrane pressure went to 1.4 bar for 4 min because the retentate valve was
    closed too far by the operator to speed up the concentration. MBR limit 1.2 bar.""",
    """Valve opened, TMP back to 0.9 bar; process continued.""",
    tags=["TMP", "retentate valve", "shear"])

dev("f3", "LEI", "LVV", "tff", "2024-09", "minor", "method",
    "Permeate flux fell from 45 to 18 LMH, TMP above limit: membrane not flushed",
    """Permeate flux dropped from 45 LMH to 18 LMH within 15 minutes of concentration and TMP went above
    1.2 bar. The hollow fibre module had not been flushed of storage solution (20 % ethanol) before use.""",
    """Process paused; module flushed in place with buffer 50 L/m2; continued at reduced flux.""",
    tags=["flux", "storage solution", "flush"], fp="preparation")

dev("f4", "CAM", "LVV", "tff", "2024-12", "minor", "machine",
    "TMP spike 1.9 bar when switching to diafiltration buffer: air in feed",
    """When switching the feed from retentate to diafiltration buffer, air entered the feed line and TMP
    spiked to 1.9 bar for under a minute. The KR2i pump sounded rough for a few seconds before the spike.""",
    """Pump stopped, air purged via the top port, restarted.""",
    tags=["air", "TMP spike", "buffer switch"])

dev("f5", "LEI", "LVV", "tff", "2025-04", "major", "measurement",
    "TMP pressure transducer offset: displayed 0.4 bar while actual > 1.2 bar",
    """Permeate pressure transducer had an offset of +0.8 bar after replacement. Displayed TMP was 0.4 bar
    while the reference gauge showed above 1.2 bar for the whole concentration. Vector recovery over TFF
    was 31 % (trend 55-65 %).""",
    """Transducer replaced and zeroed; reference gauge reading recorded; impact on recovery assessed.""",
    tags=["pressure transducer", "calibration", "recovery"])

dev("f6", "CAM", "LVV", "tff", "2025-07", "minor", "method",
    "Concentration factor 25x exceeded maximum 20x; TMP rose in last phase",
    """The retentate was concentrated to 25x instead of the maximum 20x. In the last phase TMP rose to
    1.3 bar and flux fell to 12 LMH. Over-concentration increases shear on the vector.""",
    """Retentate diluted back to 20x with formulation buffer; recovery assessed.""",
    tags=["concentration factor", "shear", "TMP"])

fix("ff1", "CAM", "LVV", "tff", "2024-04",
    "KR2i feed pump re-calibrated; flow checked with a cylinder before each run",
    """Feed pump was 10 % high after the annual calibration. Re-calibrated and added a 1-minute bucket test
    (graduated cylinder) at setup. Takes no time and catches it.""",
    "TMP high during diafiltration at set flow.",
    "Pump running 10 % above set point.",
    "Recalibration; bucket test at each setup.",
    "TMP 0.7-1.0 bar over the next six runs.",
    True, fixes=["f1"], tags=["pump", "bucket test"])

fix("ff2", "LEI", "LVV", "tff", "2024-10",
    "TFF setup: flush, water flux, then buffer; no valve 'tricks'",
    """Start-up checklist now: flush 50 L/m2 water, measure normalised water flux (accept >= 80 % of the
    new-module value), equilibrate in buffer. Retentate valve position is set by the recipe, not by hand
    during concentration.""",
    "Flux drop and TMP excursions during concentration.",
    "Module not flushed; valve adjusted by hand to go faster.",
    "Start-up checklist; recipe-controlled valve.",
    "Five runs at LEI with TMP <= 1.0 bar.",
    True, fixes=["f3", "f2"], tags=["water flux", "checklist"])

fix("ff3", "CAM", "LVV", "tff", "2025-01",
    "Clamp the buffer line full before switching feed",
    """Air at the buffer switch: prime the diafiltration buffer line to the tee and clamp it full before
    switching. If the pump starts to sound rough or 'slurpy', stop; air is coming.""",
    "TMP spike at switch to DF buffer.",
    "Empty buffer line drew air into the feed.",
    "Pre-prime buffer line to the tee; listen for pump sound change.",
    "No spikes in the next 4 runs.",
    True, fixes=["f4"], tags=["air", "priming"])

fix("ff4", "LEI", "LVV", "tff", "2025-04",
    "Zero transducers after replacement; compare to reference gauge at start",
    """Transducers are now zeroed open-to-air after every replacement and compared with the mechanical
    reference gauge at the start of each run. A difference > 0.1 bar stops the run.""",
    "Displayed TMP low while recovery collapsed.",
    "New transducer installed without zeroing.",
    "Zero on replacement; gauge comparison at start.",
    "Three runs with TMP agreement within 0.05 bar.",
    True, fixes=["f5"], tags=["transducer", "zeroing"])

# G. 0.2 um sterile filter losses
dev("g1", "CAM", "LVV", "sterile_filtration", "2024-04", "minor", "method",
    "Recovery across Sartopore 2 0.2 um only 41 %",
    """Infectious titer recovery across the final 0.2 um filter (Sartopore 2) was 41 % (typical 70-85 %).
    The filter had been wetted with WFI and not flushed with formulation buffer, so the first fraction was
    diluted and vector bound to the fresh membrane.""",
    """Result recorded; no re-processing; filter flush practice reviewed.""",
    tags=["0.2 um", "recovery", "flush"], fp="preparation")

dev("g2", "LEI", "LVV", "sterile_filtration", "2024-08", "major", "material",
    "Post-use integrity test failed (bubble point 2.9 bar vs min 3.2 bar)",
    """The post-use integrity test of the Sartopore 2 sterile filter failed: bubble point 2.9 bar against a
    minimum of 3.2 bar. Repeat after re-wetting 3.0 bar. Filtrate sterility assurance not demonstrated.""",
    """Filtrate re-filtered through a new 0.2 um filter that passed pre- and post-use integrity test;
    yield loss 18 %.""",
    tags=["integrity test", "bubble point", "re-filtration"], capa="CAPA-2024-029")

dev("g3", "LEI", "LVV", "sterile_filtration", "2025-01", "minor", "method",
    "Sterile filter plugged at 60 % of volume; total loss 55 %",
    """The 0.2 um filter plugged after about 60 % of the chromatography eluate had been filtered; a second
    filter was used. Total infectious titer loss across the step was 55 %. Eluate was slightly
    opalescent.""",
    """Second filter used; both integrity tests passed; yield loss recorded.""",
    tags=["plugging", "yield loss", "eluate"])

dev("g4", "CAM", "LVV", "sterile_filtration", "2025-03", "minor", "man",
    "Sterile filter wetted and flushed with WFI instead of formulation buffer",
    """The filter was flushed with WFI and the first 50 mL of filtrate (diluted with WFI in the housing)
    went into the bulk. Batch record requires a flush with formulation buffer and discarding the first
    30 mL.""",
    """Bulk volume and titer recalculated; osmolality checked (within range).""",
    tags=["WFI", "formulation buffer", "dilution"])

dev("g5", "LEI", "LVV", "sterile_filtration", "2025-06", "major", "method",
    "TU recovery after 0.2 um filtration 28 %",
    """Infectious titer recovery after 0.2 um filtration was 28 %. Filtration was done at 2.0 bar constant
    pressure instead of 1.0 bar, and the filter area (0.03 m2) was scaled for 50 L not 200 L volumes.""",
    """Yield recorded; MSAT informed; filter sizing for 200 L to be confirmed.""",
    tags=["recovery", "filter area", "pressure"])

fix("fg1", "CAM", "LVV", "sterile_filtration", "2024-05",
    "Flush the 0.2 um with formulation buffer, discard first 30 mL",
    """Flush the Sartopore 2 with 100 mL formulation buffer and discard the first 30 mL of product filtrate.
    Buffer flush saturates the membrane a bit and avoids diluting the bulk with WFI.""",
    "Low recovery and diluted bulk after final filtration.",
    "WFI wetting only; fresh membrane binds vector.",
    "Buffer flush + discard volume in BR; WFI not staged at the station.",
    "Recovery 72-81 % in the next five CAM batches.",
    True, fixes=["g1"], tags=["flush", "recovery"])

fix("fg4", "CAM", "LVV", "sterile_filtration", "2025-03",
    "WFI removed from the filtration station; buffer bag pre-welded to the filter",
    """The buffer-flush rule from last year was in the BR, but a WFI bag still hung at the station and was used
    by a new operator. WFI is now not staged there at all and the formulation buffer bag comes pre-welded to
    the filter assembly.""",
    "Filter flushed with WFI again; bulk diluted.",
    "WFI available at the station; rule known only to experienced operators.",
    "Remove WFI from station; pre-welded buffer flush assembly.",
    "Three batches with correct flush.",
    True, fixes=["g4"], tags=["flush", "error-proofing"])

fix("fg2", "LEI", "LVV", "sterile_filtration", "2024-09",
    "Integrity test: full wetting with buffer, longer drain, test at 20 C",
    """Failed bubble point was a wetting and temperature problem: the filter was tested straight from the
    cold room. Now wet 10 min at 20 C, drain fully and test at room temperature; the tester shows the
    temperature.""",
    "Post-use bubble point 2.9 bar (min 3.2).",
    "Incomplete wetting at low temperature.",
    "Wetting time and temperature specified; tester temperature recorded.",
    "Eight integrity tests passed first time.",
    True, fixes=["g2"], tags=["integrity test", "wetting"])

fix("fg3", "LEI", "LVV", "sterile_filtration", "2025-07",
    "Larger 0.2 um area and 0.45/0.2 prefilter for eluate; pressure max 1.0 bar",
    """Switched to Sartopore 2 with 0.45/0.2 um combination in the larger format and capped pressure at
    1.0 bar. Helped at 50 L volumes; at 200 L the eluate is more opalescent and we still lose 35-40 %.""",
    "Plugging and 28-55 % loss at final filtration.",
    "Filter area too small; pressure too high; opalescent eluate.",
    "Larger area, prefilter, 1.0 bar cap.",
    "Recovery 62 % at 50 L; 60-65 % at 200 L in two runs.",
    True, fixes=["g3", "g5"], tags=["prefilter", "area"])

# H. Label and documentation errors
dev("h1", "CAM", "CAR-T", "formulation", "2024-01", "minor", "method",
    "Product bag label expiry printed MM/DD/YYYY instead of DD-MMM-YYYY",
    """The final product bag label showed the expiry date as 03/02/2024 (MM/DD/YYYY) instead of the approved
    DD-MMM-YYYY format. The label template in the printer software had been reset after an update. The
    clinical site could read the date as 3 February or 2 March.""",
    """Labels reprinted and over-labelled under QA oversight before shipment.""",
    tags=["label", "date format", "printer template"], equipment=None)

dev("h2", "LEI", "CAR-T", "apheresis_receipt", "2024-04", "critical", "method",
    "Chain of identity: DIN on bag differs by one digit from shipping manifest",
    """At receipt the donation identification number (DIN) on the apheresis bag label differed by one digit
    from the DIN on the shipping manifest. The patient ID and name initials matched. Chain-of-identity SOP
    requires all identifiers to match before the material enters the suite.""",
    """Material quarantined at receipt; collection centre confirmed a typo on the manifest in writing;
    QA released to processing 3 h later.""",
    tags=["chain of identity", "DIN", "manifest"], capa="CAPA-2024-012", equipment=None)

dev("h3", "CAM", "CAR-T", "cryopreservation", "2024-07", "minor", "man",
    "CRF run printout not attached to the batch record",
    """The controlled-rate freezer profile printout was not attached to the executed batch record. The run
    file was retrieved from the CryoMed software and printed during BR review, 9 days after the run.""",
    """Run file printed, verified against the run time and attached with a late-entry note.""",
    tags=["CRF printout", "batch record", "late entry"], lag=9, equipment=None)

dev("h4", "LEI", "LVV", "fill_finish", "2024-10", "minor", "man",
    "Vials labelled with the wrong fill date",
    """During fill-finish 120 vials were labelled with the previous day's date as fill date. The label
    print run had been set up the day before and not updated.""",
    """Vials over-labelled under QA oversight; label reconciliation repeated.""",
    tags=["vial label", "fill date", "reconciliation"], fp="preparation", equipment=None)

dev("h5", "LEI", "CAR-T", "expansion", "2025-02", "major", "man",
    "Feed time entered in BR before it actually happened",
    """The day-5 G-Rex feed was recorded in the batch record as done at 09:10; the incubator door log and the
    BSC log show the feed happened at 10:35. Operator had pre-filled the time. This is a data-integrity
    (contemporaneous recording) breach.""",
    """Entry corrected with explanation; operator removed from GMP signing until retraining; other entries
    of the same operator reviewed.""",
    tags=["ALCOA", "data integrity", "pre-filled"], capa="CAPA-2025-011", equipment=None)

dev("h6", "CAM", "LVV", "harvest", "2025-05", "minor", "man",
    "Harvest start time not recorded contemporaneously",
    """The harvest start time in the batch record was entered at end of shift from memory; the Mobius
    controller log shows the agitation stop 25 minutes earlier than recorded.""",
    """Time corrected from the controller log with a late-entry note.""",
    tags=["contemporaneous", "harvest time"], equipment=None)

dev("h7", "LEI", "CAR-T", "release_testing", "2025-08", "major", "method",
    "Draft CoA showed %CAR+ result of previous lot",
    """The draft certificate of analysis for the lot showed 41 % CAR+, which was the result of the previous
    lot; the actual result was 33 %. Caught at QA review before release. The CoA is typed from the LIMS
    printout.""",
    """CoA corrected; all CoAs of the last 3 months re-checked against LIMS.""",
    tags=["CoA", "transcription", "%CAR+"], status="open", lag=1, equipment=None)

fix("fh1", "CAM", "CAR-T", "formulation", "2024-02",
    "Label templates locked and checked after every printer software update",
    """Label templates now sit in a locked folder; printer software updates go through change control and
    the first label after an update is compared to the approved master by QA.""",
    "Wrong date format on product label.",
    "Template reset by a software update.",
    "Locked templates; post-update check by QA.",
    "No label format errors in the next 6 months.",
    True, fixes=["h1"], tags=["labels", "change control"])

fix("fh5", "LEI", "LVV", "fill_finish", "2024-10",
    "Vial label print job set up on the fill day; first label checked against the BR",
    """Print jobs are set up on the morning of the fill, never the day before, and the first printed label is
    checked against the BR (lot, fill date, expiry) by the second operator before labelling starts.""",
    "120 vials labelled with the previous day's date.",
    "Print run prepared the day before.",
    "Same-day print setup; first-label check.",
    "Next five fills correct.",
    True, fixes=["h4"], tags=["labels", "first-label check"])

fix("fh2", "LEI", "CAR-T", "apheresis_receipt", "2024-05",
    "Receipt check reads every identifier aloud against manifest and portal",
    """Two-person receipt: one reads patient ID, DIN, collection date from the bag; the other checks the
    manifest and the scheduling portal. Any mismatch stops receipt and triggers the call tree to the
    collection centre.""",
    "DIN mismatch at receipt.",
    "Manifest typed by hand at the collection centre.",
    "Two-person read-aloud check; collection centres asked to print manifests from the portal.",
    "No mismatches reaching the suite since.",
    True, fixes=["h2"], tags=["COI", "receipt"])

fix("fh3", "CAM", "CAR-T", "cryopreservation", "2025-05",
    "Attach printouts at the step, not at the end; BR reviewer checks logs",
    """Printouts and controller-log times are now attached or copied at the step where they happen, and
    the in-process reviewer compares BR times with the equipment log before the next step.""",
    "Missing CRF printout; harvest time written from memory.",
    "End-of-shift paperwork habit.",
    "Step-level attachment; in-process review against equipment logs.",
    "Spot checks of 12 BRs clean.",
    True, fixes=["h3", "h6"], tags=["GDP", "review"])

fix("fh4", "LEI", "CAR-T", "expansion", "2025-03",
    "Data integrity retraining with real examples; door log spot checks",
    """Retraining on contemporaneous recording using our own anonymised cases. QA does monthly spot checks of
    BR times against incubator door logs.""",
    "Pre-filled feed time.",
    "Habit of filling planned times; time pressure on feed days.",
    "Retraining; monthly spot checks.",
    "Three months of spot checks without findings.",
    True, fixes=["h5"], tags=["ALCOA", "training"])

# I. Apheresis receipt
dev("i1", "CAM", "CAR-T", "apheresis_receipt", "2024-02", "major", "mother_nature",
    "Shipper logger showed 11.2 C for 40 min (range 2-8 C)",
    """The temperature logger in the apheresis shipper showed 11.2 C peak and > 8 C for 40 minutes during
    transport (requirement 2-8 C). The courier van waited on the apron in the sun. Apheresis product
    otherwise normal.""",
    """Material accepted under deviation after QA assessment (short excursion); cell count and
    viability at receipt 98 %.""",
    tags=["temperature excursion", "shipper", "logger"])

dev("i2", "LEI", "CAR-T", "apheresis_receipt", "2024-06", "major", "material",
    "Leukopak arrived 31 h after collection (limit 24 h)",
    """The leukapheresis product arrived 31 h after end of collection because of a missed flight connection
    (process limit: start of selection within 24 h + 4 h grace). Viability at receipt 94 %, some small
    clumps.""",
    """Processed under deviation after QA and medical approval; DNase added to the wash per deviation
    plan to handle clumps.""",
    tags=["transit time", "leukopak", "courier"])

dev("i3", "CAM", "CAR-T", "apheresis_receipt", "2024-11", "minor", "material",
    "Apheresis volume 95 mL vs 210 mL on manifest; visible clumps",
    """Received apheresis product volume was 95 mL against 210 mL on the manifest. The bag had visible
    clumps and strands. Collection centre confirmed a short collection because of access problems.""",
    """Processed with reduced TNC; selection input adjusted; clinic informed of dose risk.""",
    tags=["low volume", "clumps", "apheresis product"])

dev("i4", "LEI", "CAR-T", "apheresis_receipt", "2025-03", "major", "material",
    "Apheresis bag received with small leak at port; outer bag wet",
    """At receipt the outer bag was wet; a small leak at the sampling port of the apheresis bag. Approximately
    5 mL lost. Sterility of the starting material cannot be assumed.""",
    """Bag placed in a new sterile overwrap; sterility sample taken at receipt; processed after QA decision
    with additional sterility testing.""",
    tags=["leak", "starting material", "sterility"])

dev("i5", "CAM", "CAR-T", "apheresis_receipt", "2025-07", "minor", "man",
    "Temperature logger not started at collection centre",
    """The temperature logger in the shipper had not been started at pack-out; no temperature data for
    transport. Ice packs still cold at receipt; product temperature 6 C by probe.""",
    """Accepted after QA assessment with receipt temperature; collection centre contacted.""",
    tags=["logger", "collection centre", "cold chain"], equipment=None)

fix("fi1", "CAM", "CAR-T", "apheresis_receipt", "2025-07",
    "Collection-centre pack-out card: start logger, photo of display",
    """Each shipper now carries a laminated pack-out card: start the logger, photograph the display showing
    'REC', attach the photo to the portal entry. Couriers told not to leave shippers on the apron.""",
    "Temperature excursion in transit; logger not started.",
    "Pack-out steps at the collection centre not standardised.",
    "Pack-out card; photo proof; courier briefing.",
    "All collection centres acknowledged; next 20 shipments with complete logger data.",
    True, fixes=["i1", "i5"], tags=["pack-out", "logger"])

fix("fi2", "LEI", "CAR-T", "apheresis_receipt", "2024-07",
    "Courier lanes with one change max; late material gets a DNase wash",
    """Only courier lanes with at most one connection for Leiden. For material > 24 h old, a 30 min
    DNase I wash is pre-approved in the deviation plan because old apheresis clumps.""",
    "Late leukopak with clumps.",
    "Missed flight connection.",
    "Lane restriction; pre-approved DNase wash for late material.",
    "Median transit time 17 h since; one late arrival processed without clumping issues.",
    True, fixes=["i2"], tags=["courier", "DNase"])

# J. Expansion (G-Rex)
dev("j1", "CAM", "CAR-T", "expansion", "2024-03", "major", "machine",
    "Incubator CO2 dropped to 2.1 % overnight; G-Rex medium pH 7.6",
    """Incubator 3 CO2 fell to 2.1 % overnight (set point 5 %, alarm 4.5 %); the alarm reached the on-call
    phone but was not escalated. Two G-Rex 100M-CS flasks in day 4 of expansion; medium pH 7.6 in the
    morning sample, medium looked pink-purple.""",
    """Flasks moved to incubator 1; CO2 bottle changed; pH back to 7.2 after 3 h; growth monitored.""",
    tags=["incubator", "CO2", "pH"])

dev("j2", "LEI", "CAR-T", "expansion", "2024-07", "major", "man",
    "Day-7 G-Rex feed missed: lactate 2.9 g/L, glucose 0.4 g/L",
    """The day-7 medium addition to the G-Rex 100M-CS was missed because the feed plan was on the previous
    shift's whiteboard. At day 8 lactate was 2.9 g/L and glucose 0.4 g/L on the BioProfile FLEX2; medium
    bright yellow.""",
    """Feed done immediately; extra day-9 sample; harvest kept on day 9 after QA review of growth.""",
    tags=["feed", "lactate", "glucose"])

dev("j3", "CAM", "CAR-T", "expansion", "2024-10", "minor", "man",
    "G-Rex flask knocked during transfer; cell bed disturbed",
    """While moving a G-Rex 100M-CS from the BSC to the incubator the flask was knocked against the door
    frame and the cell bed was visibly disturbed (cloudy). Batch record requires no disturbance of the
    flask between feeds.""",
    """Flask left to settle; extra count at day 6; expansion continued.""",
    tags=["G-Rex", "handling", "cell bed"])

dev("j4", "LEI", "CAR-T", "expansion", "2025-01", "minor", "material",
    "Fold expansion day 9 only 11x; harvest delayed to day 11",
    """Fold expansion at day 9 was 11x (expected >= 30x). Cells small, few clusters seen. Harvest was moved to
    day 11 under planned deviation to reach dose.""",
    """Planned deviation approved; harvest on day 11; phenotype added.""",
    tags=["fold expansion", "slow growth", "harvest day"], planned=True)

dev("j5", "LEI", "CAR-T", "expansion", "2025-05", "major", "material",
    "IL-2 working stock prepared 10x too dilute",
    """IL-2 working stock was prepared at 10 IU/uL instead of 100 IU/uL (dilution step done twice). Cultures
    received 10 % of the intended IL-2 from day 0 to day 5. Slow growth noticed at day 5 (VCD 0.6e6/mL vs
    typical 1.5e6/mL).""",
    """Correct IL-2 added at day 5; stock discarded; other lots using the stock identified (one).""",
    tags=["IL-2", "dilution error", "growth"])

dev("j6", "CAM", "CAR-T", "expansion", "2025-08", "minor", "material",
    "New medium lot: medium yellow by day 5, pH 6.8",
    """After the change to a new TexMACS lot the cultures acidified faster: medium yellow and pH 6.8 at
    day 5 (normally orange-red, pH 7.0-7.1), lactate 2.4 g/L. Growth normal.""",
    """Extra feed given on day 5 per the feed decision tree; medium lot samples sent to supplier.""",
    tags=["medium lot", "pH", "yellow medium"], status="open")

fix("fj1", "CAM", "CAR-T", "expansion", "2024-04",
    "CO2 alarm escalation: on-call must acknowledge in 15 min or supervisor called",
    """Incubator CO2 alarms now escalate: if the on-call does not acknowledge in 15 min, the system calls
    the supervisor. Second CO2 bottle with auto-changeover installed on incubator 3.""",
    "Overnight CO2 drop, alkaline medium.",
    "Empty bottle; alarm not escalated.",
    "Auto-changeover; escalation chain.",
    "Two bottle-empty events since, both changed over automatically.",
    True, fixes=["j1"], tags=["incubator", "alarm escalation"])

fix("fj2", "LEI", "CAR-T", "expansion", "2024-08",
    "Feed plan on the flask label, not on the whiteboard",
    """The feed days and volumes are printed on the G-Rex flask label at seeding, and the electronic schedule
    sends the shift lead a morning list.""",
    "Missed feed; high lactate and low glucose.",
    "Feed plan only on the whiteboard.",
    "Feed plan on flask label; morning list.",
    "No missed feeds since.",
    True, fixes=["j2"], tags=["feed plan"])

fix("fj3", "LEI", "CAR-T", "expansion", "2025-06",
    "IL-2 stock made from single-use aliquots, no in-house dilution",
    """Bought IL-2 pre-diluted in single-use aliquots at working concentration. No dilution in the suite.""",
    "IL-2 10x too dilute.",
    "Two-step dilution in the suite; one step repeated.",
    "Pre-diluted aliquots.",
    "In use for 6 lots; growth on trend.",
    True, fixes=["j5"], tags=["IL-2", "aliquots"])

fix("fj4", "CAM", "CAR-T", "expansion", "2025-08",
    "Medium lot change: run a bridging flask before switching",
    """New TexMACS lots now get a bridging G-Rex run with a donor leukopak before use in GMP lots, looking at
    pH trend and lactate on days 3-7. Feed decision tree lets operators feed early when pH < 6.9.""",
    "Faster acidification after a medium lot change.",
    "Lot-to-lot variability in the medium.",
    "Bridging run; early-feed rule.",
    "Bridging run for the next lot started; not yet verified.",
    False, fixes=["j6"], tags=["medium", "bridging"])

# K. Harvest, wash, debead
dev("k1", "CAM", "CAR-T", "harvest_wash", "2024-05", "major", "machine",
    "LOVO 'spinner pressure high' alarm; procedure aborted at cycle 2",
    """The LOVO stopped with 'spinner pressure high' during wash cycle 2 and the procedure aborted. Cells
    were recovered manually from the kit into a transfer bag (allowed by the LOVO SOP recovery section),
    washed by centrifugation in the BSC. Recovery 71 %.""",
    """Manual recovery per SOP section 9; extra sterility sample; lot continued.""",
    tags=["LOVO", "spinner pressure", "abort"])

dev("k2", "LEI", "CAR-T", "harvest_wash", "2024-09", "minor", "man",
    "Sepax C-Pro cell recovery 61 %: wrong protocol selected",
    """Cell recovery after wash on the Sepax C-Pro was 61 % (expected >= 80 %). The CultureWash protocol
    with the high-volume setting was selected instead of the low-volume setting for < 1 L input.""",
    """Lot continued with lower cell number; dose met; protocol choice added to BR as a recorded value.""",
    tags=["Sepax", "protocol", "recovery"])

dev("k3", "LEI", "CAR-T", "harvest_wash", "2025-02", "major", "method",
    "Incomplete debeading: 180 residual beads per 3e6 cells (limit <= 100)",
    """Residual bead count after debeading was 180 beads per 3e6 cells (release limit <= 100). The magnet
    step was done once for 5 min; CAM practice is two passes. The LEI MBR says 'debead per SOP'.""",
    """Second magnet pass done; count 40 beads per 3e6 cells; deviation documented.""",
    tags=["debeading", "residual beads", "magnet"])

dev("k4", "CAM", "CAR-T", "harvest_wash", "2025-06", "minor", "material",
    "LOVO filter membrane clogged with clumps; cells held 40 min at room temperature",
    """The LOVO spinning membrane clogged during the first pass because the harvest had many stringy clumps
    (day-10 culture, high density). Procedure paused 40 min while clumps were removed through a 200 um
    blood filter. Cells at room temperature during the pause.""",
    """Harvest filtered through 200 um filter; LOVO restarted; recovery 78 %.""",
    tags=["clumps", "LOVO", "filter"], fp="context")

fix("fk1", "CAM", "CAR-T", "harvest_wash", "2025-06",
    "Put every harvest through a 200 um filter before the LOVO",
    """Clumpy harvests clog the LOVO membrane and trip the spinner pressure alarm. The 200 um in-line blood
    filter between the harvest bag and the LOVO kit is now standard, not only when clumps are seen.""",
    "Spinner pressure high, membrane clogs, aborted cycles.",
    "Cell clumps from dense day-9/10 cultures.",
    "In-line 200 um filter always; kit change documented.",
    "12 harvests without LOVO alarms.",
    True, fixes=["k1", "k4"], tags=["LOVO", "clump filter"])

fix("fk2", "LEI", "CAR-T", "harvest_wash", "2024-10",
    "Sepax protocol picked by input volume, recorded in BR",
    """Input volume decides the Sepax CultureWash setting; the operator records the setting and the volume,
    the verifier checks the pair.""",
    "Low recovery after Sepax wash.",
    "Wrong protocol setting for input volume.",
    "Recorded value + verification in BR.",
    "Recovery 82-91 % in later lots.",
    True, fixes=["k2"], tags=["Sepax", "verification"])

fix("fk3", "LEI", "CAR-T", "harvest_wash", "2025-02",
    "Two magnet passes for debeading, as done at CAM",
    """Adopted the CAM practice: two passes of 5 min on the magnet, gentle rocking, with a bead count check
    before formulation.""",
    "Residual beads above limit.",
    "Transfer package said 'per SOP'; the second pass was tacit CAM practice.",
    "MBR updated with two passes.",
    "Bead counts 20-60 per 3e6 cells since.",
    True, fixes=["k3"], tags=["debeading", "transfer gap"])

# L. Formulation
dev("l1", "CAM", "CAR-T", "formulation", "2024-06", "major", "method",
    "DMSO exposure before CRF start 47 min (limit 30 min)",
    """Time from addition of CryoStor CS10 to start of the freezing profile was 47 minutes (limit 30 min).
    Three bags were filled sequentially and the CRF was not ready until the third bag was sealed.""",
    """Run started; exposure time recorded; lot assessed against post-thaw viability (78 %).""",
    tags=["DMSO exposure", "timing", "CryoStor"], fp="preparation")

dev("l2", "LEI", "CAR-T", "formulation", "2024-09", "minor", "measurement",
    "Final formulation volume 72 mL instead of 70 +/- 1 mL",
    """Final product volume was 72 mL (target 70 +/- 1 mL). The volume was set by weight using a density of
    1.00 g/mL; CryoStor CS10 has a higher density. Dose per mL 3 % lower.""",
    """Volume and dose recalculated; within dose specification; label correct.""",
    tags=["volume", "density", "dose"])

dev("l3", "LEI", "CAR-T", "formulation", "2025-03", "major", "man",
    "Cell dose calculated from total cells, not viable cells",
    """The dose calculation used the total cell concentration instead of the viable cell concentration.
    The product bag contains about 8 % fewer viable CAR+ cells than the label dose. Found at QA review.""",
    """Label dose recalculated; still within the dose range; clinic informed.""",
    tags=["dose calculation", "viable cells"], equipment=None)

dev("l4", "LEI", "CAR-T", "formulation", "2025-07", "minor", "method",
    "Air not expelled from cryobag before sealing",
    """About 15 mL of air was left in one cryobag. The SOP requires expelling air before heat sealing; air
    pockets cause uneven freezing and bag stress at LN2 temperature.""",
    """Bag re-opened in the BSC within the DMSO time limit, air expelled and resealed.""",
    tags=["cryobag", "air", "sealing"])

fix("fl1", "CAM", "CAR-T", "formulation", "2024-07",
    "Formulate bags in parallel and pre-cool CRF before adding DMSO",
    """Start the CRF pre-cool before adding CryoStor, fill bags in parallel with two operators, and start a
    30 min countdown at the first DMSO contact. If the CRF is not at +4 C, do not add DMSO.""",
    "DMSO exposure 47 min.",
    "Sequential bag filling; CRF not ready.",
    "Parallel filling; countdown; CRF ready before DMSO.",
    "Exposure 14-22 min in next 15 lots.",
    True, fixes=["l1"], tags=["DMSO", "countdown"])

fix("fl2", "LEI", "CAR-T", "formulation", "2024-10",
    "Use 1.06 g/mL density for CryoStor volumes by weight",
    """Weights for CryoStor CS10 now use the supplier density (about 1.06 g/mL at 20 C); the calculation
    sheet shows the density used.""",
    "Formulation volume 2 mL high.",
    "Water density assumed.",
    "Density correction in the sheet.",
    "Volumes 69.6-70.4 mL since.",
    True, fixes=["l2"], tags=["density", "weight"])

fix("fl3", "LEI", "CAR-T", "formulation", "2025-04",
    "Dose sheet takes only 'viable cells/mL' with unit in the field name",
    """Dose calculation template now has one input: 'viable cells/mL (NC-200)'; total count is not shown on
    the sheet.""",
    "Dose from total cells.",
    "Two numbers on the counter printout; sheet did not say which.",
    "Template change.",
    "Checked in 10 lots.",
    True, fixes=["l3"], tags=["dose", "template"])

# M. Controlled-rate freezer profile
dev("m1", "LEI", "CAR-T", "cryopreservation", "2024-07", "major", "machine",
    "Liquid nitrogen supply ran low mid-run; cooling rate -0.4 C/min between -20 and -40 C",
    """The liquid nitrogen dewar feeding the controlled-rate freezer ran low during the run; cooling rate fell to about -0.4 C/min
    between -20 C and -40 C (profile -1 C/min). The dewar level was not checked before the run.""",
    """Dewar changed during the run; profile completed; lot held pending post-thaw results (73 %).""",
    tags=["LN2 supply", "cooling rate", "CRF"], fp="preparation")

dev("m2", "CAM", "CAR-T", "cryopreservation", "2024-12", "minor", "machine",
    "No latent-heat compensation; sample temperature rose to -2 C after nucleation",
    """The CRF profile did not show the expected chamber drop at nucleation; the sample probe rose from
    -8 C to -2 C after ice formation. The solenoid valve was slow to open (service found a worn valve).""",
    """Run completed; service called; post-thaw viability 76 %.""",
    tags=["latent heat", "nucleation", "solenoid"])

dev("m3", "LEI", "CAR-T", "cryopreservation", "2025-05", "minor", "man",
    "CRF profile CAR-T_v3 used instead of CAR-T_v4",
    """The freezing run used profile CAR-T_v3 (without the pre-cool hold) instead of the current v4. The
    chamber was already at +4 C, so the curve was equivalent.""",
    """Run accepted after comparison of curves; old profile deleted from the CRF.""",
    tags=["profile version", "CRF"])

fix("fm1", "LEI", "CAR-T", "cryopreservation", "2024-07",
    "Check and log the LN2 dewar level before each CRF run",
    """LN2 dewar level is read and logged before each run; below 50 % the dewar is swapped first. A spare
    full dewar stays next to the CRF on freeze days.""",
    "Cooling rate fell mid-run.",
    "Dewar nearly empty at run start.",
    "Level check; spare dewar.",
    "No LN2-related curve deviations since.",
    True, fixes=["m1"], tags=["LN2", "checklist"])

fix("fm2", "CAM", "CAR-T", "cryopreservation", "2025-01",
    "CRF solenoid replaced; nucleation spike checked on every curve",
    """Replaced the LN2 solenoid valve. Curve review now explicitly looks at the sample temperature after
    nucleation: a rise above -4 C is a deviation trigger.""",
    "Sample temperature rise after nucleation.",
    "Worn solenoid valve.",
    "Valve replaced; curve review criterion.",
    "20 curves since with nucleation rise < 2 C.",
    True, fixes=["m2"], tags=["CRF", "maintenance"])

fix("fm3", "LEI", "CAR-T", "cryopreservation", "2025-05",
    "Only the current CRF profile on the device",
    """Old profiles removed from the CRF; profiles are installed only via change control, with the version in
    the profile name and the BR.""",
    "Old profile used.",
    "Old versions still selectable.",
    "Old profiles deleted; change-controlled install.",
    "Audit of the CRF profile list clean.",
    True, fixes=["m3"], tags=["profile", "change control"])

# N. Chromatography
dev("n1", "CAM", "LVV", "chromatography", "2024-05", "minor", "method",
    "Mustang Q backpressure 0.45 MPa (max 0.4 MPa) during load",
    """During loading of the TFF retentate on the Mustang Q capsule, system backpressure reached 0.45 MPa
    (limit 0.4 MPa). Load flow was 10 MV/min as per BR. Retentate was slightly turbid.""",
    """Flow reduced to 6 MV/min; load completed; recovery 48 %.""",
    tags=["backpressure", "Mustang Q", "load"])

dev("n2", "LEI", "LVV", "chromatography", "2024-08", "major", "material",
    "Elution buffer prepared at 2.0 M NaCl instead of 1.2 M; recovery 22 %",
    """The high-salt elution buffer was prepared at 2.0 M NaCl instead of 1.2 M (weighing error). Elution
    peak was split and infectious recovery over the step was 22 %; the vector is labile at high salt.""",
    """Eluate diluted immediately; buffer batch discarded; titer loss recorded.""",
    tags=["elution buffer", "NaCl", "recovery"])

dev("n3", "LEI", "LVV", "chromatography", "2025-02", "major", "method",
    "Eluate held 3 h at room temperature before dilution (BR: within 15 min)",
    """The high-salt eluate was held 3 hours at room temperature before dilution because the dilution buffer
    had not been released. BR requires dilution to < 0.3 M NaCl within 15 minutes. Infectious titer loss
    about 60 % versus the p24 recovery.""",
    """Eluate diluted when buffer released; deviation raised; loss quantified.""",
    tags=["eluate hold", "salt", "vector stability"], fp="preparation")

dev("n4", "CAM", "LVV", "chromatography", "2025-06", "minor", "measurement",
    "UV monitor drift; fraction collection triggered late",
    """The UV 280 nm signal on the ÄKTA ready drifted upward during the salt step, so the peak collection
    start was triggered 1.5 MV late. Part of the vector peak went to waste.""",
    """Manual collection for the rest of the peak; UV flow cell cleaned; recovery 41 %.""",
    tags=["UV drift", "peak collection"])

fix("fn1", "CAM", "LVV", "chromatography", "2024-06",
    "Mustang Q load at 6 MV/min when retentate is turbid",
    """If the TFF retentate is not clear (hold up to the lamp: any haze), load the Mustang Q at 6 MV/min
    and watch pressure. Pre-filter with 0.8/0.45 if haze is obvious.""",
    "Backpressure above 0.4 MPa on load.",
    "Turbid retentate and fixed high flow.",
    "Reduced load flow; optional pre-filter.",
    "Pressure < 0.3 MPa on next runs.",
    True, fixes=["n1"], tags=["load flow", "turbidity"])

fix("fn2", "LEI", "LVV", "chromatography", "2024-09",
    "Conductivity check on every chromatography buffer before use",
    """Buffers are released on conductivity (elution buffer 1.2 M NaCl: about 95-105 mS/cm) measured at the
    point of use, not only on the prep record.""",
    "Split peak, 22 % recovery.",
    "Weighing error in buffer prep.",
    "Point-of-use conductivity check.",
    "All buffers checked since; no errors.",
    True, fixes=["n2"], tags=["conductivity", "buffer"])

fix("fn3", "LEI", "LVV", "chromatography", "2025-02",
    "Dilution buffer pre-connected to the eluate bag before elution",
    """Dilution buffer must be released and welded onto the eluate collection bag before elution starts;
    the eluate is collected directly into buffer (1:4).""",
    "Eluate hold 3 h at high salt.",
    "Dilution buffer not ready at elution.",
    "Pre-connected dilution; collect into buffer.",
    "Titer recovery 52-58 % across the step since.",
    True, fixes=["n3"], tags=["eluate", "dilution"])

# O. Nuclease treatment
dev("o1", "CAM", "LVV", "nuclease_treatment", "2024-03", "minor", "method",
    "Benzonase incubation 4 h instead of 1 h +/- 15 min",
    """The clarified harvest was incubated with Benzonase for 4 h instead of 1 h +/- 15 min because the
    TFF skid was occupied by a cleaning run. Temperature 20-22 C.""",
    """TFF started when available; extended hold assessed for titer loss (about 15 %).""",
    tags=["Benzonase", "incubation time", "scheduling"], fp="preparation")

dev("o2", "LEI", "LVV", "nuclease_treatment", "2024-11", "major", "method",
    "MgCl2 omitted in nuclease step; residual host-cell DNA high",
    """MgCl2 (2 mM) was not added with the Benzonase; the MBR line for MgCl2 was on a separate page.
    Residual host-cell DNA in the drug substance 48 ng/dose (limit 10 ng/dose).""",
    """DS lot rejected for clinical use; used for stability studies; MBR reformatted.""",
    tags=["MgCl2", "residual DNA", "Benzonase"], capa="CAPA-2024-041")

dev("o3", "CAM", "LVV", "nuclease_treatment", "2025-07", "minor", "material",
    "Benzonase used 3 days past its expiry",
    """A Benzonase vial three days past its expiry date was used. Stores had not removed it from the
    freezer. Residual DNA within limits.""",
    """Expired stock removed; residual DNA result reviewed; no impact.""",
    tags=["expiry", "reagent"])

fix("fo1", "LEI", "LVV", "nuclease_treatment", "2024-12",
    "Benzonase and MgCl2 on one MBR line, added from one pre-mixed bag",
    """Benzonase and MgCl2 are now pre-mixed in one addition bag and written on one MBR line with one
    timer. A 1 h timer is started at addition; TFF slot is booked with the harvest.""",
    "Missing MgCl2; long incubation.",
    "Separate pages in MBR; TFF availability not booked.",
    "Pre-mixed addition; single line; booked TFF slot.",
    "Residual DNA < 2 ng/dose in the next batches.",
    True, fixes=["o2", "o1"], tags=["premix", "MBR format"])

# P. HEK293T cell expansion
dev("p1", "CAM", "LVV", "cell_expansion", "2024-01", "minor", "method",
    "Seed train passaged at 6.2e6 cells/mL (max 4e6), viability 86 %",
    """HEK293T seed shake flask was passaged at 6.2e6 cells/mL (maximum 4.0e6) and viability 86 % because the
    passage was pushed a day for a holiday. Cells clumped visibly.""",
    """Passaged at lower seeding; an extra passage before the bioreactor to recover viability > 95 %.""",
    tags=["seed train", "over-grown", "clumping"], fp="context")

dev("p2", "LEI", "LVV", "cell_expansion", "2024-07", "minor", "machine",
    "Shaker incubator CO2 at 8 % for 3 h",
    """After a CO2 sensor calibration the shaker incubator controller overshot to 8 % CO2 (set point 5 %)
    and the seed flasks were exposed for about 3 h. Seed flask pH 6.9 at the next sample.""",
    """Set point corrected; cultures monitored; viability 96 % next day.""",
    tags=["CO2", "shaker incubator"])

dev("p3", "LEI", "LVV", "cell_expansion", "2024-12", "major", "machine",
    "XDR-50 DO probe failed; DO at 5 % for about 2 h",
    """The DO probe of the XDR-50 failed (reading frozen at 40 %) and the controller stopped sparging oxygen;
    the backup probe showed DO 5 % for about 2 h before the alarm on the backup probe was noticed.""",
    """Switched control to the backup probe; DO back to 40 % in 10 min; viability 93 % next day.""",
    tags=["DO", "probe failure", "XDR-50"])

dev("p4", "CAM", "LVV", "cell_expansion", "2025-04", "major", "material",
    "Working cell bank vial expanded beyond passage limit (p28 vs p25)",
    """The seed train reached passage 28 at bioreactor inoculation (limit p25) because two extra passages
    were added while waiting for a bioreactor slot.""",
    """Batch continued as non-GMP engineering run; new WCB vial thawed for the next batch.""",
    tags=["passage number", "WCB"])

fix("fp1", "CAM", "LVV", "cell_expansion", "2024-02",
    "Seed train calendar built backwards from the bioreactor date",
    """Seed train schedule is planned backwards from the bioreactor date including holidays, with a split
    option (seed at 0.3e6/mL for a 4-day passage) when a day is lost.""",
    "Over-grown seed flasks; passage limit exceeded.",
    "Passages shifted around holidays/slots.",
    "Backward planning with split options; passage count on flask labels.",
    "No over-grown passages since.",
    True, fixes=["p1"], tags=["seed train", "planning"])

fix("fp3", "CAM", "LVV", "cell_expansion", "2025-04",
    "Passage count checked when the bioreactor slot is booked; thaw a new vial instead",
    """When a bioreactor slot moves, planning checks the passage count the seed train will have at inoculation.
    If it would pass p25, a new WCB vial is thawed on a new backward plan; no extra passages.""",
    "Seed train at p28 at inoculation.",
    "Extra passages added while waiting for a slot.",
    "Passage check at slot booking; new-vial rule.",
    "Next two batches inoculated at p18 and p19.",
    True, fixes=["p4"], tags=["passage", "planning"])

fix("fp2", "LEI", "LVV", "cell_expansion", "2025-01",
    "DO control on two probes with a deviation alarm between them",
    """The XDR controller now alarms when the two DO probes differ by more than 10 points; control switches
    to the probe that moves. A frozen reading looks good on the screen - the difference alarm catches it.""",
    "DO probe frozen; real DO 5 %.",
    "Single-probe control, no difference alarm.",
    "Difference alarm; probe check at each shift.",
    "One probe drift caught since within 5 min.",
    True, fixes=["p3"], tags=["DO", "alarm"])

# Q. LVV harvest
dev("q1", "LEI", "LVV", "harvest", "2024-06", "minor", "method",
    "Harvest performed at 41 h post-transfection instead of 46-50 h",
    """Harvest was started at 41 h post-transfection to fit the day shift. The MBR window is 46-50 h.
    Titer 1.3e7 TU/mL (about 60 % of trend).""",
    """Harvest continued; time recorded; titer trend flagged.""",
    tags=["harvest time", "window"], fp="context")

dev("q2", "CAM", "LVV", "harvest", "2025-04", "minor", "man",
    "Harvest bag clamp left open; about 1.2 L spilled in the BSC",
    """When disconnecting the harvest bag, a clamp on the side line was open and about 1.2 L of harvest spilled
    into the BSC. Spill handled per biosafety SOP.""",
    """BSC decontaminated; volume loss recorded; batch continued.""",
    tags=["spill", "clamp", "biosafety"])

fix("fq1", "LEI", "LVV", "harvest", "2024-06",
    "Transfection time chosen so the 46-50 h harvest falls in day shift",
    """Plan transfection in the late morning so the harvest window falls on a day shift two days later. Do not
    pull the harvest early to suit the shift.""",
    "Early harvest, low titer.",
    "Transfection time fixed without looking at harvest shift.",
    "Planning rule.",
    "Next harvests inside 46-50 h.",
    True, fixes=["q1"], tags=["planning", "harvest window"])

# R. Fill and finish
dev("r1", "CAM", "LVV", "fill_finish", "2024-09", "minor", "method",
    "6 of 40 vials below 1.0 mL target (0.93 mL)",
    """Fill-volume check by weight: 6 of 40 vials were 0.93-0.96 mL against 1.0 mL +/- 0.03 mL. Pipette
    aspiration was done quickly with a viscous formulation.""",
    """Under-filled vials rejected; remaining vials checked 100 % by weight.""",
    tags=["fill volume", "pipette"])

dev("r2", "LEI", "LVV", "fill_finish", "2025-01", "major", "material",
    "Visible particles in 3 vials at visual inspection",
    """Visual inspection found particles (glass-like) in 3 of 180 vials. Vial lot inspection showed chips at the
    neck of some empty vials.""",
    """Three vials rejected; 100 % re-inspection; vial lot quarantined; supplier complaint.""",
    tags=["particles", "visual inspection", "vial lot"])

dev("r3", "CAM", "LVV", "fill_finish", "2025-06", "minor", "machine",
    "Filled vials at -60 C for 5 h: freezer door not latched",
    """The -80 C freezer holding the filled vials warmed to -60 C for about 5 h (limit <= -65 C). The door
    was not fully latched after loading.""",
    """Door latched; vials moved to backup freezer; stability data reviewed.""",
    tags=["freezer", "temperature excursion"])

fix("fr1", "CAM", "LVV", "fill_finish", "2024-09",
    "Reverse pipetting and slow aspiration for viscous vector formulation",
    """Use reverse pipetting with a 2 s pause after aspiration; check weight of every 10th vial on the
    balance in the isolator.""",
    "Under-filled vials.",
    "Fast aspiration with viscous liquid.",
    "Reverse pipetting; in-process weight checks.",
    "Next fills all within +/- 0.02 mL.",
    True, fixes=["r1"], tags=["pipetting"])

# --- stand-alone troubleshooting notes (no deviation raised) ---------------------------------------
fix("sf1", "CAM", "CAR-T", "expansion", "2024-06",
    "G-Rex: air bubble under the membrane leaves a bare patch",
    """Day-4 look under the lamp showed a round bare patch in the cell bed of a G-Rex 100M-CS. An air bubble was
    trapped under the gas-permeable membrane when the flask was set down tilted. We lift the flask, tilt it
    to walk the bubble to the edge and set it down flat on the shelf, never on the grid edge.""",
    "Bare circular patch in the cell bed, slower growth in one flask.",
    "Air trapped under the gas-permeable membrane blocks gas exchange.",
    "Tilt-and-walk the bubble out; set flask flat; check the underside after every move.",
    "Patch filled in by day 6; fold expansion on trend (38x).",
    True, tags=["G-Rex", "membrane", "bubble"])

fix("sf2", "LEI", "LVV", "cell_expansion", "2024-09",
    "BioProfile FLEX2 lactate jumping between repeats: sample had micro-bubbles",
    """Lactate on the FLEX2 read 1.1, 1.9 and 1.4 g/L on three repeats of the same bioreactor sample. Sample
    was taken straight from the sparged XDR-50 and was full of micro-bubbles. Let the syringe stand 2 min
    tip-up and expel the first 0.5 mL; repeats then within 0.05 g/L.""",
    "Unstable lactate and glucose repeats on the analyser.",
    "Micro-bubbles from sparging in the sample.",
    "Degas by standing 2 min; expel first 0.5 mL; analyse within 10 min.",
    "Repeat CV < 3 % on 10 samples.",
    True, tags=["FLEX2", "metabolites", "sampling"])

fix("sf3", "LEI", "CAR-T", "release_testing", "2024-08",
    "Vi-CELL BLU undercounts clumpy post-thaw samples",
    """Post-thaw counts on the Vi-CELL BLU had a CV of 18 % across replicates; the images showed doublets and
    small clumps counted as one object. Mixing 10x with a P1000 and a 1:2 dilution in DPBS + 2 % HSA brought
    the CV under 6 %.""",
    "High replicate CV on post-thaw counts.",
    "Clumps counted as single objects.",
    "Gentle pipette mix 10x; 1:2 dilution; check images for doublets.",
    "CV 4-6 % on 3 lots.",
    True, tags=["Vi-CELL", "counting", "clumps"])

fix("sf4", "CAM", "LVV", "tff", "2024-10",
    "KR2i pump ticking: pump segment worn, flow 8 % low",
    """The KR2i feed pump started ticking at each roller pass on the third use of the pump segment. Bucket test
    showed flow 8 % below set point. Segment replaced; ticking gone and flow back on set point. Pump segments
    are now single-run.""",
    "Regular ticking sound from the feed pump; flux a bit lower.",
    "Worn pump tubing segment.",
    "Segment replaced; single-run use from now.",
    "Bucket test on set point; no noise.",
    True, tags=["pump", "sound", "tubing wear"])

fix("sf5", "LEI", "LVV", "transfection", "2025-05",
    "XDR-200 foam after complex addition: antifoam pulse and lower sparge",
    """After the complex addition at 200 L a 10 cm foam layer formed and the exhaust filter heater light came on.
    Gave one 5 ppm antifoam C pulse and lowered the micro-sparge from 0.05 to 0.03 vvm with DO cascade on
    agitation. Foam collapsed in 10 min, DO held 40 %.""",
    "Foam layer rising towards the exhaust filter after transfection.",
    "Complex addition plus high sparge at 200 L.",
    "Antifoam pulse 5 ppm; sparge reduced, agitation cascade.",
    "No exhaust filter wetting; DO on set point.",
    True, tags=["foam", "antifoam", "200 L"])

fix("sf6", "CAM", "CAR-T", "tcell_selection", "2024-11",
    "Prodigy peristaltic pump clicking: tubing not fully seated in the pump head",
    """During priming the Prodigy pump made a sharp click every rotation. The tubing loop was riding on the edge
    of the roller. Paused, opened the pump lid, reseated the tubing into the groove. Click gone. If it keeps
    running like that the tubing can kink or tear.""",
    "Click at each pump rotation during priming.",
    "Tubing loop not seated in the pump head groove.",
    "Pause, reseat tubing, resume.",
    "Priming completed, no pressure alarms.",
    True, tags=["Prodigy", "pump", "sound"])

fix("sf7", "LEI", "LVV", "chromatography", "2025-04",
    "ÄKTA ready air sensor trips at sample pump start",
    """Air sensor alarm every time the sample pump started on the ÄKTA ready. The sample inlet line was not
    primed to the valve. Prime the sample line with equilibration buffer up to the inlet valve before the
    method starts.""",
    "Air sensor alarm at start of load.",
    "Unprimed sample inlet line.",
    "Manual priming step before method start.",
    "Two runs without air alarms.",
    True, tags=["ÄKTA", "air sensor", "priming"])


# ----------------------------------------------------------------------------------------------
# CUES logged by operators during runs
# ----------------------------------------------------------------------------------------------
# CAR-T: apheresis receipt
cue("CAM", "CAR-T", "apheresis_receipt", "2024-02", "Leukopak felt warm through the overwrap",
    """Opened the shipper and the leukopak felt warm in the hand, not fridge-cold. Logger showed a 40 min
    excursion. Took the bag temperature with the probe (9.5 C) before anything else and called QA.""",
    tags=["temperature", "receipt", "touch"], k="cu_i1")
cue("CAM", "CAR-T", "apheresis_receipt", "2024-11", "Stringy clumps in a short apheresis collection",
    """Apheresis product only about half the manifest volume and I could see stringy clumps when I tipped the
    bag. Hematocrit looked high, dark red. Flagged it for a DNase wash decision before selection.""",
    tags=["clumps", "low volume"], k="cu_i3")
cue("LEI", "CAR-T", "apheresis_receipt", "2024-06", "Late leukopak: small aggregates visible against the light",
    """Leukopak came in 31 h after collection. Holding it against the light box there were small white
    aggregates floating. Viability still 94 %. Took an extra sample for the count before deciding on DNase.""",
    tags=["late arrival", "aggregates"], k="cu_i2")
cue("LEI", "CAR-T", "apheresis_receipt", "2024-09", "Apheresis product very pink/orange: high platelet content",
    """Apheresis bag was light orange-pink instead of deep red, and the count showed high platelets. CAM told
    us these patients' products give foamy washes on the Prodigy; added an extra platelet wash.""",
    tags=["platelets", "colour"])
cue("LEI", "CAR-T", "apheresis_receipt", "2025-03", "Wet outer bag at receipt",
    """Outer bag wet on opening the shipper. Found a pinhole drip at the sample port. Did not open the
    overwrap in the receiving area; took it straight to the BSC and called QA.""",
    tags=["leak", "receipt"], k="cu_i4")

# CAR-T: T-cell selection
cue("CAM", "CAR-T", "tcell_selection", "2024-01", "Prodigy pump sounded different before the air alarm",
    """About a minute before the air-detected alarm the Prodigy pump went from a smooth hum to a slurping
    sound. Buffer level in the drip chamber was low. Next time I'd stop and top up the drip chamber before the
    alarm comes.""",
    tags=["Prodigy", "sound", "drip chamber"], k="cu_b1")
cue("CAM", "CAR-T", "tcell_selection", "2024-08", "CD4/CD8 labelling: cells in bag foamed",
    """Foam on top of the cell suspension after the labelling reagent went in. Platelet-rich product. Let it sit
    5 min on the hook and the foam went down. Selection purity was 96 % anyway.""",
    tags=["foam", "labelling"])
cue("CAM", "CAR-T", "tcell_selection", "2025-04", "Buffer bag on the low hook again",
    """Came in to a liquid sensor alarm - the CliniMACS buffer bag was on the lower hook and you could see an
    air bubble sitting in the line going uphill. Moved it up, alarm cleared after priming.""",
    tags=["buffer bag", "liquid sensor"], k="cu_b5")
cue("LEI", "CAR-T", "tcell_selection", "2024-05", "P3 high at column loading: closed roller clamp",
    """Pressure alarm P3 high when the column load began. The buffer line roller clamp was still closed, even
    though the checklist was ticked. Opened, continued.""",
    tags=["clamp", "pressure"], k="cu_b2")
cue("LEI", "CAR-T", "tcell_selection", "2024-10", "Target cell count lower than the CAM run of the same patient split",
    """Dual run: the LEI half of the split apheresis gave 1.1e9 CD4/CD8 cells after selection, CAM got 1.4e9.
    Our wash removed more volume at the first spin. CAM holds the bag 10 min to settle before the first spin.""",
    tags=["dual run", "yield", "settling"])
cue("LEI", "CAR-T", "tcell_selection", "2025-06", "Column-looking yellowish after loading",
    """Column looked yellowish at the end of loading, normally white-grey. Product had high bilirubin
    (plasma yellow). Purity and recovery fine. Logging in case it comes back.""",
    tags=["column", "colour", "plasma"])

# CAR-T: activation
cue("CAM", "CAR-T", "activation", "2024-03", "Day-1 clusters visible by eye: good activation",
    """Day 1 after CD3/CD28 addition you can see small white clusters on the chamber wall when you tilt the
    Prodigy chamber into the light. When I don't see them by 24 h the expansion is usually slow.""",
    tags=["clusters", "visual", "activation"])
cue("CAM", "CAR-T", "activation", "2024-09", "No clustering with monocyte-heavy product",
    """Apheresis with about 35 % monocytes: at 24 h still no clusters, the medium stayed bright red (not using
    much). Told the shift lead to expect low %CAR+.""",
    tags=["monocytes", "no clusters"])
cue("CAM", "CAR-T", "activation", "2025-05", "Medium stayed red at 24 h - cells not eating",
    """At 24 h activation the medium was still the same red as at start, phenol red not shifted. Usually it is
    turning red-orange by then. Same lot later gave 18 % CAR+. Monocytes 38 %.""",
    tags=["phenol red", "metabolism"], k="cu_c5")
cue("LEI", "CAR-T", "activation", "2024-12", "Drop at the sampling pouch weld",
    """Sampling at day 0, saw a small drop at the weld of the sampling pouch on the TS 520. Wiped, looked again
    after 1 min and a new drop formed. Clamped above and called QA.""",
    tags=["leak", "tubing set"], k="cu_b4")
cue("LEI", "CAR-T", "activation", "2025-01", "Activation started at 21:30 - too late?",
    """Apheresis came in at 17:00, selection done by 21:00, activation started 21:30. That puts the transduction
    at 3 am or day 2. Logged to ask what CAM does with late arrivals.""",
    tags=["timing", "late"], k="cu_c4")

# CAR-T: transduction
cue("CAM", "CAR-T", "transduction", "2024-03", "Vector vial already had a thaw ring",
    """Vector aliquot had a white frost ring halfway up the vial and the cap label was smudged - looked
    like it had been thawed before. Used it because it was the last one of the lot. Will log.""",
    tags=["vector", "freeze-thaw"], k="cu_c1")
cue("CAM", "CAR-T", "transduction", "2024-09", "Centrifuge imbalance message, tubing pinched",
    """Prodigy stopped with centrifuge imbalance. Opened the chamber lid and the outlet tubing was squeezed
    under the lid corner. Re-seated and restarted.""",
    tags=["Prodigy", "pinched"], k="cu_b3")
cue("LEI", "CAR-T", "transduction", "2024-06", "Vector volume looked small for MOI 5",
    """The calculated vector volume (2.1 mL) looked small compared with the CAM run last month (4.3 mL) for a
    similar cell number. Checked afterwards: sheet used an old CoA titer.""",
    tags=["MOI", "vector volume"], k="cu_c2")
cue("LEI", "CAR-T", "transduction", "2025-02", "Vector thaw timing vs Prodigy step",
    """Thawed the vector when the Prodigy step started, but the step takes 45 min before the addition prompt.
    Now I wait for the 'prepare vector' prompt, then thaw (8 min in the bead bath).""",
    tags=["vector thaw", "timing"])
cue("LEI", "CAR-T", "transduction", "2025-08", "Vector in the fridge 3.5 h",
    """Prodigy alarm earlier in the day pushed the transduction back; the vector was already thawed at
    10:15 and went in at 13:45. Over the 2 h limit. No spare aliquot.""",
    tags=["vector hold"], k="cu_c6")

# CAR-T: expansion
cue("CAM", "CAR-T", "expansion", "2024-02", "Medium turned orange on day 5 - fed early",
    """G-Rex 100M-CS medium went from red to orange by day 5 morning, lactate 1.6 g/L on the FLEX2. Fed half
    a day early per the decision tree. On day 6 the cell bed was thick and even.""",
    tags=["medium colour", "early feed", "lactate"])
cue("CAM", "CAR-T", "expansion", "2024-03", "Medium pink-purple in the morning",
    """Day 4 flasks came out of incubator 3 pink-purple and the pH read 7.6. Incubator CO2 display showed 2.1 %.
    Moved flasks to incubator 1.""",
    tags=["pH", "CO2", "incubator"], k="cu_j1")
cue("CAM", "CAR-T", "expansion", "2024-10", "Cell bed cloudy after the flask got knocked",
    """Knocked the G-Rex on the incubator door frame moving it. Cell bed went cloudy, cells in suspension.
    Put it down flat, did not touch for 2 h.""",
    tags=["G-Rex", "disturbed"], k="cu_j3")
cue("CAM", "CAR-T", "expansion", "2025-01", "Sweet-sour smell when opening the incubator",
    """Slight sweet-sour smell when opening incubator 2, no contamination signs in the flasks, medium colour
    normal. It was the spilled medium in the water tray. Cleaned the tray, logged so nobody panics.""",
    tags=["smell", "incubator"])
cue("CAM", "CAR-T", "expansion", "2025-08", "New TexMACS lot acidifies faster",
    """Medium from the new lot was yellow by day 5 (pH 6.8, lactate 2.4 g/L) where the old lot was
    still orange. Cells look fine under the microscope. Fed on day 5.""",
    tags=["medium lot", "acidification"], k="cu_j6")
cue("LEI", "CAR-T", "expansion", "2024-07", "Bright yellow G-Rex on day 8",
    """Day 8 the G-Rex was bright yellow. Day-7 feed had not been done. Lactate 2.9 g/L, glucose 0.4 g/L.
    Fed at once.""",
    tags=["missed feed", "yellow"], k="cu_j2")
cue("LEI", "CAR-T", "expansion", "2024-09", "Cells bunched in the flask corners",
    """Looking under the G-Rex the cells were bunched in two corners. The incubator shelf is not level; the
    spirit level showed about 2 degrees. Moved flask to the middle shelf.""",
    tags=["shelf level", "cell bed"])
cue("LEI", "CAR-T", "expansion", "2025-01", "Small cells, few clusters day 6",
    """Day 6 microscope: small round cells, very few clusters. VCD 0.5e6/mL. CAM's notes say clusters by
    day 3-4 mean a normal run. Expect a long expansion.""",
    tags=["slow growth", "clusters"], k="cu_j4")
cue("LEI", "CAR-T", "expansion", "2025-05", "Growth stalled until day 5",
    """VCD 0.6e6/mL at day 5 versus about 1.5e6/mL normally. Medium hardly changed colour. Found the IL-2 stock
    was made 10x too dilute.""",
    tags=["IL-2", "growth"], k="cu_j5")
cue("LEI", "CAR-T", "expansion", "2025-07", "Vi-CELL counts vs NC-200 counts on day-7 sample",
    """Split the day-7 sample: Vi-CELL 2.3e6/mL 92 %, NC-200 2.1e6/mL 95 %. Counts about the same, viability
    3 points apart. Good to know before post-thaw.""",
    tags=["counter", "viability"])

# CAR-T: harvest / wash
cue("CAM", "CAR-T", "harvest_wash", "2024-05", "LOVO spinner pressure creeping up before abort",
    """Watched the LOVO spinner pressure creep up through cycle 1 and then it aborted in cycle 2. Harvest
    had lots of small clumps. Filter the harvest before the LOVO next time.""",
    tags=["LOVO", "pressure", "clumps"], k="cu_k1")
cue("CAM", "CAR-T", "harvest_wash", "2025-06", "Stringy clumps in day-10 harvest",
    """Day-10 harvest had stringy clumps, like snot, sticking to the pipette. Put it through the 200 um blood
    filter - lots caught. LOVO ran clean after that.""",
    tags=["clumps", "blood filter"], k="cu_k4")
cue("LEI", "CAR-T", "harvest_wash", "2024-09", "Sepax finished too fast",
    """The Sepax wash finished in 22 min, usual is about 35 min. Recovery turned out 61 %. High-volume
    protocol was selected.""",
    tags=["Sepax", "run time"], k="cu_k2")
cue("LEI", "CAR-T", "harvest_wash", "2025-02", "Beads visible after magnet",
    """After the magnet step I could still see brown bead specks in the bag against a white card. CAM does two
    passes. We did one.""",
    tags=["beads", "debeading"], k="cu_k3")
cue("LEI", "CAR-T", "harvest_wash", "2025-05", "Foam in Sepax kit after harvest wash",
    """Some foam in the Sepax output bag after the wash - the input bag was hung upside down and air went
    through. Recovery fine. Hang input port down.""",
    tags=["foam", "Sepax"])

# CAR-T: formulation
cue("CAM", "CAR-T", "formulation", "2024-06", "CRF not ready when third bag was sealed",
    """Third bag sealed at 11:32, CRF still at +12 C. DMSO clock started at 10:45. Nothing to do but wait.""",
    tags=["DMSO", "CRF readiness"], k="cu_l1")
cue("CAM", "CAR-T", "formulation", "2025-03", "Cold CryoStor thickens, draw it slowly",
    """CryoStor straight from the fridge is thick and the syringe draws air if you pull fast. Pull slowly,
    1 mL per second, and tap out bubbles before adding to the cells.""",
    tags=["CryoStor", "syringe", "bubbles"])
cue("LEI", "CAR-T", "formulation", "2025-04", "Room felt warm during formulation",
    """Suite B2 felt warm and the display said 25.8 C. Cells already in CryoStor. Put bags on cold blocks and
    called facilities.""",
    tags=["room temperature", "cold block"], k="cu_a6")
cue("LEI", "CAR-T", "formulation", "2025-07", "Air pocket in cryobag after sealing",
    """Held the sealed cryobag up and saw a fat air pocket at the top, about 15 mL. Re-opened in the BSC and
    pushed out the air before the DMSO time ran out.""",
    tags=["cryobag", "air"], k="cu_l4")

# CAR-T: cryopreservation
cue("CAM", "CAR-T", "cryopreservation", "2024-08", "CRF chamber at +14 C when loading",
    """Loaded bags and started the run; the chamber display read +14 C, it had not been pre-cooled. First
    segment ran long. Logged it.""",
    tags=["pre-cool", "CRF"], k="cu_a3")
cue("CAM", "CAR-T", "cryopreservation", "2024-12", "No nucleation dip on the CRF curve",
    """Watching the CRF curve: at nucleation the chamber should dip hard to compensate, but it barely moved and
    the sample probe went up to -2 C. The solenoid clicked late.""",
    tags=["nucleation", "curve", "solenoid"], k="cu_m2")
cue("LEI", "CAR-T", "cryopreservation", "2024-07", "LN2 hiss changed halfway through the run",
    """Halfway through the freeze the LN2 injection hiss got weak and spluttery. Dewar gauge almost empty.
    Swapped dewars, cooling rate recovered.""",
    tags=["LN2", "sound"], k="cu_m1")
cue("LEI", "CAR-T", "cryopreservation", "2024-12", "Cassette lids not flat: bags bulging",
    """Two cassette lids did not close flat because the bags were overfilled at the port end. Bulging bags
    freeze unevenly. Pressed the fill to the bottom, closed again.""",
    tags=["cassette", "bag fill"])
cue("LEI", "CAR-T", "cryopreservation", "2025-05", "Old profile name on the CRF screen",
    """CRF started with CAR-T_v3 selected - v3 was still in the list. Chamber was already cold so the curve
    looked the same. Told QA.""",
    tags=["profile", "CRF"], k="cu_m3")

# CAR-T: release testing
cue("CAM", "CAR-T", "release_testing", "2024-02", "Retain vial fully melted before I noticed",
    """Second retain vial: I was distracted and it was fully liquid when I took it out, probably 3.5 min in the
    bath. Viability came back 67 %. The first analyst also went to full thaw.""",
    tags=["thaw", "over-thaw"], k="cu_a1")
cue("LEI", "CAR-T", "release_testing", "2024-05", "QC vial sat in open dry-ice box",
    """The vial for the post-thaw test sat in the dry-ice box with the lid open while I set up the bath.
    Frost on the vial had gone soft. Result 66 %.""",
    tags=["dry ice", "vial handling"], k="cu_a2")
cue("LEI", "CAR-T", "release_testing", "2025-07", "Vi-CELL images: many grey 'dead' cells that look intact",
    """Vi-CELL post-thaw images show lots of grey cells with smooth outlines counted as dead. On the NC-200 the
    same sample is 74 %. Looks like a method difference, not really dead cells.""",
    tags=["trypan blue", "images"], k="cu_a7")

# LVV: cell expansion
cue("CAM", "LVV", "cell_expansion", "2024-01", "Seed flask over-grown, clumps like grains of sand",
    """Seed shake flask at 6.2e6/mL after the holiday, viability 86 %. Clumps like grains of sand at the
    bottom when the shaker stopped. Split low and added one more passage.""",
    tags=["seed train", "clumps"], k="cu_p1")
cue("CAM", "LVV", "cell_expansion", "2024-06", "Shake flask swirl looks thick at 3e6",
    """Good HEK293T at about 3e6/mL has a milky swirl that still lets you see the flask bottom when shaking.
    When the swirl looks thick like skimmed milk and no bottom, it is usually over 4.5e6 - count before
    you plan the passage.""",
    tags=["visual", "density"])
cue("CAM", "LVV", "cell_expansion", "2025-04", "Passage number on the flask label: p27",
    """Looked at the label while passaging and it said p27. Bioreactor slot is next week, so we'll be at p28
    at inoculation. Over the p25 limit. Told MSAT.""",
    tags=["passage number"], k="cu_p4")
cue("LEI", "LVV", "cell_expansion", "2024-07", "Seed flask medium more orange after CO2 calibration",
    """Seed flasks came out more orange than normal, pH 6.9. Incubator CO2 read 8 %, the set point is 5 %.
    Calibration the day before.""",
    tags=["CO2", "pH"], k="cu_p2")
cue("LEI", "LVV", "cell_expansion", "2024-12", "DO flat line at exactly 40 %",
    """DO on the XDR-50 trend was a perfectly flat line at 40.0 % for two hours - no noise at all. The
    backup probe read 5 %. A real DO trace always wiggles.""",
    tags=["DO", "probe", "trend"], k="cu_p3")
cue("LEI", "LVV", "cell_expansion", "2025-05", "XDR-200 first fill: more foam than at 50 L",
    """First XDR-200 batch: with 0.05 vvm sparge there is a thick foam layer after 12 h, never had that at
    50 L. Antifoam not in the MBR for growth phase. Asked MSAT.""",
    tags=["foam", "200 L", "sparge"], batch_hint="first200")

# LVV: transfection
cue("CAM", "LVV", "transfection", "2024-02", "Complex bag hazy after 40 min wait",
    """PEI:DNA complex sat 40 min because the addition line was not welded yet. By then it was hazy, not the
    faint opalescence you want at 15 min. Titer came back low.""",
    tags=["complex", "haze", "PEI"], k="cu_e1")
cue("CAM", "LVV", "transfection", "2024-08", "Plasmid volume looked too big",
    """pMD2.G volume on the sheet looked twice what I remember. New lot is 1.0 mg/mL, old was 2.0. Added as
    written - should have stopped.""",
    tags=["plasmid", "volume"], k="cu_e3")
cue("CAM", "LVV", "transfection", "2024-12", "Faint opalescence at 12 min: ready",
    """Complex at PEI:DNA 2:1 looked faintly opalescent, like diluted milk, at 12 min. That's the window.
    Added at 14 min. Crude titer 2.9e7 TU/mL.""",
    tags=["complex", "opalescent", "timing"])
cue("CAM", "LVV", "transfection", "2025-08", "Over-grown culture at transfection, medium orange-yellow",
    """Transfection postponed a day for plasmid release: VCD 3.1e6/mL, medium orange-yellow, pH 6.85,
    lactate 2.6 g/L. Cells still look single. Expect lower titer.""",
    tags=["VCD", "pH", "lactate"], k="cu_e7")
cue("LEI", "LVV", "transfection", "2024-05", "Viability 88 % but complex already made",
    """Pre-transfection count 88 % viability, 2.6e6/mL. Complex was already mixed. Went ahead. Should have
    counted first.""",
    tags=["viability", "count first"], k="cu_e2")
cue("LEI", "LVV", "transfection", "2024-11", "Complex water-clear at 15 min",
    """The PEI/DNA complex stayed completely clear at 15 min. CAM says it should be faintly opalescent. Checked
    the PEI stock pH afterwards: 7.4.""",
    tags=["complex", "clear", "PEI pH"], k="cu_e4")
cue("LEI", "LVV", "transfection", "2025-05", "200 L complex addition took 25 min",
    """Pumping 20 L of complex into the XDR-200 at max pump speed took 25 minutes. The first part of the
    complex was already 40 min old when the last part went in.""",
    tags=["200 L", "addition time"], k="cu_e6")
cue("LEI", "LVV", "transfection", "2025-07", "Cells at 200 L: viability 91 % at transfection, some doublets",
    """200 L batch at transfection: VCD 2.3e6/mL, viability 91 % (Vi-CELL), more doublets and small clumps in
    the images than at 50 L. Within our MBR, but would be a no-go at CAM (95 %).""",
    tags=["viability", "200 L", "clumps"])

# LVV: harvest
cue("CAM", "LVV", "harvest", "2024-04", "Harvest bag: translucent strands on the wall",
    """When I swirled the harvest bag, translucent strands stuck to the wall like egg white. That batch the
    depth filter went up fast. Benzonase before harvest next time?""",
    tags=["strands", "DNA", "harvest"], k="cu_dz02")
cue("CAM", "LVV", "harvest", "2025-04", "Side clamp open on harvest bag",
    """Disconnecting the harvest bag and harvest ran out of the side line - clamp open. About 1.2 L into the
    BSC tray.""",
    tags=["clamp", "spill"], k="cu_q2")
cue("LEI", "LVV", "harvest", "2024-06", "Harvest titer low after early harvest",
    """Harvested at 41 h to fit the shift. The harvest looked clearer than usual (fewer floating cells) and the
    titer was 1.3e7. CAM harvests at 48 h.""",
    tags=["harvest time", "titer"], k="cu_q1")
cue("LEI", "LVV", "harvest", "2025-01", "Harvest after weekend: slimy and lumpy",
    """Harvest at 56 h after the weekend: the harvest was slimy, with lumps and long strings hanging from the
    sample pipette. Smelled a bit like old broth.""",
    tags=["slimy", "harvest hold", "strings"], k="cu_dz06")
cue("LEI", "LVV", "harvest", "2025-05", "200 L harvest: flocs settle within 15 min",
    """Third 200 L harvest: took a 1 L sample in a bottle, within 15 min big white flocs settled at the bottom.
    At 50 L a sample stays cloudy for an hour. Viability at harvest 61 %.""",
    tags=["flocs", "settling", "200 L"], k="cu_dz10")
cue("LEI", "LVV", "harvest", "2025-07", "Harvest viability 58 %, lots of debris",
    """200 L harvest at 48 h: viability 58 % on the Vi-CELL, lots of debris in the images. The bag had visible
    clumps. Got the spare filters ready before starting clarification.""",
    tags=["viability", "debris", "200 L"], k="cu_dz22")

# LVV: clarification
cue("CAM", "LVV", "clarification", "2024-02", "dP rising steadily from the first minute",
    """Depth filter dP started climbing from the first minute instead of staying flat - 0.2 to 0.6 bar in
    15 min. Clumps visible in the line. Pulled the spare capsule out of the cabinet.""",
    tags=["dP", "trend", "spare capsule"], k="cu_dz01")
cue("CAM", "LVV", "clarification", "2025-06", "Night shift: harvest looks stringy, was Benzonase added?",
    """Started clarification at 02:10 and the harvest line was full of strings; dP up 0.4 bar in 5 min.
    Checked the BR: pre-harvest Benzonase not done, nobody on nights knew about it.""",
    tags=["night shift", "benzonase", "strings"], k="cu_dz14")
cue("LEI", "LVV", "clarification", "2024-07", "Started pump at 2.5 L/min, filter blocked at 18 L",
    """Pump on at 2.5 L/min from the start. Filter pressure shot up and blocked at 18 L. Clumps in the bag.
    CAM ramps from 1 L/min.""",
    tags=["pump ramp", "blocked"], k="cu_dz03")
cue("LEI", "LVV", "clarification", "2025-05", "Pressure gauge needle moving while you watch",
    """200 L clarification: the dP gauge needle was moving while you stood there, 0.25 to 1.5 bar in 12 min.
    Never seen it so fast at 50 L. Lots of strings in the line.""",
    tags=["dP", "gauge", "200 L"], k="cu_dz09")
cue("LEI", "LVV", "clarification", "2025-06", "Gel layer on the capsule inlet",
    """Took off the blocked primary capsule: the inlet face was covered in a clear gel layer with white bits
    in it. Looks like DNA with cell debris.""",
    tags=["gel", "capsule", "DNA"], k="cu_dz13")
cue("LEI", "LVV", "clarification", "2025-07", "No spare capsules in the suite",
    """dP over 1.0 bar at 25 min and there were no spare capsules in the suite. Took 40 min to get them from
    the warehouse and flush them. Harvest standing.""",
    tags=["spares", "preparation"], k="cu_dz21")
cue("LEI", "LVV", "clarification", "2025-08", "Filtrate looked hazy after the pressure spike",
    """After the dP spike the filtrate in the sight glass went hazy. Turbidity 42 NTU. Stopped and collected
    separately.""",
    tags=["filtrate", "haze", "NTU"], k="cu_dz26")

# LVV: nuclease treatment
cue("CAM", "LVV", "nuclease_treatment", "2024-03", "Benzonase on for 4 h - TFF skid busy",
    """Benzonase added at 10:00, TFF skid still in CIP until 14:00. Clarified harvest sat with nuclease for 4 h
    at room temperature.""",
    tags=["Benzonase", "hold"], k="cu_o1")
cue("CAM", "LVV", "nuclease_treatment", "2024-10", "Clarified harvest goes from slightly viscous to watery",
    """After 30 min of Benzonase the clarified harvest runs off the pipette like water; before, it pulls a
    short thread. Handy check that the nuclease is working.""",
    tags=["viscosity", "pipette test"])
cue("LEI", "LVV", "nuclease_treatment", "2024-11", "MgCl2 bottle still sealed at end of step",
    """End of nuclease step and the MgCl2 bottle was still sealed on the trolley. MgCl2 line is on the next
    MBR page. Residual DNA came back high.""",
    tags=["MgCl2", "MBR"], k="cu_o2")

# LVV: TFF
cue("CAM", "LVV", "tff", "2024-03", "TMP creeping up at constant permeate flux",
    """TMP crept from 0.8 to 1.6 bar during diafiltration while flux stayed at 45 LMH. Feed pump flow higher
    than set. Turned down by hand.""",
    tags=["TMP", "pump"], k="cu_f1")
cue("CAM", "LVV", "tff", "2024-12", "Pump slurp, then TMP spike at buffer switch",
    """Right at the switch to diafiltration buffer the KR2i pump made a slurping noise for a few seconds, then
    TMP spiked to 1.9 bar. Air in the feed.""",
    tags=["sound", "air", "TMP spike"], k="cu_f4")
cue("CAM", "LVV", "tff", "2025-07", "Retentate looked syrupy at the end",
    """End of concentration the retentate in the bag looked syrupy and the flux was down to 12 LMH. We were at
    25x not 20x.""",
    tags=["concentration", "viscosity"], k="cu_f6")
cue("LEI", "LVV", "tff", "2024-06", "Closed the retentate valve more to speed up",
    """Concentration going slowly, so I closed the retentate valve a bit more. TMP went to 1.4 bar. Opened again.
    Should not do that - shears the vector.""",
    tags=["retentate valve", "shear"], k="cu_f2")
cue("LEI", "LVV", "tff", "2024-09", "Ethanol smell at the permeate outlet",
    """Smelled ethanol at the permeate outlet at the start of concentration. Module was not flushed of storage
    solution. Flux fell from 45 to 18 LMH.""",
    tags=["smell", "ethanol", "flush"], k="cu_f3")
cue("LEI", "LVV", "tff", "2025-04", "TMP display low but gauge says 1.2",
    """Skid screen TMP 0.4 bar, but the mechanical gauge on the retentate side read over 1.2 bar. New permeate
    transducer installed last week.""",
    tags=["transducer", "gauge"], k="cu_f5")

# LVV: chromatography
cue("CAM", "LVV", "chromatography", "2024-05", "Retentate slightly hazy - Mustang Q pressure up",
    """Held the retentate bag up to the lamp - slight haze. Mustang Q pressure went to 0.45 MPa on load at
    10 MV/min. Dropped to 6 MV/min.""",
    tags=["haze", "backpressure"], k="cu_n1")
cue("CAM", "LVV", "chromatography", "2025-06", "UV baseline drifting up during salt step",
    """UV 280 baseline drifted up through the salt step and the peak trigger came late. Collected the tail by
    hand.""",
    tags=["UV", "baseline"], k="cu_n4")
cue("LEI", "LVV", "chromatography", "2024-08", "Elution peak split in two",
    """Elution peak came out as two humps instead of one sharp peak. Buffer conductivity afterwards 160 mS/cm -
    way too high.""",
    tags=["peak shape", "conductivity"], k="cu_n2")
cue("LEI", "LVV", "chromatography", "2025-02", "Dilution buffer not released at elution",
    """Eluate collected at 11:20, dilution buffer still in QC release. Eluate sat in 1.2 M NaCl until 14:20.""",
    tags=["eluate", "hold"], k="cu_n3")

# LVV: sterile filtration
cue("CAM", "LVV", "sterile_filtration", "2024-04", "First filtrate drops watery",
    """First drops through the 0.2 um looked watery - filter had only been wetted with WFI. Recovery 41 %.""",
    tags=["WFI", "flush"], k="cu_g1")
cue("LEI", "LVV", "sterile_filtration", "2025-01", "Flow slowing to drips at 60 % volume",
    """Filtration through the 0.2 um started fine then slowed to drips at about 60 % of the eluate.
    Eluate slightly opalescent.""",
    tags=["plugging", "opalescent"], k="cu_g3")
cue("LEI", "LVV", "sterile_filtration", "2025-06", "Pressure set to 2 bar to finish faster",
    """Set the pressure vessel to 2.0 bar to get through the 200 L eluate faster. Recovery after filtration
    28 %.""",
    tags=["pressure", "recovery"], k="cu_g5")

# LVV: fill finish (none at CAM: deliberate gap)
cue("LEI", "LVV", "fill_finish", "2024-10", "Label printer still showed yesterday's date",
    """Print run was set up yesterday. When I checked the first label against the BR after 120 vials, fill
    date was yesterday's.""",
    tags=["label", "date"], k="cu_h4")
cue("LEI", "LVV", "fill_finish", "2025-01", "Glints at the vial neck under the inspection lamp",
    """Under the inspection lamp some vials showed small glints at the neck; three had floating particles.
    Empty vials from the same box had chips.""",
    tags=["particles", "glass"], k="cu_r2")

# more stand-alone cues (no deviation behind them)
cue("CAM", "CAR-T", "expansion", "2024-06", "Round bare patch in the G-Rex cell bed",
    """Looked under the G-Rex on day 4 with the torch: a round bare patch about 3 cm across. Air bubble under
    the membrane. Walked it out to the edge.""",
    tags=["bubble", "membrane"])
cue("LEI", "CAR-T", "expansion", "2024-11", "Medium colour on day 6 red-orange: feed can wait",
    """Day 6 G-Rex still red-orange, lactate 1.2 g/L. CAM rule: feed early only once orange turns to
    orange-yellow or lactate > 1.8 g/L. Kept the planned feed on day 7.""",
    tags=["feed decision", "lactate"])
cue("CAM", "CAR-T", "tcell_selection", "2024-05", "Prodigy tubing loop clicking in pump head",
    """Sharp click every turn of the Prodigy pump during priming. Tubing loop not in the groove. Reseated.""",
    tags=["pump", "click"])
cue("LEI", "CAR-T", "cryopreservation", "2025-08", "Frost pattern on bags after CRF run uneven",
    """Took bags out of the CRF into LN2 transfer: one bag had frost only on half the face. That bag sat at the
    back of the rack, close to the fan. Position noted.""",
    tags=["frost", "rack position"])
cue("LEI", "LVV", "cell_expansion", "2024-09", "FLEX2 lactate jumps between repeats",
    """Lactate 1.1, 1.9, 1.4 g/L on three runs of the same XDR-50 sample. Syringe full of tiny bubbles from
    sparging.""",
    tags=["FLEX2", "bubbles"])
cue("LEI", "LVV", "cell_expansion", "2025-03", "Glucose dropping faster than CAM trend at 50 L",
    """Glucose at day 2 was 2.1 g/L, CAM's trend for the same day is about 2.8 g/L. VCD a bit higher than
    CAM's (2.4e6). Our seeding was at the high end.""",
    tags=["glucose", "trend"])
cue("CAM", "LVV", "transfection", "2025-03", "Warm complex bag after rocker under the lamp",
    """Complex bag felt warm after the rocker sat under the BSC lamp. Moved rocker out of the lamp. No
    visible change in the complex, titer normal.""",
    tags=["temperature", "complex"])
cue("LEI", "LVV", "tff", "2025-06", "Permeate slightly pink at start of 200 L concentration",
    """Permeate ran slightly pink for the first minutes - phenol red carries through, normal. Turbidity in the
    feed higher than at 50 L, TMP climbing 0.1 bar per 10 min.""",
    tags=["permeate", "200 L", "TMP"])
cue("CAM", "LVV", "tff", "2024-10", "Pump ticking at each roller pass",
    """KR2i feed pump ticking at every roller pass, flux a bit lower. Third use of the pump segment.""",
    tags=["pump", "sound"])
cue("LEI", "LVV", "nuclease_treatment", "2025-07", "200 L clarified pool still pulls threads after 60 min nuclease",
    """At 200 L the clarified pool still pulled a thread off the pipette after 60 min of Benzonase. At 50 L it
    is watery by 30 min. A lot more DNA coming through the depth filter?""",
    tags=["viscosity", "200 L", "DNA"], k="cu_nuc200")
cue("LEI", "LVV", "harvest", "2025-08", "XDR-200 impeller louder at 48 h",
    """XDR-200 impeller sounded louder at the 48 h harvest check. Agitation was at 95 rpm (cascade on DO),
    higher than the 70 rpm we start with. Cells at 57 % viability, clumps visible.""",
    tags=["agitation", "sound", "shear"], k="cu_agit")
cue("LEI", "LVV", "chromatography", "2025-04", "Air alarm at sample pump start again",
    """ÄKTA ready air sensor alarm as soon as the sample pump started. Sample line not primed to the inlet
    valve.""",
    tags=["ÄKTA", "air"])
cue("LEI", "CAR-T", "apheresis_receipt", "2025-08", "Shipper lid tape cut and re-taped",
    """Apheresis shipper arrived with the tamper tape cut and re-taped by the courier (customs check). Seal
    number matched the manifest on the inner box. Photos taken, QA informed.""",
    tags=["tamper seal", "customs"])


# ----------------------------------------------------------------------------------------------
# KNOW-HOW captured in ACTA knowledge-audit workshops
# ----------------------------------------------------------------------------------------------
W_CAM1, W_CAM2, W_CAM3 = "ACTA-CAM-2024-03", "ACTA-CAM-2024-09", "ACTA-CAM-2025-02"
W_LEI1, W_LEI2, W_LEI3 = "ACTA-LEI-2024-10", "ACTA-LEI-2025-04", "ACTA-LEI-2025-07"

# CAM, CAR-T
acta("CAM", "CAR-T", "apheresis_receipt", "2024-03-12", "past_and_future",
     "Reading the apheresis bag to predict how the run will go",
     """Before the count comes back I already have a guess about the run from the bag. Deep red and smooth is a
     normal product. Light orange-pink means lots of platelets: the Prodigy washes will foam and I plan an extra
     platelet wash. Stringy clumps mean an old or stressed collection: ask for DNase before selection. The CBC
     monocyte percentage tells me if activation will be weak (over ~30 % CD14+).""",
     cues="Bag colour (deep red vs orange-pink), clumps when tipping, hematocrit, CBC monocyte %, hours since collection.",
     why="Novices wait for the count and start selection as if every product were the same; the bag tells you an hour earlier what to prepare.",
     tags=["apheresis product", "platelets", "monocytes"], workshop=W_CAM1, author="M. Okafor")
acta("CAM", "CAR-T", "tcell_selection", "2024-03-12", "noticing",
     "The Prodigy pump changes sound before an air alarm",
     """A minute or so before an 'air detected' stop the Prodigy pump goes from a steady hum to a wet, slurping
     sound. The drip chamber level is usually dropping. If you hear it, pause and top up the drip chamber;
     you save the alarm and the undocumented intervention.""",
     cues="Pump sound changes from hum to slurp; drip chamber below two-thirds; bubbles entering the set line.",
     why="The sound change is small and the suite is noisy; new operators only look at the screen, which says nothing until the alarm.",
     tags=["Prodigy", "sound", "air alarm"], workshop=W_CAM1, author="J. Reyes")
acta("CAM", "CAR-T", "tcell_selection", "2024-09-17", "equipment_difficulties",
     "Liquid sensor says air, but the line is full",
     """Sometimes the Prodigy liquid sensor keeps alarming although the line is visibly full. Condensation on
     the tubing at the sensor after the buffer came from the cold room. Wipe the tubing dry, re-seat it in the
     sensor, and let buffer bags reach room temperature for an hour before hanging them.""",
     cues="Full line but repeated liquid-sensor alarms; droplets on the tubing; buffer bag cold to the touch.",
     why="The screen is trusted over the eyes; people re-prime again and again instead of looking at the tubing.",
     tags=["Prodigy", "liquid sensor", "condensation"], workshop=W_CAM2, author="J. Reyes")
acta("CAM", "CAR-T", "activation", "2024-03-12", "anomalies",
     "No clusters at 24 h is the first sign of a weak run",
     """Tilt the Prodigy chamber (or the flask) towards the light 24 h after CD3/CD28: small white clusters on
     the wall mean activation took. No clusters and medium still the same red means the cells are not
     working; check the monocyte content and warn the shift that %CAR+ may be low.""",
     cues="White clusters at 24 h; phenol red shifting to red-orange; cell size under the microscope.",
     why="Nothing in the batch record asks for it and the count at 24 h still looks fine.",
     tags=["activation", "clusters", "phenol red"], workshop=W_CAM1, author="M. Okafor")
acta("CAM", "CAR-T", "transduction", "2024-09-17", "job_smarts",
     "Sanity-check the vector volume against the last lot",
     """Before adding vector I compare the calculated volume with what we used on the last few lots at a similar
     cell number. If it is half or double, stop and check the titer and CoA revision. Thaw the vector only at
     the Prodigy 'prepare vector' prompt, not at the start of the step.""",
     cues="Vector volume vs previous lots; CoA revision on the sheet; time since thaw.",
     why="The spreadsheet looks authoritative; a wrong titer gives a plausible-looking number.",
     tags=["MOI", "vector", "thaw timing"], workshop=W_CAM2, author="S. Patel")
acta("CAM", "CAR-T", "expansion", "2024-03-12", "big_picture",
     "What I track in the G-Rex every day",
     """Every day: medium colour through the flask wall, lactate and glucose on the FLEX2, the cell bed under the
     torch (even, patchy, bunched), cluster size under the microscope, and the day-count vs the planned harvest
     day. Feed early when the medium is orange and lactate is over 1.8 g/L; a thick even bed on day 6 means a
     day-9 harvest will make dose.""",
     cues="Medium colour red -> orange -> yellow; lactate > 1.8 g/L; glucose < 1 g/L; bed evenness; clusters.",
     why="The batch record has fixed feed days; knowing when to deviate from them needs several signals together.",
     tags=["G-Rex", "feed", "lactate", "medium colour"], workshop=W_CAM1, author="M. Okafor")
acta("CAM", "CAR-T", "expansion", "2024-09-17", "self_monitoring",
     "I stopped going by the day-count and started reading the flask",
     """Early on I fed strictly on days 5 and 7. After two runs went yellow overnight I changed: I check colour
     and lactate every morning and adjust. I also caught myself moving flasks in a hurry on feed days, which
     disturbs the bed; now I carry one flask at a time with both hands.""",
     cues="Overnight colour change; disturbed bed after moving; own hurry on busy days.",
     why="New operators follow the schedule because it is written; the flask tells a different story on some lots.",
     tags=["feeding", "handling"], workshop=W_CAM2, author="S. Patel")
acta("CAM", "CAR-T", "expansion", "2025-02-11", "opportunities_improvising",
     "Walking an air bubble out from under the G-Rex membrane",
     """A bare round patch in the cell bed means an air bubble under the gas-permeable membrane. Lift the flask,
     tilt it slowly so the bubble walks to the edge, and set it down flat. Do it before day 5 or the patch
     never catches up.""",
     cues="Round bare patch seen with a torch from below; flask set down on the shelf grid edge.",
     why="Nobody looks under the flask unless they know to; the count averages it out.",
     tags=["G-Rex", "bubble", "membrane"], workshop=W_CAM3, author="M. Okafor")
acta("CAM", "CAR-T", "harvest_wash", "2024-09-17", "job_smarts",
     "Let the harvest settle and filter it before the LOVO",
     """Let the pooled harvest stand 10 min, take the count from the top, then run it through a 200 um blood
     filter into the LOVO source bag. Clumps from dense day-10 cultures are what trip the spinner pressure
     alarm.""",
     cues="Stringy clumps on the pipette; spinner pressure climbing in cycle 1.",
     why="The LOVO SOP does not mention clumps; the alarm looks like a machine fault.",
     tags=["LOVO", "clumps", "blood filter"], workshop=W_CAM2, author="J. Reyes")
acta("CAM", "CAR-T", "harvest_wash", "2025-02-11", "past_and_future",
     "Two magnet passes for debeading - beads show up at release otherwise",
     """One 5-min pass on the magnet leaves beads you only find at release. Two passes with gentle rocking, then
     hold the bag against a white card: any brown specks, do a third. Our SOP says 'debead per SOP' and the
     second pass was never written down.""",
     cues="Brown specks against a white card; bead count trend.",
     why="The written step is ambiguous and the first pass looks clean by eye in the BSC light.",
     tags=["debeading", "beads"], workshop=W_CAM3, author="S. Patel")
acta("CAM", "CAR-T", "formulation", "2024-03-12", "big_picture",
     "The DMSO clock drives the whole formulation",
     """From the first drop of CryoStor the clock runs: 30 min to freezer start. So the CRF is pre-cooled at +4 C
     before DMSO goes in, bags are filled in parallel by two people, labels are on before, and the sealer is
     warm. If the CRF is not at +4 C, DMSO does not go in.""",
     cues="CRF chamber temperature; labels ready; sealer ready; time since first CryoStor contact.",
     why="Everything looks like small prep tasks until they add up to 20 extra minutes in DMSO.",
     tags=["DMSO", "CRF", "timing"], workshop=W_CAM1, author="J. Reyes")
acta("CAM", "CAR-T", "cryopreservation", "2024-09-17", "equipment_difficulties",
     "Read the nucleation dip on the CRF curve, not just 'run complete'",
     """The CRF prints 'run complete' for a bad curve too. Look at nucleation: the chamber should drop hard and
     the sample should rise only 1-2 C. A flat chamber line and a sample rising to -2 C means the LN2 solenoid is
     slow. You can also hear it: the solenoid clicks late.""",
     cues="Chamber dip at nucleation; sample rise > 2 C; solenoid click timing; LN2 hiss.",
     why="The software has no alarm for latent-heat compensation; you have to know the curve shape.",
     tags=["CRF", "nucleation", "curve review"], workshop=W_CAM2, author="M. Okafor")
acta("CAM", "CAR-T", "release_testing", "2024-03-12", "self_monitoring",
     "I time my thaws since the OOS",
     """I used to thaw until fully liquid. After the 64 % OOS I realised I was over-thawing. Now I use a timer,
     pull at the last ice crystal (~2 min 20 s), dilute dropwise over a minute and count within 10 min. When I
     am interrupted I restart with a new retain rather than guess.""",
     cues="Last small ice crystal; timer; interruptions during thaw.",
     why="Fully liquid feels 'safe'; the harm from warm DMSO is invisible until the count.",
     tags=["thaw", "viability", "OOS"], workshop=W_CAM1, author="S. Patel")

# CAM, LVV
acta("CAM", "LVV", "cell_expansion", "2024-03-14", "noticing",
     "Estimating HEK293T density from the shake-flask swirl",
     """At ~3e6/mL the swirl is milky but you still see the flask bottom while it shakes. When it looks like
     skimmed milk and the bottom disappears, you are above 4.5e6 and close to clumping. Grains at the bottom
     when the shaker stops = already clumping.""",
     cues="Swirl opacity; flask bottom visible or not; grains when the shaker stops.",
     why="Counts are once a day; density changes fast in the last 12 h.",
     tags=["HEK293T", "shake flask", "visual"], workshop=W_CAM1, author="D. Chen")
acta("CAM", "LVV", "cell_expansion", "2024-09-17", "past_and_future",
     "Plan the seed train backwards from the bioreactor date",
     """I plan the seed passages backwards from inoculation, with holidays marked, and keep a 4-day split option
     (seed at 0.3e6/mL). Then a lost day does not push a flask over 4e6 or the passage count over p25.""",
     cues="Calendar, passage number on the label, VCD trend.",
     why="It is tempting to plan forwards from today; the problem only appears the week of the bioreactor.",
     tags=["seed train", "planning", "passage"], workshop=W_CAM2, author="K. Lindqvist")
acta("CAM", "LVV", "transfection", "2024-03-14", "noticing",
     "The complex should be faintly opalescent, not hazy and not clear",
     """PEI:DNA complex at 2:1 turns faintly opalescent, like very diluted milk, at 10-15 min. Water-clear at
     15 min: check the PEI stock pH. Hazy or cloudy: it sat too long, complexes are too big. Add between 10 and
     20 min.""",
     cues="Complex appearance against a dark background; time since mixing.",
     why="All three look 'liquid in a bag' until you have seen them side by side.",
     tags=["PEI", "complex", "opalescence"], workshop=W_CAM1, author="K. Lindqvist")
acta("CAM", "LVV", "transfection", "2024-09-17", "big_picture",
     "Go / no-go for transfection: count first, then mix",
     """I look at four things before mixing complex: viability >= 95 %, VCD 1.8-2.2e6/mL, pH 7.0-7.2 and
     lactate under 2 g/L. Only then do I mix. The complex has a 20-min life; once it is mixed everybody wants to
     use it.""",
     cues="Viability, VCD, pH, lactate; cell morphology (single vs doublets).",
     why="The batch record order puts complex prep before the count; sunk-cost pressure once mixed.",
     tags=["go/no-go", "viability", "VCD"], workshop=W_CAM2, author="D. Chen")
acta("CAM", "LVV", "transfection", "2025-02-11", "anomalies",
     "Titer drops when the complex gets warm or waits",
     """When titer is low with normal cells, I first ask how long the complex waited and where it stood. Under
     the BSC lamp the bag gets warm and the complex grows faster. Addition line welded and pump primed before
     mixing.""",
     cues="Complex bag warm to the touch; haze; time on the timer.",
     why="The complex step is treated as trivial mixing.",
     tags=["complex", "temperature", "titer"], workshop=W_CAM3, author="K. Lindqvist")
acta("CAM", "LVV", "harvest", "2024-09-17", "past_and_future",
     "Strings on the harvest bag wall mean the depth filter will block",
     """If the harvest pulls translucent strands like egg white on the bag wall, the depth filter will blind.
     We add Benzonase 10 U/mL with 2 mM MgCl2 into the bioreactor 60 min before harvest, with agitation on.
     Since then the Sartoclear dP stays flat. It is in our WI-LVV-112 but not in the batch record text.""",
     cues="Strands on the bag wall; harvest pulling threads off the pipette; viability at harvest < 70 %.",
     why="Nuclease is officially a later step (after clarification), so nobody thinks of it at harvest; the WI is a local document.",
     tags=["pre-harvest nuclease", "benzonase", "depth filter", "DNA strings"], workshop=W_CAM2,
     author="K. Lindqvist", k="kh_preharvest")
acta("CAM", "LVV", "clarification", "2024-09-17", "job_smarts",
     "Ramp the pump and trend dP every 5 minutes",
     """Start the clarification pump at 1.0 L/min and ramp to 1.5 over 5 min. Write dP down every 5 min; if it
     rises more than 0.3 bar in 10 min, stop and look at the harvest. Always have one flushed spare capsule at
     the skid.""",
     cues="dP trend, not the absolute value; strands in the line; capsule housing sound (hiss at the vent).",
     why="The alarm is at 1.0 bar, by then the capsule is gone; the trend tells you 20 min earlier.",
     tags=["dP trend", "pump ramp", "spare capsule"], workshop=W_CAM2, author="D. Chen")
acta("CAM", "LVV", "clarification", "2025-02-11", "anomalies",
     "Filtrate going hazy after a pressure spike means breakthrough",
     """After a dP spike the filtrate in the sight glass can turn hazy. That is breakthrough of the primary
     stage, not 'a bit of debris'. Stop, collect that fraction separately, and put it through a fresh secondary
     stage.""",
     cues="Haze in the sight glass right after a spike; turbidity > 20 NTU.",
     why="The filtrate looks only slightly different; people let it run into the pool.",
     tags=["breakthrough", "turbidity"], workshop=W_CAM3, author="D. Chen")
acta("CAM", "LVV", "nuclease_treatment", "2024-03-14", "noticing",
     "Pipette thread test for nuclease activity",
     """Before Benzonase the clarified harvest pulls a short thread off a 10 mL pipette. After 30 min of a good
     nuclease step it runs off like water. If it still threads at 60 min, check MgCl2 and the Benzonase lot.""",
     cues="Thread off the pipette tip; viscosity.",
     why="The residual DNA result takes days; this is instant.",
     tags=["viscosity", "Benzonase", "MgCl2"], workshop=W_CAM1, author="D. Chen")
acta("CAM", "LVV", "tff", "2024-09-17", "equipment_difficulties",
     "The KR2i pump tells you about air and worn tubing before the TMP does",
     """A slurping sound at a buffer switch means air in the feed; a regular tick at each roller pass means a
     worn pump segment (flow drops ~8 %). Do a 1-min bucket test at setup; the display shows set flow, not real
     flow.""",
     cues="Pump sound (slurp, tick); bucket test volume; TMP at steady flux.",
     why="The skid display is trusted; it does not measure flow, it reports the set point.",
     tags=["pump", "sound", "bucket test"], workshop=W_CAM2, author="K. Lindqvist")
acta("CAM", "LVV", "tff", "2024-09-17", "self_monitoring",
     "I stopped 'helping' the TFF with the retentate valve",
     """I used to squeeze the retentate valve to speed up concentration. It raises TMP and shears the vector -
     recovery drops. Now the recipe sets the valve and I accept the time. Same with concentration factor: stop
     at 20x even if the retentate still looks thin.""",
     cues="TMP above 1.2 bar; flux falling; retentate turning syrupy.",
     why="Faster feels productive and the damage shows only in titer days later.",
     tags=["shear", "retentate valve", "concentration factor"], workshop=W_CAM2, author="D. Chen")
acta("CAM", "LVV", "chromatography", "2024-09-17", "opportunities_improvising",
     "Turbid retentate: slow the Mustang Q load, collect eluate into dilution buffer",
     """If the retentate shows any haze against the lamp I load the Mustang Q at 6 MV/min and watch pressure.
     The salt eluate goes straight into a bag pre-filled with dilution buffer so it never sits at 1.2 M NaCl.""",
     cues="Haze in retentate; backpressure trend; time eluate spends at high salt.",
     why="The method runs at one flow; the vector's salt sensitivity is not visible.",
     tags=["Mustang Q", "load flow", "salt"], workshop=W_CAM2, author="K. Lindqvist")
acta("CAM", "LVV", "chromatography", "2025-02-11", "equipment_difficulties",
     "UV drift on the ÄKTA ready: trust conductivity for the peak window",
     """When the UV baseline drifts up in the salt step the peak trigger fires late. I watch the conductivity
     trace: the vector comes off about 0.5 MV after conductivity reaches the step plateau. I start collection
     by hand at that point if UV is drifting.""",
     cues="UV baseline slope; conductivity plateau; volume counter.",
     why="The method collects on UV; a drifting flow cell looks like product.",
     tags=["UV", "conductivity", "peak collection"], workshop=W_CAM3, author="D. Chen")
acta("CAM", "LVV", "sterile_filtration", "2024-09-17", "job_smarts",
     "Flush the 0.2 um with formulation buffer and keep pressure at 1 bar",
     """Wet and flush the Sartopore 2 with formulation buffer, not WFI, discard the first 30 mL, and filter at
     1.0 bar. Higher pressure pushes vector into the membrane; WFI dilutes the bulk.""",
     cues="Pressure gauge; first filtrate appearance; recovery trend.",
     why="It is 'just a filter'; losses only show at the titer.",
     tags=["0.2 um", "flush", "pressure"], workshop=W_CAM2, author="K. Lindqvist")
acta("CAM", "LVV", "fill_finish", "2025-02-11", "job_smarts",
     "Reverse pipetting for the viscous vector formulation",
     """The formulated vector is a bit viscous. Reverse pipetting with a 2-second pause after aspiration gives
     even fills; weigh every 10th vial on the isolator balance.""",
     cues="Liquid clinging in the tip; fill weights drifting low.",
     why="Forward pipetting works with buffer in training, not with product.",
     tags=["pipetting", "fill volume"], workshop=W_CAM3, author="D. Chen")

# LEI, CAR-T
acta("LEI", "CAR-T", "apheresis_receipt", "2025-04-15", "anomalies",
     "Late or leaking apheresis: what we check before it enters the suite",
     """A wet overwrap, a broken or non-matching seal, or a product more than 24 h old means stop at receipt. We photograph,
     check seal numbers, look for aggregates against the light box and call QA before opening the overwrap.""",
     cues="Wet overwrap; seal number vs manifest; white aggregates; hours since collection.",
     why="The receipt SOP is about paperwork; nobody tells you to look at the product itself.",
     tags=["receipt", "aggregates", "leak"], workshop=W_LEI2, author="E. de Vries")
acta("LEI", "CAR-T", "tcell_selection", "2024-10-08", "job_smarts",
     "Read-back and touch check of every clamp",
     """Second operator reads each clamp from the installation screen, first operator touches the clamp and says
     open/closed. Two minutes, and no more P3 alarms at column loading.""",
     cues="Clamp positions vs screen.",
     why="A ticked checklist feels done; the clamps look similar.",
     tags=["clamps", "read-back"], workshop=W_LEI1, author="L. Visser")
acta("LEI", "CAR-T", "activation", "2025-04-15", "past_and_future",
     "Late apheresis: start next morning instead of activating at night",
     """If selection ends after 20:00 we hold cells overnight and activate in the morning, so transduction falls
     inside the 20-28 h window on day shift. Activating at 21:30 pushed the vector to day 2 and cost %CAR+.""",
     cues="Arrival time; selection end time; planned transduction time.",
     why="Starting right away feels like saving time.",
     tags=["scheduling", "activation", "transduction window"], workshop=W_LEI2, author="E. de Vries")
acta("LEI", "CAR-T", "transduction", "2024-10-08", "noticing",
     "Vector volume that looks small compared with CAM",
     """We compare our vector volume with CAM's for a similar cell number. When ours was 2.1 mL vs their 4.3 mL
     the MOI sheet used an old CoA titer.""",
     cues="Vector volume vs CAM and previous lots.",
     why="You trust the sheet; a small volume does not look wrong by itself.",
     tags=["MOI", "vector volume"], workshop=W_LEI1, author="N. Smit")
acta("LEI", "CAR-T", "expansion", "2024-10-08", "equipment_difficulties",
     "Incubator shelf not level: cells bunch in the corners",
     """G-Rex cell beds bunched in two corners on shelf 3. Spirit level showed 2 degrees. The incubator display
     says nothing. We level shelves monthly and look under the flask with a torch at day 3.""",
     cues="Cell bed bunched in corners; spirit level.",
     why="Nobody thinks of the shelf; growth just looks slower.",
     tags=["G-Rex", "shelf level"], workshop=W_LEI1, author="L. Visser")
acta("LEI", "CAR-T", "expansion", "2025-04-15", "big_picture",
     "Feed plan on the flask, lactate and colour every morning",
     """We print feed days on the G-Rex label and check lactate and colour every morning. CAM taught us: orange
     turning orange-yellow or lactate > 1.8 g/L = feed early. Growth at day 6 tells us if the planned harvest
     day will make dose.""",
     cues="Medium colour; lactate; VCD trend; label feed plan.",
     why="Shift changes lose the plan if it only lives on a whiteboard.",
     tags=["feed plan", "lactate"], workshop=W_LEI2, author="N. Smit")
acta("LEI", "CAR-T", "harvest_wash", "2025-04-15", "self_monitoring",
     "Sepax run time as a self-check",
     """I learned to note the Sepax run time. A wash that finishes in 22 min instead of ~35 min means I picked
     the wrong protocol. I now read the protocol name back before pressing start.""",
     cues="Run time vs usual; protocol name on screen.",
     why="The Sepax does not warn about the wrong protocol for the volume.",
     tags=["Sepax", "protocol"], workshop=W_LEI2, author="L. Visser")
acta("LEI", "CAR-T", "cryopreservation", "2024-10-08", "noticing",
     "The LN2 hiss tells you the dewar is running low",
     """During a CRF run the LN2 injection makes a steady hiss. When it turns weak and spluttery the dewar is
     nearly empty and the cooling rate will fall. Check the gauge before the run and keep a full spare next to
     the CRF.""",
     cues="Weak, spluttering LN2 hiss; dewar gauge; cooling rate on the screen.",
     why="You get used to the noise and stop listening.",
     tags=["LN2", "sound", "CRF"], workshop=W_LEI1, author="E. de Vries")
acta("LEI", "CAR-T", "release_testing", "2025-07-09", "equipment_difficulties",
     "Vi-CELL calls intact thawed cells dead",
     """On freshly thawed CAR-T the Vi-CELL BLU shows many grey, smooth-edged cells counted as dead; the NC-200
     on the same suspension reads 5-9 points higher. After 30 min in medium the gap shrinks. The release
     specification was set on NC-200 data.""",
     cues="Grey smooth cells in the images; gap to NC-200; time since thaw.",
     why="Both instruments give a number with one decimal; nobody expects them to disagree.",
     tags=["Vi-CELL", "NC-200", "viability"], workshop=W_LEI3, author="N. Smit")

# LEI, LVV (no chromatography know-how at LEI: deliberate gap)
acta("LEI", "LVV", "cell_expansion", "2025-04-15", "anomalies",
     "A DO trace with no noise is a dead probe",
     """A real DO trace always wiggles. A perfectly flat line at 40.0 % for two hours is a frozen probe; the
     backup showed 5 %. Look at the trend, not the number.""",
     cues="Flat DO trend; difference between primary and backup probe.",
     why="40 % is the set point, so a frozen reading looks perfect.",
     tags=["DO", "probe", "trend"], workshop=W_LEI2, author="T. Bakker")
acta("LEI", "LVV", "cell_expansion", "2024-10-10", "opportunities_improvising",
     "Let the metabolite sample stand before the FLEX2",
     """Samples from the sparged XDR-50 are full of micro-bubbles. Stand the syringe tip-up for 2 min and
     expel the first 0.5 mL; repeats then agree.""",
     cues="Bubbles in the syringe; repeat values jumping.",
     why="The analyser gives a result anyway.",
     tags=["FLEX2", "sampling"], workshop=W_LEI1, author="R. Jansen")
acta("LEI", "LVV", "transfection", "2024-10-10", "self_monitoring",
     "I count before I mix the complex",
     """After transfecting at 88 % because the complex was already made, I changed the order: count, decide,
     then mix. If the count is out, I call the supervisor before anything is mixed.""",
     cues="Viability and VCD before complexation; own urge to use what is prepared.",
     why="The MBR order and the clock push you to prepare early.",
     tags=["sequence", "viability"], workshop=W_LEI1, author="T. Bakker")
acta("LEI", "LVV", "transfection", "2025-07-09", "opportunities_improvising",
     "Pressure transfer for the 200 L complex addition",
     """At 200 L a peristaltic pump takes 25 min for 20 L of complex. We push it with 0.5 bar from a 20 L bag
     through a 1/2 inch line: under 4 min, titer back to 1.6-2.0e7 TU/mL.""",
     cues="Addition time; complex age at the end of addition.",
     why="Equipment was scaled from 50 L by volume only.",
     tags=["200 L", "addition", "scale-up"], workshop=W_LEI3, author="R. Jansen")
acta("LEI", "LVV", "harvest", "2025-07-09", "anomalies",
     "At 200 L the harvest settles into flocs within 15 minutes",
     """Take a 1 L bottle sample at harvest and leave it 15 min. At 50 L it stays evenly cloudy; at 200 L we see
     white flocs on the bottom and strings. Those harvests always block the depth filter. Viability at harvest is
     lower at 200 L (55-62 % vs 70-75 %).""",
     cues="Flocs settling in a bottle sample; strings; viability at harvest.",
     why="The harvest bag is too big to see into; the change came with scale-up and nobody compared.",
     tags=["200 L", "flocs", "harvest viability"], workshop=W_LEI3, author="T. Bakker")
acta("LEI", "LVV", "clarification", "2025-04-15", "past_and_future",
     "Stage spares when the harvest looks bad",
     """If the harvest viability is under 65 % or the sample shows strings, we expect to need twice the
     capsules. Stage two flushed spare capsules at the skid before starting and trend dP every 5 min (CAPA-2025-004).""",
     cues="Harvest viability; strings; dP slope in the first 10 min.",
     why="The MBR gives one filter set; running out mid-filtration means a long hold.",
     tags=["spares", "dP trend", "CAPA-2025-004"], workshop=W_LEI2, author="R. Jansen")
acta("LEI", "LVV", "tff", "2024-10-10", "noticing",
     "Ethanol smell at the permeate outlet = module not flushed",
     """If you smell ethanol at the permeate outlet when concentration starts, the hollow fibre was not flushed
     of storage solution and flux will collapse. Stop and flush 50 L/m2.""",
     cues="Ethanol smell; flux dropping in first 15 min.",
     why="The setup checklist was ticked; the smell is the only live sign.",
     tags=["smell", "flush", "flux"], workshop=W_LEI1, author="T. Bakker")
acta("LEI", "LVV", "sterile_filtration", "2024-10-10", "equipment_difficulties",
     "Integrity test fails when the filter is cold",
     """Bubble point fails on filters taken straight from the cold room: wetting is incomplete. Wet 10 min at
     20 C, drain fully, and check the temperature shown on the tester before accepting a fail.""",
     cues="Filter temperature; tester temperature reading; marginal bubble point.",
     why="A failed test looks like a filter defect, so people re-filter instead of re-wetting.",
     tags=["integrity test", "temperature"], workshop=W_LEI1, author="R. Jansen")
acta("LEI", "LVV", "fill_finish", "2025-04-15", "noticing",
     "Check the first label of the day against the BR, and look at the vial necks",
     """Compare the first printed label with the BR before labelling more than one vial; print runs set up the
     day before keep the old date. Under the inspection lamp, glints at the vial neck mean chipped glass.""",
     cues="Label date; glints at the neck; particles.",
     why="Labels look right at a glance; chips are tiny.",
     tags=["labels", "visual inspection"], workshop=W_LEI2, author="T. Bakker")


# ----------------------------------------------------------------------------------------------
# STEP STATE CARDS (know-how, template step_state_card): LVV transfection, CAR-T cryopreservation,
# LVV clarification, CAR-T expansion; every part from both sites.
# PLANTED DISAGREEMENT: LVV transfection readiness, "viability at transfection" (CAM >= 95 %,
# LEI >= 90 %) and "VCD at transfection" (CAM 1.8-2.2, LEI 1.5-2.5 x10^6 cells/mL).
# ----------------------------------------------------------------------------------------------
E6 = "x10^6 cells/mL"

# LVV transfection - CAM
card("CAM", "LVV", "transfection", "2024-10-22", "readiness", "viability at transfection", 95, None, "%",
     "Transfect only at viability >= 95 %",
     """We transfect only when the HEK293T culture is at 95 % viability or higher (NC-200). Below that, titer
     and TU/p24 drop and the harvest carries more debris.""",
     tags=["viability"], author="K. Lindqvist", k="ssc_cam_via")
card("CAM", "LVV", "transfection", "2024-10-22", "readiness", "VCD at transfection", 1.8, 2.2, E6,
     "VCD at transfection 1.8-2.2e6 cells/mL",
     """Viable cell density at transfection between 1.8 and 2.2e6 cells/mL. Above 2.2e6 the cells are past the
     sweet spot (pH and lactate drift); below 1.8e6 the DNA per cell is too high.""",
     tags=["VCD"], author="D. Chen", k="ssc_cam_vcd")
card("CAM", "LVV", "transfection", "2024-10-22", "transition", "complex time", 10, 20, "min",
     "Add the PEI:DNA complex 10-20 min after mixing",
     """PEI:DNA 2:1 complex is added between 10 and 20 minutes after mixing; addition line welded and primed
     before the complex is mixed.""",
     tags=["complex"], author="K. Lindqvist")
card("CAM", "LVV", "transfection", "2024-10-22", "success_cue", "complex appearance", None, None, None,
     "Faint opalescence at 10-15 min means a good complex",
     """The complex turns faintly opalescent at 10-15 min. Water-clear or hazy/cloudy means something is off
     (PEI pH, time, temperature).""",
     tags=["visual"], author="D. Chen")
card("CAM", "LVV", "transfection", "2024-10-22", "stabiliser", "pH after transfection", 7.0, 7.2, "pH",
     "Hold pH 7.0-7.2 for the first 24 h after transfection",
     """Keep pH 7.0-7.2 (CO2 and base) for the first 24 h post-transfection; cells are stressed and acidify
     faster.""",
     tags=["pH"], author="K. Lindqvist")
card("CAM", "LVV", "transfection", "2024-10-22", "reversion_risk", "lactate at transfection", None, 2.0, "g/L",
     "Lactate above 2 g/L at transfection: titer falls",
     """If lactate is above 2.0 g/L at transfection the culture is over-grown and titer falls, whatever the
     VCD says.""",
     tags=["lactate"], author="D. Chen")

# LVV transfection - LEI
card("LEI", "LVV", "transfection", "2025-02-18", "readiness", "viability at transfection", 90, None, "%",
     "Transfect at viability >= 90 %",
     """MBR-LV-50 acceptance for transfection is viability >= 90 % on the Vi-CELL BLU. We transfect from 90 %;
     waiting for 95 % costs a day at 50 L and 200 L.""",
     tags=["viability"], author="T. Bakker", k="ssc_lei_via")
card("LEI", "LVV", "transfection", "2025-02-18", "readiness", "VCD at transfection", 1.5, 2.5, E6,
     "VCD at transfection 1.5-2.5e6 cells/mL",
     """We accept 1.5 to 2.5e6 viable cells/mL at transfection (MBR range). Plasmid and PEI amounts are scaled to
     the measured VCD within that range.""",
     tags=["VCD"], author="R. Jansen", k="ssc_lei_vcd")
card("LEI", "LVV", "transfection", "2025-02-18", "transition", "complex time", 10, 20, "min",
     "Complex time 10-20 min, then addition in under 5 min",
     """Add the complex 10-20 min after mixing and complete the addition within 5 min (pressure transfer at
     200 L).""",
     tags=["complex", "addition time"], author="R. Jansen")
card("LEI", "LVV", "transfection", "2025-02-18", "success_cue", "viability 24 h post-transfection", 85, None, "%",
     "Viability >= 85 % at 24 h after transfection",
     """At 24 h post-transfection viability should still be at least 85 %. A faster drop predicts low titer and a
     dirty harvest.""",
     tags=["viability"], author="T. Bakker")
card("LEI", "LVV", "transfection", "2025-02-18", "stabiliser", "pH after transfection", 7.0, 7.2, "pH",
     "pH 7.0-7.2 after transfection",
     """pH control 7.0-7.2 after transfection; CO2 sparge reduced if pH drops below 7.0.""",
     tags=["pH"], author="R. Jansen")
card("LEI", "LVV", "transfection", "2025-02-18", "reversion_risk", "PEI stock pH", 6.9, 7.1, "pH",
     "PEI working stock outside pH 6.9-7.1 spoils the complex",
     """PEI working stock must be at pH 7.0 +/- 0.1. At pH 7.4 the complex stays clear and titer falls by about
     75 %.""",
     tags=["PEI", "pH"], author="T. Bakker")

# CAR-T cryopreservation - CAM
card("CAM", "CAR-T", "cryopreservation", "2024-10-29", "readiness", "CRF chamber temperature at loading", None, 4,
     "°C", "Load bags only when the CRF chamber is at +4 C or colder",
     """Chamber at +4 C or below before bags go in (pre-cool hold in profile CAR-T_v4).""",
     tags=["CRF", "pre-cool"], author="M. Okafor")
card("CAM", "CAR-T", "cryopreservation", "2024-10-29", "transition", "cooling rate", -1.2, -0.8, "°C/min",
     "Cooling at about -1 C/min through the critical range",
     """Cooling rate -1 C/min (accept -0.8 to -1.2) from +4 C to -40 C, then faster to -90 C.""",
     tags=["cooling rate"], author="J. Reyes")
card("CAM", "CAR-T", "cryopreservation", "2024-10-29", "success_cue", "sample temperature rise after nucleation",
     None, 2, "°C", "Sample rises no more than 2 C after nucleation",
     """A good curve shows the chamber dipping hard at nucleation and the sample rising no more than 2 C.""",
     tags=["nucleation"], author="M. Okafor")
card("CAM", "CAR-T", "cryopreservation", "2024-10-29", "stabiliser", "DMSO exposure before CRF start", None, 30,
     "min", "DMSO exposure before CRF start at most 30 min",
     """From the first CryoStor contact to CRF start at most 30 min; formulate in parallel to stay well inside.""",
     tags=["DMSO"], author="J. Reyes")
card("CAM", "CAR-T", "cryopreservation", "2024-10-29", "reversion_risk", "storage / shipping temperature", None,
     -150, "°C", "Any warming above -150 C after freezing costs viability",
     """After freezing, storage and shipping must stay at or below -150 C. Excursions (dry shipper hold, slow
     transfer) show up as low post-thaw viability.""",
     tags=["cold chain"], author="S. Patel")

# CAR-T cryopreservation - LEI
card("LEI", "CAR-T", "cryopreservation", "2025-02-25", "readiness", "CRF chamber temperature at loading", None, 4,
     "°C", "CRF at +4 C before loading; LN2 dewar above 50 %",
     """Chamber at +4 C or colder and LN2 dewar above 50 % before loading; spare dewar next to the CRF.""",
     tags=["CRF", "LN2"], author="E. de Vries")
card("LEI", "CAR-T", "cryopreservation", "2025-02-25", "transition", "cooling rate", -1.2, -0.8, "°C/min",
     "Cooling rate -1 C/min, accept -0.8 to -1.2",
     """Cooling at -1 C/min between +4 C and -40 C; a slower rate means LN2 supply trouble.""",
     tags=["cooling rate"], author="N. Smit")
card("LEI", "CAR-T", "cryopreservation", "2025-02-25", "success_cue", "bag temperature at transfer to LN2", None,
     -90, "°C", "Bags at -90 C or colder at the end of the profile",
     """Profile end: sample probe at -90 C or colder before the bags go to vapour-phase LN2.""",
     tags=["end point"], author="E. de Vries")
card("LEI", "CAR-T", "cryopreservation", "2025-02-25", "stabiliser", "DMSO exposure before CRF start", None, 30,
     "min", "At most 30 min in DMSO before the freeze starts",
     """CryoStor to CRF start within 30 min; cold blocks keep the bags at 2-8 C meanwhile.""",
     tags=["DMSO", "cold block"], author="N. Smit")
card("LEI", "CAR-T", "cryopreservation", "2025-02-25", "reversion_risk", "transfer time CRF to LN2 storage", None,
     3, "min", "Transfer from CRF to LN2 storage within 3 min",
     """Bags out of the CRF and into vapour-phase LN2 within 3 minutes, in a pre-cooled transfer box. Transient
     warming during transfer is a hidden source of low post-thaw viability.""",
     tags=["transfer", "warming"], author="L. Visser")

# LVV clarification - CAM
card("CAM", "LVV", "clarification", "2025-01-14", "readiness", "pre-harvest nuclease contact time", 45, None,
     "min", "Pre-harvest Benzonase in the bioreactor at least 45 min before harvest",
     """Benzonase 10 U/mL + 2 mM MgCl2 into the bioreactor at least 45 min (target 60 min) before harvest. Without
     it, the harvest carries DNA strings that blind the depth filter.""",
     tags=["benzonase", "pre-harvest"], author="K. Lindqvist", k="ssc_cam_preharvest")
card("CAM", "LVV", "clarification", "2025-01-14", "transition", "start flow", 1.0, 1.5, "L/min",
     "Start at 1.0 L/min and ramp to 1.5 L/min over 5 min",
     """Pump starts at 1.0 L/min and ramps to 1.5 L/min over 5 min; starting at full flow packs clumps into the
     primary stage.""",
     tags=["pump ramp"], author="D. Chen")
card("CAM", "LVV", "clarification", "2025-01-14", "success_cue", "filtrate turbidity", None, 20, "NTU",
     "Clear filtrate under 20 NTU",
     """Filtrate turbidity under 20 NTU and visibly clear in the sight glass.""",
     tags=["turbidity"], author="D. Chen")
card("CAM", "LVV", "clarification", "2025-01-14", "stabiliser", "capsule pre-flush volume", 20, None, "L/m2",
     "Pre-flush capsules with at least 20 L/m2",
     """Flush depth filter capsules with at least 20 L/m2 buffer before product.""",
     tags=["flush"], author="K. Lindqvist")
card("CAM", "LVV", "clarification", "2025-01-14", "reversion_risk", "dP rise in 10 min", None, 0.3, "bar",
     "dP rising more than 0.3 bar in 10 min: stop and look",
     """If dP rises more than 0.3 bar in 10 min, stop: the filter will blind. Check the harvest for strings and
     whether the pre-harvest nuclease was done.""",
     tags=["dP trend"], author="D. Chen")

# LVV clarification - LEI
card("LEI", "LVV", "clarification", "2025-08-05", "readiness", "harvest viability", 65, None, "%",
     "Harvest viability >= 65 % or stage double spares",
     """Harvest viability at or above 65 % for a one-set clarification; below that (typical at 200 L) stage two
     extra flushed capsules.""",
     tags=["harvest viability", "200 L"], author="T. Bakker")
card("LEI", "LVV", "clarification", "2025-08-05", "transition", "primary stage flux", 100, 150, "LMH",
     "Primary stage flux 100-150 LMH",
     """Primary depth filter flux 100-150 LMH; lower flux did not give more throughput per m2 at 200 L.""",
     tags=["flux"], author="R. Jansen")
card("LEI", "LVV", "clarification", "2025-08-05", "success_cue", "filtrate turbidity", None, 20, "NTU",
     "Filtrate turbidity below 20 NTU",
     """Clarified filtrate below 20 NTU; above that, collect separately and re-filter.""",
     tags=["turbidity"], author="R. Jansen")
card("LEI", "LVV", "clarification", "2025-08-05", "stabiliser", "capsule pre-flush volume", 20, None, "L/m2",
     "Pre-flush every capsule with >= 20 L/m2 (CAPA-2025-004)",
     """All capsules, spares included, pre-flushed with at least 20 L/m2 buffer.""",
     tags=["flush", "CAPA-2025-004"], author="T. Bakker")
card("LEI", "LVV", "clarification", "2025-08-05", "reversion_risk", "dP rise in 10 min", None, 0.3, "bar",
     "Stop-and-call at +0.3 bar dP in 10 min",
     """dP trend every 5 min; more than 0.3 bar rise in 10 min = stop and call MSAT (CAPA-2025-004).""",
     tags=["dP trend"], author="R. Jansen")

# CAR-T expansion - CAM
card("CAM", "CAR-T", "expansion", "2025-01-21", "readiness", "seeding density", 0.5, 1.0, "x10^6 cells/cm2",
     "Seed the G-Rex 100M at 0.5-1.0e6 cells/cm2",
     """G-Rex 100M-CS seeded at 0.5-1.0e6 viable cells per cm2 after transduction.""",
     tags=["seeding"], author="M. Okafor")
card("CAM", "CAR-T", "expansion", "2025-01-21", "transition", "feed trigger lactate", None, 1.8, "g/L",
     "Feed when lactate passes 1.8 g/L",
     """Feed (medium addition) when lactate passes 1.8 g/L or the medium turns orange-yellow, even ahead of the
     planned day.""",
     tags=["feed", "lactate"], author="S. Patel")
card("CAM", "CAR-T", "expansion", "2025-01-21", "success_cue", "clusters visible", None, None, None,
     "Clusters visible by day 3-4",
     """Clusters visible by eye or microscope by day 3-4 and an even, thick bed by day 6 mean a normal run.""",
     tags=["clusters"], author="M. Okafor")
card("CAM", "CAR-T", "expansion", "2025-01-21", "stabiliser", "medium pH", 6.9, 7.3, "pH",
     "Keep medium pH 6.9-7.3",
     """Medium pH between 6.9 and 7.3; incubator CO2 5 % with auto-changeover bottles.""",
     tags=["pH", "CO2"], author="J. Reyes")
card("CAM", "CAR-T", "expansion", "2025-01-21", "reversion_risk", "glucose", 1.0, None, "g/L",
     "Glucose below 1 g/L stalls growth within a day",
     """If glucose falls below 1.0 g/L the culture stalls within a day and phenotype shifts; feed immediately.""",
     tags=["glucose"], author="S. Patel")

# CAR-T expansion - LEI
card("LEI", "CAR-T", "expansion", "2025-06-24", "readiness", "post-transduction viability", 80, None, "%",
     "Post-transduction viability >= 80 % before seeding the G-Rex",
     """Viability at least 80 % after transduction before the cells go into the G-Rex.""",
     tags=["viability"], author="E. de Vries")
card("LEI", "CAR-T", "expansion", "2025-06-24", "transition", "feed trigger lactate", None, 1.8, "g/L",
     "Feed at lactate > 1.8 g/L",
     """Feed early when lactate is above 1.8 g/L (same rule as CAM).""",
     tags=["feed", "lactate"], author="N. Smit")
card("LEI", "CAR-T", "expansion", "2025-06-24", "success_cue", "fold expansion by day 9", 30, None, "fold",
     "Fold expansion >= 30x by day 9",
     """At least 30-fold expansion by day 9; under 15x, plan a later harvest.""",
     tags=["fold expansion"], author="L. Visser")
card("LEI", "CAR-T", "expansion", "2025-06-24", "stabiliser", "incubator CO2", 4.5, 5.5, "%",
     "Incubator CO2 4.5-5.5 %",
     """Incubator CO2 between 4.5 and 5.5 %; alarm escalation to the supervisor after 15 min.""",
     tags=["CO2", "incubator"], author="E. de Vries")
card("LEI", "CAR-T", "expansion", "2025-06-24", "reversion_risk", "shelf tilt", None, 1, "degree",
     "Shelf tilt over 1 degree: cell bed drifts to the corners",
     """Shelf tilt above 1 degree lets the cell bed drift to the corners; growth slows. Level monthly.""",
     tags=["shelf level"], author="L. Visser")


# ----------------------------------------------------------------------------------------------
# Plain know-how (notes, hand-over sheets)
# ----------------------------------------------------------------------------------------------
know("CAM", "CAR-T", "apheresis_receipt", "2024-06", "DNase wash for clumpy or old apheresis product",
     """For apheresis product older than 24 h or with visible clumps, a 30-min DNase I wash (100 U/mL) before the
     Prodigy selection keeps the column from clogging. Approved as a planned deviation option.""",
     tags=["DNase", "clumps", "apheresis product"], author="M. Okafor")
know("CAM", "CAR-T", "transduction", "2024-05", "One vector aliquot, one lot, one thaw",
     """Lentiviral vector for transduction comes in single-use aliquots. Never refreeze a thawed vial - the
     functional titer on T cells drops by a third or more. Red dot on the cap at first thaw.""",
     tags=["vector", "freeze-thaw"], author="S. Patel")
know("CAM", "CAR-T", "release_testing", "2025-01", "Cell counters are not interchangeable for thawed product",
     """Bridging data (TR-0931): dual-fluorescence counting (NC-200) and trypan blue (Vi-CELL BLU) differ by 3-9
     viability points on freshly thawed CAR-T. Specifications set on one method do not transfer to the other
     without a comparability study.""",
     tags=["comparability", "viability"], author="A. Brennan")
know("LEI", "CAR-T", "formulation", "2025-05", "Cold blocks under the bags from CryoStor to CRF",
     """Bags sit on 2-8 C cold blocks from the first CryoStor CS10 contact until loading; dimethyl sulfoxide is
     more toxic at room temperature, and a warm room does not show on the clock.""",
     tags=["DMSO", "cold block"], author="N. Smit")
know("CAM", "LVV", "tff", "2024-11", "Accept a TFF module only on normalised water flux",
     """Before use, measure normalised water permeability; accept at >= 80 % of the new-module value. A module
     that was not flushed or was stored badly shows up here before it costs flux and shear on product.""",
     tags=["water flux", "membrane"], author="K. Lindqvist")
know("LEI", "LVV", "clarification", "2024-08", "Stage one flushed spare filter set at the skid",
     """Since July we stage one complete, pre-flushed spare Sartoclear set at the clarification skid for every
     run. Fetching one from the warehouse takes 40 min while the harvest waits.""",
     tags=["spare filter", "depth filtration"], author="R. Jansen")
know("LEI", "LVV", "harvest", "2025-08", "XDR-200: DO cascade drives agitation up late in the run",
     """At 200 L the DO cascade raises agitation from 70 to about 95 rpm by 48 h post-transfection. At 50 L it
     stays near 80 rpm. Higher tip speed plus lower viability at harvest could mean more lysed cells and more
     free DNA in the harvest. Not yet compared with clarification data.""",
     tags=["agitation", "shear", "200 L"], author="T. Bakker", k="kh_agit")
know("CAM", "LVV", "sterile_filtration", "2025-04", "0.45/0.2 um combination for opalescent eluate",
     """When the chromatography eluate is opalescent, use the Sartopore 2 with the 0.45 um prefilter layer and
     cap the pressure at 1.0 bar. A straight 0.2 um membrane plugs and loses vector.""",
     tags=["prefilter", "opalescent"], author="D. Chen")
know("CAM", "LVV", "harvest", "2025-03", "Harvest window 46-50 h; plan transfection for day-shift harvest",
     """Harvest between 46 and 50 h after transfection. Early harvest loses titer; late harvest (> 52 h) means
     more lysis and a stringy harvest that blocks the depth filter. Plan transfection late morning so the
     harvest lands on a day shift.""",
     tags=["harvest window", "planning"], author="K. Lindqvist")


# ----------------------------------------------------------------------------------------------
# LESSONS LEARNED
# ----------------------------------------------------------------------------------------------
lesson("ll01", "CAM", "CAR-T", "release_testing", "2024-04", "A thaw is a process step, not a lab habit",
       """Two analysts, two thaw styles, one OOS. The thaw needs a timed endpoint and a dilution rule written
       down like any manufacturing step, and the same rule must go to the clinical sites.""",
       driving_event="Post-thaw viability OOS (64 %, 67 %) on retains with normal pre-freeze viability.",
       recommendation="Timed thaw to the last ice crystal, dropwise dilution, count within 10 min; train QC and clinical sites on the same card.",
       rel=["a1"], tags=["thaw", "OOS"], author="A. Brennan")
lesson("ll02", "LEI", "CAR-T", "apheresis_receipt", "2024-05", "Chain of identity checks start at the collection centre",
       """The DIN mismatch was a typing error on a hand-written manifest. Our receipt check caught it, but the
       fix belongs upstream: manifests printed from the scheduling portal.""",
       driving_event="DIN on bag and manifest differed by one digit at first LEI receipt.",
       recommendation="Portal-printed manifests; two-person read-aloud check at receipt.",
       rel=["h2"], tags=["COI"], author="F. van Dijk")
lesson("ll03", "CAM", "CAR-T", "formulation", "2024-08", "Everything before the first drop of DMSO decides the exposure time",
       """Both the 47-min DMSO exposure and the not-pre-cooled CRF came from starting formulation before the
       freezer was ready. Make CRF readiness the gate for adding CryoStor.""",
       driving_event="DMSO exposure 47 min (June) and CRF loaded at +14 C (August).",
       recommendation="CRF at +4 C is a hold point before DMSO addition; parallel bag filling; countdown timer.",
       rel=["l1", "a3"], tags=["DMSO", "hold point"], author="J. Reyes")
lesson("ll04", "LEI", "CAR-T", "harvest_wash", "2025-03", "'Per SOP' hides the sending site's practice",
       """Debeading 'per SOP' meant two magnet passes at CAM and one at LEI. The second pass was never written
       because everyone at CAM just did it. Look for 'per SOP' and 'as usual' in the transfer package and ask.""",
       driving_event="Residual beads 180 per 3e6 cells at LEI; CAM had never exceeded 60.",
       recommendation="Transfer review of every 'per SOP' step with the sending-site operator present; shadow runs for manual steps.",
       rel=["k3"], tags=["transfer gap", "debeading"], author="F. van Dijk")
lesson("ll05", "CAM", "LVV", "transfection", "2024-03", "Connect first, mix second",
       """The low-titer batch had a perfect complex recipe; it just waited 42 minutes. The order of operations
       matters more than the recipe.""",
       driving_event="Crude titer 4.1e6 TU/mL after 42-min complex hold.",
       recommendation="Weld and prime the addition line before mixing complexes; visual cue (opalescent vs hazy) in the WI.",
       rel=["e1"], tags=["complex time"], author="K. Lindqvist")
lesson("ll06", "LEI", "LVV", "transfection", "2024-06", "Do not prepare what you might not be allowed to use",
       """We transfected at 88 % because the complex was ready. Preparing the complex before the go/no-go count
       creates pressure to proceed.""",
       driving_event="Transfection at 88 % viability, titer 6e6 TU/mL.",
       recommendation="Count, decide, then mix; out-of-range count is a hold point with QA.",
       rel=["e2"], tags=["go/no-go"], author="T. Bakker")
lesson("ll07", "LEI", "LVV", "nuclease_treatment", "2024-12", "Batch record layout can remove a step",
       """MgCl2 was on the next page and was simply missed. Related additions belong on one line.""",
       driving_event="Residual host-cell DNA 48 ng/dose after MgCl2 omission.",
       recommendation="Pre-mixed Benzonase/MgCl2 addition; one MBR line; review MBR page breaks during transfer.",
       rel=["o2"], tags=["MBR", "residual DNA"], author="F. van Dijk")
lesson("ll08", "CAM", "LVV", "tff", "2025-01", "The TFF skid shows set points, the pump tells the truth",
       """Two TMP excursions came from the pump: high flow after calibration and air at a buffer switch. Both
       were audible or measurable with a bucket before the TMP moved.""",
       driving_event="TMP 1.6 bar (March) and spike to 1.9 bar (December).",
       recommendation="Bucket test at setup; prime the buffer line; train operators on pump sounds.",
       rel=["f1", "f4"], tags=["TMP", "pump"], author="D. Chen")
lesson("ll09", "LEI", "LVV", "tff", "2025-05", "Replace a sensor, zero the sensor",
       """A new transducer with an offset hid a TMP excursion for a whole run. Maintenance work orders must end
       with a functional check against a reference.""",
       driving_event="Displayed TMP 0.4 bar while actual > 1.2 bar; TFF recovery 31 %.",
       recommendation="Zeroing and reference-gauge comparison on every sensor replacement and at run start.",
       rel=["f5"], tags=["maintenance", "calibration"], author="F. van Dijk")
lesson("ll10", "LEI", "LVV", "chromatography", "2025-03", "The vector does not tolerate waiting at high salt",
       """Both chromatography losses at LEI were salt: a buffer at 2.0 M and an eluate held 3 h at 1.2 M.
       Infectious titer falls while p24 stays.""",
       driving_event="Recovery 22 % (August 2024) and ~60 % titer loss after eluate hold (February 2025).",
       recommendation="Point-of-use conductivity check; collect eluate directly into dilution buffer.",
       rel=["n2", "n3"], tags=["salt", "vector stability"], author="R. Jansen")
lesson("ll11", "CAM", "CAR-T", "expansion", "2024-04", "An alarm that nobody escalates is not an alarm",
       """The CO2 alarm reached the on-call phone at 02:10 and was silenced. Medium went alkaline overnight.""",
       driving_event="Incubator CO2 at 2.1 % overnight, medium pH 7.6.",
       recommendation="Escalation chain with acknowledgement; auto-changeover CO2.",
       rel=["j1"], tags=["alarm", "incubator"], author="A. Brennan")
lesson("ll12", "LEI", "CAR-T", "expansion", "2025-03", "Pre-filled times are a data-integrity finding, even when the work was done",
       """The feed was done, but 85 min later than written. Equipment logs now make this visible.""",
       driving_event="Day-5 feed time pre-filled in the BR.",
       recommendation="Retraining with own cases; monthly comparison of BR times with door and BSC logs.",
       rel=["h5"], tags=["ALCOA", "data integrity"], author="F. van Dijk")
lesson("ll13", "LEI", "CAR-T", "release_testing", "2025-08", "A specification carries its measurement method with it",
       """The post-thaw viability specification was set with NC-200 data at CAM. LEI measured on the Vi-CELL BLU
       and got an OOS on a lot that passes on the NC-200. Method comparability has to be part of the transfer
       package.""",
       driving_event="Post-thaw viability 65 % on Vi-CELL vs 74 % on NC-200, same vial.",
       recommendation="Transfer analytical methods with the specification; bridge instruments before the first GMP lot.",
       rel=["a7", "a4"], tags=["comparability", "specification"], author="F. van Dijk")
lesson("ll14", "CAM", "CAR-T", "transduction", "2024-11", "HEK titer is not T-cell titer",
       """Two lots, two surprises: a refrozen vector gave 14 % CAR+, a strong vector lot gave VCN 5.8. The
       functional titer on T cells decides MOI.""",
       driving_event="%CAR+ 14 % (March) and VCN 5.8 (October).",
       recommendation="Single-thaw aliquots; T-cell titration for each vector lot to set MOI.",
       rel=["c1", "c3"], tags=["MOI", "VCN"], author="S. Patel")
lesson("ll15", "LEI", "LVV", "transfection", "2025-07", "50 L to 200 L: linear scaling of everything was not enough",
       """The first 200 L runs showed several scale effects at once: 25-min complex addition, more foam, lower
       harvest viability, more depth-filter capsules, lower 0.2 um recovery. Each was fixed locally; nobody
       looked at them together.""",
       driving_event="First three months of 200 L production at LEI.",
       recommendation="Scale-up review across unit operations (addition time, sparge/agitation, harvest quality, filter sizing) before the next scale change.",
       rel=["e6", "dz08", "g5"], tags=["scale-up", "200 L"], author="R. Jansen")
lesson("ll16", "LEI", "LVV", "clarification", "2025-08", "Repeat depth-filter blockages after CAPA-2025-004",
       """CAPA-2025-004 (more filter area, pre-flush, dP trend) was closed as effective in March after one
       batch. Since the move to 200 L in May the blockages have come back almost every batch. The CAPA
       treated capacity, not the cause: clumps and free DNA in the harvest. CAM adds Benzonase in the
       bioreactor before harvest (WI-LVV-112); our MBR does not.""",
       driving_event="Depth-filter blockages at LEI: 4 in May, 4 in June, 5 in July, 4 in August 2025 after a CAPA declared effective in March.",
       recommendation="Re-open the investigation; trial the CAM pre-harvest nuclease step at 200 L; compare harvest viability and agitation at 200 L with 50 L; effectiveness checks over at least 5 batches.",
       rel=["dz07", "dz08", "dz12", "dz17", "dz23", "dz27", "kh_preharvest", "kh_agit"],
       tags=["repeat deviation", "CAPA effectiveness", "clarification"], author="F. van Dijk")
lesson("ll17", "CAM", "LVV", "harvest", "2025-08", "Local working instructions did not travel with the process",
       """The pre-harvest Benzonase step lives in CAM's WI-LVV-112; the batch record says 'harvest per WI'. The
       WI was not in the LEI transfer package. Even at CAM the night shift did not know it.""",
       driving_event="CAM June blockage on night shift; LEI blockages since May 2025.",
       recommendation="Inventory all WIs referenced by the batch record and include them in transfer; put critical WI steps into the BR text.",
       rel=["dz14", "kh_preharvest"], tags=["transfer package", "working instruction"], author="A. Brennan")
lesson("ll18", "CAM", "CAR-T", "apheresis_receipt", "2025-08", "The cold chain starts at pack-out",
       """Both receipt excursions traced back to what happened at the collection centre and on the apron.""",
       driving_event="Shipper excursion to 11.2 C (2024) and logger not started (2025).",
       recommendation="Pack-out card with photo proof; courier briefing; logger alarm.",
       rel=["i1", "i5"], tags=["cold chain"], author="A. Brennan")
lesson("ll19", "LEI", "CAR-T", "transduction", "2025-02", "Late arrivals: protect the transduction window, not the start time",
       """Starting activation at 21:30 felt efficient but pushed the vector addition to day 2.""",
       driving_event="Vector added 40 h after activation; %CAR+ 19 %.",
       recommendation="Scheduling rule: if selection ends after 20:00, activate next morning.",
       rel=["c4"], tags=["scheduling"], author="E. de Vries")
lesson("ll20", "CAM", "CAR-T", "cryopreservation", "2025-03", "Dry shipper hold time is a specification",
       """A customs hold outlasted the shipper. Charging time and pack-out weight were never checked.""",
       driving_event="Shipper at -118 C for 3 h 20 min; post-thaw viability 62 %.",
       recommendation="Weigh at pack-out; 48 h charge; courier lanes with re-icing.",
       rel=["a5"], tags=["shipping"], author="S. Patel")
lesson("ll21", "LEI", "LVV", "sterile_filtration", "2024-09", "A failed integrity test is not always a failed filter",
       """The bubble point failure was a cold, partly wetted filter. We re-filtered and lost 18 % for nothing.""",
       driving_event="Post-use bubble point 2.9 bar vs 3.2 bar.",
       recommendation="Wetting time and temperature in the SOP; investigate test conditions before re-filtration.",
       rel=["g2"], tags=["integrity test"], author="R. Jansen")
lesson("ll22", "CAM", "LVV", "cell_expansion", "2025-05", "Waiting for a slot ages the cells",
       """Extra passages while waiting for the bioreactor took the WCB past p25.""",
       driving_event="Seed train at p28 at inoculation.",
       recommendation="Backward planning from the bioreactor slot; thaw a new vial rather than add passages.",
       rel=["p4", "p1"], tags=["passage", "planning"], author="K. Lindqvist")
lesson("ll23", "LEI", "CAR-T", "tcell_selection", "2024-06", "A ticked checklist is not a checked clamp",
       """The clamp checklist was signed but the clamp was closed.""",
       driving_event="P3 high alarm at column loading.",
       recommendation="Read-back and touch for clamp checks.",
       rel=["b2"], tags=["checklist"], author="L. Visser")
lesson("ll24", "LEI", "LVV", "cell_expansion", "2025-01", "A perfect reading can be a dead sensor",
       """The DO probe froze at the set point; control stopped sparging. A redundant probe helped only because
       someone looked at the difference.""",
       driving_event="DO 5 % for 2 h with the primary probe reading 40 %.",
       recommendation="Difference alarm between redundant probes; trend review for flat lines.",
       rel=["p3"], tags=["DO", "sensor"], author="T. Bakker")


# extra relations
rel("kh_preharvest", "fz01")
rel("a2", "fa1")
rel("g4", "fg1")
rel("p4", "fp1")
rel("d3", "fd2")
rel("ssc_cam_preharvest", "kh_preharvest")
rel("cu_nuc200", "dz22")
rel("cu_agit", "dz23")
rel("kh_agit", "dz23")
rel("dz19", "fz07")
rel("dz25", "fz07")
for _k in ("dz08", "dz12", "dz15", "dz17", "dz20", "dz22", "dz23", "dz26", "dz27"):
    rel(_k, "fz04")  # repeat after CAPA-2025-004 (the March fix)
rel("ssc_lei_via", "ssc_cam_via")
rel("ssc_lei_vcd", "ssc_cam_vcd")


# fmt: on


# ==============================================================================================
# BUILD
# ==============================================================================================
EQUIPMENT_WORDS = (
    ("NC-200", "NucleoCounter NC-200"),
    ("Vi-CELL", "Vi-CELL BLU"),
    ("FLEX2", "BioProfile FLEX2"),
    ("Mustang Q", "Mustang Q"),
    ("LOVO", "LOVO"),
    ("Sepax", "Sepax C-Pro"),
    ("CRF", "CryoMed CRF"),
    ("Prodigy", "CliniMACS Prodigy"),
    ("G-Rex", "G-Rex 100M-CS"),
    ("Sartopore", "Sartopore 2 0.2 um"),
    ("KR2i", "Repligen KrosFlo KR2i"),
    ("XDR-200", "Xcellerex XDR-200"),
    ("XDR-50", "Xcellerex XDR-50"),
    ("Mobius", "Mobius 50 L"),
    ("ÄKTA", "ÄKTA ready"),
    ("Sartoclear", "Sartoclear depth filter"),
)


def month_bounds(ym: str) -> tuple[date, date]:
    y, m = int(ym[:4]), int(ym[5:7])
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def parse_when(when: str) -> tuple[date | None, tuple[date, date]]:
    if len(when) == 10:
        d = date.fromisoformat(when)
        return d, (d, d)
    return None, month_bounds(when)


def step_offset(step: str) -> int:
    lo, hi = OFFSETS[step]
    return rng.randint(lo, hi)


def place_on_batch(rec: dict, used: set | None) -> None:
    """Choose a batch (and, for month-only entries, the date) for a run-bound entry."""
    fixed, (lo, hi) = parse_when(rec["when"])
    pool = [b for b in CALENDAR if b["process"] == rec["process"] and b["site"] == rec["site"]]
    if rec.get("batch_hint") == "first200":
        b = next(b for b in pool if b["scale"] == "200 L")
        rec["date"], rec["batch"] = b["start"] + timedelta(days=OFFSETS[rec["step"]][0]), b["batch"]
        assert lo <= rec["date"] <= hi, rec["title"]
    elif fixed is not None:
        best = min(
            pool,
            key=lambda b: (
                abs((b["start"] + timedelta(days=OFFSETS[rec["step"]][0]) - fixed).days),
                b["batch"] in (used or ()),
            ),
        )
        rec["date"], rec["batch"] = fixed, best["batch"]
    else:
        cands = []
        for b in pool:
            d = b["start"] + timedelta(days=step_offset(rec["step"]))
            if lo <= d <= hi and START <= d <= END:
                cands.append((b, d))
        if not cands:
            raise SystemExit(
                f"no batch for {rec['kind']} {rec.get('k')} {rec['site']} {rec['process']} "
                f"{rec['step']} {rec['when']}"
            )
        fresh = [c for c in cands if used is None or c[0]["batch"] not in used]
        b, d = rng.choice(fresh or cands)
        rec["date"], rec["batch"] = d, b["batch"]
    if used is not None:
        used.add(rec["batch"])


def pick_day(when: str, lower: date | None = None) -> date:
    fixed, (lo, hi) = parse_when(when)
    if fixed is not None:
        return fixed
    if lower is not None and lower > lo:
        lo = min(lower, hi)
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def pick_author(rec: dict) -> str:
    if rec.get("author"):
        return rec["author"]
    site, process = rec["site"], rec["process"]
    if rec["kind"] in ("deviation", "lesson") and rng.random() < 0.2:
        return CAST[(site, "QA")][0]
    return rng.choice(CAST[(site, process)])


def pick_equipment(rec: dict, scale: str | None) -> str | None:
    if "equipment" in rec:
        return rec["equipment"]
    if rec["step"] != "release_testing":
        return default_equipment(rec["process"], rec["site"], rec["step"], scale)
    # release testing: the cell counter named in the entry; the site's own counter when both are named
    words = rec["title"] + " " + rec["text"]
    named = [name for word, name in EQUIPMENT_WORDS if word in words]
    own = "NucleoCounter NC-200" if rec["site"] == "CAM" else "Vi-CELL BLU"
    if own in named:
        return own
    return named[0] if named else None


def build() -> tuple[list[dict], list[tuple[str, str, str]]]:
    by_key = {r["k"]: r for r in RAW if r.get("k")}
    assert len(by_key) == len([r for r in RAW if r.get("k")]), "duplicate content keys"

    # 1. deviations (originals), then duplicates
    used_dev: set = set()
    for r in RAW:
        if r["kind"] == "deviation" and not r.get("dup_of"):
            place_on_batch(r, used_dev)
    # keep the written order within a month (e.g. "third this month"): sort the placed slots by date
    groups: dict = defaultdict(list)
    for r in RAW:
        if (
            r["kind"] == "deviation"
            and not r.get("dup_of")
            and len(r["when"]) == 7
            and not r.get("batch_hint")
        ):
            groups[(r["site"], r["process"], r["step"], r["when"])].append(r)
    for members in groups.values():
        slots = sorted((m["date"], m["batch"]) for m in members)
        for m, (d, b) in zip(members, slots, strict=True):
            m["date"], m["batch"] = d, b
    for r in RAW:
        if r["kind"] == "deviation" and not r.get("dup_of"):
            r["author"] = pick_author(r)
    for r in RAW:
        if r["kind"] == "deviation" and r.get("dup_of"):
            o = by_key[r["dup_of"]]
            r["batch"], r["date"] = o["batch"], o["date"]
            r["when"] = o["date"].isoformat()
            r.setdefault("lag", (o.get("lag") or 0) + 1)
            r["author"] = r.get("author") or CAST[(r["site"], "QA")][0]

    # 2. cues: linked cues share the deviation's batch and date
    for r in RAW:
        if r["kind"] != "cue":
            continue
        target = r.get("k", "")[3:] if r.get("k", "").startswith("cu_") else None
        if target in by_key and by_key[target]["kind"] == "deviation":
            d = by_key[target]
            r["batch"], r["date"] = d["batch"], d["date"]
            if r["step"] != d["step"]:
                r["date"] = BY_BATCH[d["batch"]]["start"] + timedelta(days=OFFSETS[r["step"]][0])
            if "equipment" in d and "equipment" not in r:
                r["equipment"] = d["equipment"]
            if not r.get("author") and d["author"] not in (CAST[(d["site"], "QA")][0],):
                r["author"] = d["author"]
            RELATED.append((r["k"], target))
        else:
            place_on_batch(r, None)

    # 3. fixes after the deviations they fix
    for r in RAW:
        if r["kind"] != "fix":
            continue
        devs = [by_key[k] for k in r["fixes"]]
        if devs and "equipment" not in r and all("equipment" in d and d["equipment"] is None for d in devs):
            r["equipment"] = None
        if devs:
            last = max(d["date"] for d in devs)
            r["date"] = pick_day(r["when"], last + timedelta(days=1))
            if r["date"] < last:
                r["date"] = last
            same = [d for d in devs if d["site"] == r["site"] and d["process"] == r["process"]]
            r["batch"] = max(same, key=lambda d: d["date"])["batch"] if same else None
        else:
            place_on_batch(r, None)

    for r in RAW:
        if r["kind"] == "fix":
            _, (lo, hi) = parse_when(r["when"])
            assert lo <= r["date"] <= hi, ("fix pushed out of its month", r["k"], r["date"])

    # 4. know-how and lessons
    for r in RAW:
        if r["kind"] == "know_how":
            r["date"], r["batch"] = pick_day(r["when"]), None
        elif r["kind"] == "lesson":
            dates = [by_key[k]["date"] for k in r["rel"] if "date" in by_key[k]]
            lower = max(dates) + timedelta(days=1) if dates else None
            r["date"], r["batch"] = pick_day(r["when"], lower), None
            if lower and r["date"] < lower:
                r["date"] = min(lower, END)
            _, (lo, hi) = parse_when(r["when"])
            assert lo <= r["date"] <= hi, ("lesson pushed out of its month", r["k"], r["date"])
            for k in r["rel"]:
                RELATED.append((r["k"], k))

    for r in RAW:
        assert START <= r["date"] <= END, (r.get("k"), r["title"], r["date"])
        r["author"] = pick_author(r)

    # 5. ext_ids: per site and type, in date order
    order = sorted(range(len(RAW)), key=lambda i: (RAW[i]["date"], i))
    seq: Counter = Counter()
    for i in order:
        r = RAW[i]
        seq[(r["site"], r["kind"])] += 1
        r["ext_id"] = f"{r['site']}-{PREFIX[r['kind']]}-{seq[(r['site'], r['kind'])]:04d}"

    # 6. deviation numbers (sponsor QMS, one sequence per year, gaps = records outside this set)
    dev_rng = random.Random(SEED + 7)
    nums = {2024: 118, 2025: 9}
    for i in order:
        r = RAW[i]
        if r["kind"] == "deviation":
            nums[r["date"].year] += dev_rng.randint(1, 4)
            r["deviation_no"] = f"DEV-{r['date'].year}-{nums[r['date'].year]:04d}"

    # 7. records
    entries = []
    for i in order:
        r = RAW[i]
        batch_row = BY_BATCH.get(r["batch"]) if r.get("batch") else None
        scale = (
            r.get("scale")
            or (batch_row["scale"] if batch_row and r["process"] == "LVV" else None)
            or default_scale(r["process"], r["site"], r["step"], r["date"])
        )
        e = {
            "ext_id": r["ext_id"],
            "type": r["kind"],
            "title": r["title"],
            "text": r["text"],
            "process": r["process"],
            "step": r["step"],
            "site": r["site"],
            "scale": scale,
            "equipment": pick_equipment(r, scale),
            "batch": r.get("batch"),
            "occurred_at": r["date"].isoformat(),
        }
        fields: dict = {}
        if r["kind"] == "deviation":
            e["severity"], e["root_cause"] = r["severity"], r["root_cause"]
            lag = r.get("lag")
            if lag is None:
                lag = (
                    rng.choice((0, 0, 0, 0, 0, 1, 1, 2))
                    if r["step"] != "release_testing"
                    else rng.randint(0, 3)
                )
            detected = min(r["date"] + timedelta(days=lag), END)
            status = r.get("status") or ("open" if r["date"] >= date(2025, 7, 15) else "closed")
            fields = {
                "deviation_no": r["deviation_no"],
                "detected_at": detected.isoformat(),
                "planned": bool(r.get("planned")),
                "immediate_action": r["imm"],
                "classification": r["severity"],
            }
            if r.get("capa"):
                fields["capa"] = r["capa"]
            fields["status"] = status
        elif r["kind"] == "fix":
            fields = dict(r["ffields"])
        elif r["kind"] == "lesson":
            fields = dict(r["lfields"])
        elif r["kind"] == "know_how" and r.get("fields"):
            fields = dict(r["fields"])
        if r.get("fp"):
            fields["failure_pattern"] = r["fp"]
        e["author"] = r["author"]
        e["tags"] = r.get("tags") or []
        if fields:
            e["fields"] = fields
        entries.append({k: v for k, v in e.items() if v is not None})

    # 8. links
    ext = {r["k"]: r["ext_id"] for r in RAW if r.get("k")}
    links: list[tuple[str, str, str]] = []
    for r in RAW:
        if r["kind"] == "fix":
            for k in r["fixes"]:
                links.append((ext[k], "fixed_by", r["ext_id"]))
        if r["kind"] == "deviation" and r.get("dup_of"):
            links.append((r["ext_id"], "duplicate_of", ext[r["dup_of"]]))
    for s, t in RELATED:
        links.append((ext[s], "related", ext[t]))
    seen = set()
    links = [x for x in links if not (x in seen or seen.add(x))]
    return entries, links


BASELINE_PROBLEMS = {
    "a": "CAR-T post-thaw viability low",
    "b": "CliniMACS Prodigy / tubing set alarms",
    "c": "transduction: low %CAR+ or VCN out of range",
    "d": "mycoplasma sample mix-ups",
    "e": "LVV low titer after transfection",
    "f": "TFF TMP / flux excursions",
    "g": "0.2 um sterile filtration losses / integrity",
    "h": "label and documentation errors",
    "i": "apheresis receipt (temperature, transit, volume, leak)",
    "j": "G-Rex expansion (CO2, feed, growth, medium)",
    "k": "CAR-T harvest / wash / debead",
    "l": "formulation errors",
    "m": "CRF run / LN2 supply / profile",
    "n": "chromatography (pressure, buffer, eluate hold, UV)",
    "o": "nuclease step (time, MgCl2, reagent)",
    "p": "HEK293T seed train / bioreactor growth",
    "q": "LVV harvest timing / handling",
    "r": "fill / finish",
}


def baseline_problems() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in sorted(
        (r for r in RAW if r["kind"] == "deviation" and not r["k"].startswith("dz")),
        key=lambda r: (r["date"], r["ext_id"]),
    ):
        out.setdefault(BASELINE_PROBLEMS[r["k"][0]], []).append(r["ext_id"])
    return {v: out[v] for v in BASELINE_PROBLEMS.values()}


def drift_summary(entries: list[dict]) -> dict:
    ids_by_key = {r["k"]: r["ext_id"] for r in RAW if r.get("k")}
    by_id = {e["ext_id"]: e for e in entries}
    drift_ids = sorted((ids_by_key[k] for k in DRIFT_KEYS), key=lambda i: (by_id[i]["occurred_at"], i))
    months: dict = defaultdict(lambda: {"CAM": 0, "LEI": 0})
    for i in drift_ids:
        e = by_id[i]
        months[e["occurred_at"][:7]][e["site"]] += 1
    return {"ext_ids": drift_ids, "by_month": dict(sorted(months.items()))}


def write_all() -> None:
    entries, links = build()
    with open(HERE / "entries.jsonl", "w", encoding="utf-8") as fh:
        for e in entries:
            fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    with open(HERE / "links.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source_ext_id", "relation", "target_ext_id"])
        w.writerows(links)
    with open(HERE / "batches.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["batch", "process", "site", "start_date", "scale"])
        for b in CALENDAR:
            w.writerow([b["batch"], b["process"], b["site"], b["start"].isoformat(), b["scale"]])
    truth = ground_truth(entries, links)
    with open(HERE / "ground_truth.json", "w", encoding="utf-8") as fh:
        json.dump(truth, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    (HERE / "README.md").write_text(render_readme(entries, links, truth), encoding="utf-8")
    print(f"wrote {len(entries)} entries, {len(links)} links, {len(CALENDAR)} batches")


def ground_truth(entries: list[dict], links: list[tuple[str, str, str]]) -> dict:
    ext = {r["k"]: r["ext_id"] for r in RAW if r.get("k")}
    by_id = {e["ext_id"]: e for e in entries}
    drift = drift_summary(entries)
    fix_id = ext["fz04"]
    fix_date = by_id[fix_id]["occurred_at"]
    after = [i for i in drift["ext_ids"] if by_id[i]["occurred_at"] > fix_date]
    before = [i for i in drift["ext_ids"] if by_id[i]["occurred_at"] <= fix_date]
    cards = [e for e in entries if e.get("fields", {}).get("template_id") == "step_state_card"]
    cov: dict = defaultdict(Counter)
    for e in entries:
        cov[(e["process"], e["step"], e["site"])][e["type"]] += 1
    gaps = []
    for process, steps in STEPS.items():
        for step in steps:
            for site in ("CAM", "LEI"):
                for t in TYPES:
                    if cov[(process, step, site)][t] == 0:
                        gaps.append({"process": process, "step": step, "site": site, "type": t})
    return {
        "synthetic": True,
        "period": [START.isoformat(), END.isoformat()],
        "drift": {
            "problem": "LVV clarification: Sartoclear depth filter blocking early / dP climbing fast, "
            "with cell clumps and DNA strings in the harvest",
            "process": "LVV",
            "step": "clarification",
            "ext_ids": drift["ext_ids"],
            "by_month": drift["by_month"],
            "baseline_months": ["2024-01", "2025-04"],
            "shift_from": "2025-05",
            "shift_site": "LEI",
        },
        "repeat_after_fix": {
            "fix": fix_id,
            "fix_date": fix_date,
            "capa": "CAPA-2025-004",
            "claimed_held": True,
            "fixed_deviations": [ext["dz06"], ext["dz07"]],
            "same_problem_before_fix": before,
            "same_problem_after_fix": after,
            "later_fixes_not_held": [ext["fz05"], ext["fz06"]],
            "related_back_to_fix": sorted(s for s, r, t in links if r == "related" and t == fix_id),
        },
        "baseline_problems": baseline_problems(),
        "step_state_cards": {
            "steps": sorted({f"{e['process']}:{e['step']}" for e in cards}),
            "count": len(cards),
            "disagreement": {
                "process": "LVV",
                "step": "transfection",
                "state_part": "readiness",
                "conditions": {
                    "viability at transfection": {
                        "CAM": [ext["ssc_cam_via"], 95, None, "%"],
                        "LEI": [ext["ssc_lei_via"], 90, None, "%"],
                    },
                    "VCD at transfection": {
                        "CAM": [ext["ssc_cam_vcd"], 1.8, 2.2, E6],
                        "LEI": [ext["ssc_lei_vcd"], 1.5, 2.5, E6],
                    },
                },
            },
        },
        "tacit_knowledge_not_transferred": {
            "sending_site_know_how": ext["kh_preharvest"],
            "state_card": ext["ssc_cam_preharvest"],
            "lessons": [ext["ll16"], ext["ll17"]],
        },
        "deliberate_gaps": [
            {"process": "LVV", "step": "chromatography", "site": "LEI", "type": "know_how"},
            {"process": "LVV", "step": "fill_finish", "site": "CAM", "type": "cue"},
        ],
        "all_empty_cells": gaps,
    }


def _table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def render_readme(entries: list[dict], links: list[tuple[str, str, str]], truth: dict) -> str:
    by_id = {e["ext_id"]: e for e in entries}
    n = Counter(e["type"] for e in entries)
    tps = Counter((e["type"], e["process"], e["site"]) for e in entries)
    rows = []
    for t in TYPES:
        rows.append([t] + [tps[(t, p, s)] for p in ("CAR-T", "LVV") for s in ("CAM", "LEI")] + [n[t]])
    rows.append(
        ["**all**"]
        + [sum(tps[(t, p, s)] for t in TYPES) for p in ("CAR-T", "LVV") for s in ("CAM", "LEI")]
        + [len(entries)]
    )
    counts = _table(["type", "CAR-T CAM", "CAR-T LEI", "LVV CAM", "LVV LEI", "total"], rows)
    rel_counts = Counter(r for _, r, _ in links)
    acta_n = sum(1 for e in entries if e.get("fields", {}).get("template_id") == "acta_knowledge_audit")
    card_n = truth["step_state_cards"]["count"]
    fp = Counter(
        e["fields"]["failure_pattern"] for e in entries if e.get("fields", {}).get("failure_pattern")
    )
    sev = Counter(e["severity"] for e in entries if e["type"] == "deviation")
    n_dev = n["deviation"]
    fixed = {s for s, r, _ in links if r == "fixed_by"}
    dups = {s for s, r, _ in links if r == "duplicate_of"}

    # coverage matrix
    cov = Counter((e["process"], e["step"], e["site"], e["type"]) for e in entries)
    cov_rows = []
    for process, steps in STEPS.items():
        for step in steps:
            row = [process, step]
            for site in ("CAM", "LEI"):
                row.append(" / ".join(str(cov[(process, step, site, t)]) for t in TYPES))
            cov_rows.append(row)
    coverage = _table(["process", "step", "CAM cue/kh/dev/fix/ll", "LEI cue/kh/dev/fix/ll"], cov_rows)

    d = truth["drift"]
    months = []
    y, m = 2024, 1
    while (y, m) <= (2025, 8):
        ym = f"{y}-{m:02d}"
        c = d["by_month"].get(ym, {"CAM": 0, "LEI": 0})
        months.append([ym, c["CAM"], c["LEI"], c["CAM"] + c["LEI"]])
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    drift_tbl = _table(["month", "CAM", "LEI", "total"], months)
    drift_rows = [
        [
            i,
            by_id[i]["occurred_at"],
            by_id[i]["site"],
            by_id[i]["batch"],
            by_id[i]["scale"],
            by_id[i]["title"],
        ]
        for i in d["ext_ids"]
    ]
    drift_list = _table(["ext_id", "occurred_at", "site", "batch", "scale", "title"], drift_rows)
    base = [r for r in months if r[0] < "2025-05"]
    late = [r for r in months if r[0] >= "2025-05"]
    base_tot = sum(r[3] for r in base)
    late_cam, late_lei = sum(r[1] for r in late), sum(r[2] for r in late)
    base_cam, base_lei = sum(r[1] for r in base), sum(r[2] for r in base)

    raf = truth["repeat_after_fix"]
    dis = truth["step_state_cards"]["disagreement"]["conditions"]
    tk = truth["tacit_knowledge_not_transferred"]
    card_steps = ", ".join(truth["step_state_cards"]["steps"])

    # baseline problems (exact, from the content categories)
    base_rows = []
    for name, ids in truth["baseline_problems"].items():
        halves = Counter(
            "2024-H1"
            if by_id[i]["occurred_at"] < "2024-07"
            else "2024-H2"
            if by_id[i]["occurred_at"] < "2025-01"
            else "2025-H1"
            if by_id[i]["occurred_at"] < "2025-07"
            else "2025-07/08"
            for i in ids
        )
        sites = Counter(by_id[i]["site"] for i in ids)
        base_rows.append(
            [
                name,
                len(ids),
                sites["CAM"],
                sites["LEI"],
                halves["2024-H1"],
                halves["2024-H2"],
                halves["2025-H1"],
                halves["2025-07/08"],
            ]
        )
    baseline_tbl = _table(
        ["problem", "n", "CAM", "LEI", "2024-H1", "2024-H2", "2025-H1", "2025-07/08"], base_rows
    )

    return f"""# TacitKB sample data set (synthetic)

**Synthetic data, written for the TacitKB project.** Sites, people, batches, deviation and CAPA numbers,
results and events are invented. Any resemblance to a real company's records is accidental. Equipment and
reagent names are real product names, used only to make the floor language realistic; nothing here says
anything about those products.

The set imitates 20 months ({START.isoformat()} to {END.isoformat()}) of dual-site operation during the
transfer of two cell and gene therapy processes from a sending site to a receiving CDMO:

- **CAM** = Cambridge, MA: the sending site (process owner). Runs from January 2024.
- **LEI** = Leiden: the receiving site (CDMO). CAR-T from April 2024, LVV from May 2024; LVV moves from
  50 L (Xcellerex XDR-50) to 200 L (Xcellerex XDR-200) in May 2025.
- Processes: autologous **CAR-T** (Prodigy selection/activation/transduction, G-Rex 100M-CS expansion,
  LOVO (CAM) or Sepax C-Pro (LEI) wash, CryoMed CRF) and **LVV** (HEK293T suspension, PEI transfection,
  Sartoclear depth filtration, Benzonase, KrosFlo KR2i TFF, Mustang Q on ÄKTA ready, Sartopore 2 0.2 um, fill).

Every entry text is hand-written (one per entry); `make_samples.py` only places the texts in time,
assigns batches from a batch calendar, numbers them and writes the files. It is deterministic
(seed {SEED}); re-running it reproduces the committed files byte for byte:

    .venv/bin/python data/samples/make_samples.py
    .venv/bin/python data/samples/check_samples.py

## Files

| file | content |
|---|---|
| `entries.jsonl` | {len(entries)} entries, one JSON object per line |
| `links.csv` | {len(links)} typed links between entries |
| `batches.csv` | {len(CALENDAR)} batches (the batch calendar; exposure for u-charts) |
| `ground_truth.json` | what was planted (drift ext_ids and monthly counts, repeat-after-fix, disagreement, gaps) for tests/benchmarks |
| `make_samples.py` | generator (content + placement), deterministic |
| `check_samples.py` | validation; prints the counts below |

### entries.jsonl

One object per line. Keys are omitted when they do not apply.

| key | meaning |
|---|---|
| `ext_id` | unique id `<SITE>-<TYPE>-<NNNN>`, TYPE in CUE, KH (know_how), DEV, FIX, LL (lesson); numbered in date order per site and type |
| `type` | `cue`, `know_how`, `deviation`, `fix`, `lesson` |
| `title` | short title (<= 90 characters) |
| `text` | 1-5 sentences of floor language |
| `process` | `CAR-T` or `LVV` |
| `step` | CAR-T: {", ".join(CART_STEPS)}. LVV: {", ".join(LVV_STEPS)} |
| `site` | `CAM` or `LEI` |
| `scale` | CAR-T: `Prodigy` (selection to transduction) or `G-Rex 100M` (expansion to cryopreservation); LVV: `50 L` or `200 L` |
| `equipment` | main equipment or instrument, when one applies |
| `batch` | lot number (`CT-YY-NNN` CAR-T, `LV-YY-NNN` LVV; one sequence per process and year across both sites, see `batches.csv`). Cues, deviations and most fixes have one; know-how and lessons do not |
| `occurred_at` | ISO date |
| `severity` | deviations only: `minor`, `major`, `critical` |
| `root_cause` | deviations only (6M): `man`, `machine`, `method`, `material`, `measurement`, `mother_nature` |
| `author` | operator / MSAT / QA name (six people per site) |
| `tags` | list of short free-text tags, as operators typed them (not a controlled vocabulary) |
| `fields` | type-specific object, see below |

`fields` by type:

- deviation: `deviation_no` (`DEV-YYYY-NNNN`, gaps are records outside this set), `detected_at`, `planned`,
  `immediate_action`, `classification` (= severity), `capa` (some), `status` (`open`/`closed`),
  `failure_pattern` (some).
- fix: `symptom`, `cause`, `action`, `verification`, `held` (bool), `failure_pattern` (some).
- lesson: `driving_event`, `recommendation`.
- know_how from ACTA workshops ({acta_n} entries): `template_id` = `acta_knowledge_audit`, `acta_category`
  (past_and_future, big_picture, noticing, job_smarts, opportunities_improvising, self_monitoring, anomalies,
  equipment_difficulties), `cues`, `why_difficult`, `workshop_id`.
- know_how from step state cards ({card_n} entries): `template_id` = `step_state_card`, `state_part`
  (readiness, transition, success_cue, stabiliser, reversion_risk), `condition`, `range_min`, `range_max`,
  `unit` (ranges may be null for qualitative conditions); tags include `state:<part>`.
- other know-how and cues: no `fields`.

`failure_pattern` ({sum(fp.values())} entries: {", ".join(f"{k} {v}" for k, v in sorted(fp.items()))}):
`context` = acted without the right conditions, `preparation` = entered an unprepared environment,
`stability` = the result did not hold.

### links.csv

Header `source_ext_id,relation,target_ext_id`. Relations: `fixed_by` (deviation -> fix,
{rel_counts["fixed_by"]}), `duplicate_of` (deviation -> deviation, {rel_counts["duplicate_of"]}),
`related` ({rel_counts["related"]}: cue -> deviation it preceded, lesson -> deviations/know-how behind it,
deviation -> earlier fix of the same problem, state card -> the other site's card for the same condition,
know-how -> fix). Every id in links.csv exists in entries.jsonl.

### batches.csv

`batch,process,site,start_date,scale`. CAR-T: start = apheresis day; LVV: start = bioreactor inoculation.
Cadence: CAR-T CAM every ~5 days; CAR-T LEI every ~7 days in 2024, ~5 days in 2025; LVV CAM every ~14 days;
LVV LEI every ~14 days until April 2025, then every ~5 days (200 L campaign).

## Counts

{counts}

Deviations: {n_dev} ({", ".join(f"{k} {v}" for k, v in sorted(sev.items()))}); {len(fixed)} of them have at
least one `fixed_by` link ({100 * len(fixed) // n_dev} %), {len(dups)} are `duplicate_of` another record.
Some fixes cover several deviations, one CAM fix covers a LEI deviation, and {sum(1 for e in entries if e["type"] == "fix" and not any(t == e["ext_id"] for _, r, t in links if r == "fixed_by"))}
fixes are stand-alone troubleshooting notes.

### Coverage (counts per step and site: cue / know_how / deviation / fix / lesson)

{coverage}

## Planted drift episode

**Problem:** LVV clarification: the Sartoclear depth filter blocks early, differential pressure (dP) climbs
fast, with visible cell clumps and DNA strings in the harvest. These are all deviations at step
`clarification` in the set (no other clarification deviations exist), deliberately worded in many ways
("dP climbed", "pressure drop over depth filter", "filter fouled", "blinded", "plugged", "capsule exchange",
"throughput 38 L/m2", "turbid filtrate / breakthrough", "strings", "snot-like", "flocs", "gel layer").

- Baseline, 2024-01 to 2025-04: {base_tot} events in 16 months (CAM {base_cam}, LEI {base_lei}), about one
  every 2-3 months.
- Shift, 2025-05 to 2025-08: {late_cam + late_lei} events in 4 months (CAM {late_cam}, LEI {late_lei};
  {round(100 * late_lei / (late_cam + late_lei))} % at LEI). It starts with LEI's move to 200 L in May 2025.
  LEI also runs more LVV batches in this period (see `batches.csv`), but the rate per LEI batch rises too.
- Background: CAM adds Benzonase + MgCl2 to the bioreactor 60 min before harvest (CAM working instruction,
  recorded as know-how {tk["sending_site_know_how"]} and state card {tk["state_card"]}); the LEI batch
  record does not have that step. At 200 L, harvest viability is lower and agitation higher. Lessons
  {", ".join(tk["lessons"])} (August 2025) point at this; the investigation is open at the end of the set.

{drift_tbl}

{drift_list}

### Repeat after fix

{raf["fix"]} ({raf["fix_date"]}, LEI, CAPA-2025-004: more filter area, pre-flush, dP trend check) fixes
{", ".join(raf["fixed_deviations"])} and records `held: true` after one verification batch. The same problem
recurs afterwards: {len(raf["same_problem_after_fix"])} deviations
({", ".join(raf["same_problem_after_fix"])}); {len(raf["related_back_to_fix"])} of them carry a `related` link
back to {raf["fix"]}.
Two later LEI fixes ({", ".join(raf["later_fixes_not_held"])}) record `held: false`.

### Baseline problems (kept roughly flat)

The other deviation problems recur at a steady, low rate over the whole period, so a drift detector has a
baseline (each problem 2-7 times in 20 months, spread over the period and both sites; duplicates included).
The grouping is the authors' intent, listed with ext_ids in `ground_truth.json` (`baseline_problems`); the
texts do not carry the group name.

{baseline_tbl}

## Step state cards and the planted site disagreement

Steps with cards: {card_steps}. Every state part (readiness, transition, success_cue, stabiliser,
reversion_risk) is covered for each of these steps by both CAM and LEI.

**Disagreement (LVV transfection, readiness):**

| condition | CAM | LEI |
|---|---|---|
| viability at transfection | {dis["viability at transfection"]["CAM"][0]}: >= 95 % | {dis["viability at transfection"]["LEI"][0]}: >= 90 % |
| VCD at transfection (x10^6 cells/mL) | {dis["VCD at transfection"]["CAM"][0]}: 1.8-2.2 | {dis["VCD at transfection"]["LEI"][0]}: 1.5-2.5 |

All other conditions that both sites name (complex time, pH after transfection, CRF chamber temperature at
loading, cooling rate, DMSO exposure before CRF start, filtrate turbidity, capsule pre-flush volume, dP rise in
10 min, feed trigger lactate) have the same range at both sites. Some conditions are named by one site only.

## Deliberate coverage gaps

- LEI has **no know-how for LVV chromatography** (no ACTA entries, no cards, no notes).
- CAM has **no cues for LVV fill_finish**.
- Thin by design: LEI also has no know-how for LVV nuclease_treatment, LVV harvest and nuclease know-how is
  sparse at both sites, and a few step/site cells have no deviations or no lessons. `ground_truth.json` (`all_empty_cells`) lists every empty
  process/step/site/type cell.

## Vocabulary

Texts mix trade abbreviations (VCD, VCN, TMP, dP, TU/mL, p24, CRF, DMSO, leukopak, BR/MBR, WI, LMH, NTU) with
spelled-out forms in other entries (viable cell density, vector copy number, transmembrane pressure, pressure
drop / differential pressure, controlled-rate freezer, dimethyl sulfoxide, apheresis product, leukapheresis
product, batch record), and CAM (US) vs LEI (Dutch CDMO) writing styles, so search has to bridge vocabulary.
"""


if __name__ == "__main__":
    write_all()
