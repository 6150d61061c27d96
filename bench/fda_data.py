"""The FDA drug recall record as a QA user would prepare it, and FDA's own reason categories.

- write_event_csv: one row per recall event (the export has one row per product; a user keeps the first
  product row of each Event ID, e.g. in a spreadsheet) with the columns the import maps.
- normalise_category: FDA's reason category (the phrase the reason starts with), the reference the
  clusters are scored against.
- WAVES: the two real-world waves the drift command should signal (regexes over the reason text).

The file is read from ../shared/data (bench.common.FDA_CSV) and never copied into the repository.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from bench.common import FDA_CSV

EVENT_COLUMNS = (
    "Event ID",
    "Reason for Recall",
    "Recall Initiation Date",
    "Recalling Firm",
    "Product Description",
    "Classification",
)
# The CLI mappings of the two imports (FIELD=COLUMN). "field": the product description stays a field
# (every unmapped column is kept); "title": the product description is the title.
MAPPINGS: dict[str, dict[str, str]] = {
    "field": {
        "ext_id": "Event ID",
        "text": "Reason for Recall",
        "occurred_at": "Recall Initiation Date",
        "site": "Recalling Firm",
    },
    "title": {
        "ext_id": "Event ID",
        "text": "Reason for Recall",
        "occurred_at": "Recall Initiation Date",
        "site": "Recalling Firm",
        "title": "Product Description",
    },
}
# FDA's Enforcement Report starts in June 2012: earlier initiation months are left-truncated.
SINCE = "2012-06-01"
# The waves: (regex over the reason text, the month the wave began in the record).
WAVES: dict[str, tuple[str, str]] = {
    "nitrosamine 2018-19": (r"nitros|\bndma\b|\bndea\b|\bnmba\b|\bndipa\b|\bneipa\b", "2018-07"),
    "methanol 2020": (r"methanol", "2020-06"),
}


def write_event_csv(out: Path, source: Path = FDA_CSV) -> int:
    """Write one row per recall event (its first product row) with EVENT_COLUMNS; return the row count."""
    seen: set[str] = set()
    with (
        source.open(encoding="utf-8-sig", newline="") as fh,
        out.open("w", encoding="utf-8", newline="") as dst,
    ):
        writer = csv.DictWriter(dst, fieldnames=list(EVENT_COLUMNS))
        writer.writeheader()
        for row in csv.DictReader(fh):
            eid = (row.get("Event ID") or "").strip()
            if not eid or eid in seen or not (row.get("Reason for Recall") or "").strip():
                continue
            seen.add(eid)
            writer.writerow({c: (row.get(c) or "").strip() for c in EVENT_COLUMNS})
    return len(seen)


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
