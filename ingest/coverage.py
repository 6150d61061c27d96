"""Knowledge coverage: which steps have captured know-how, per ACTA probe category, entry type and site.

It makes "tacit knowledge not captured" visible: empty probe categories per step, know-how one site has
logged and the other never has, and deviations that have no linked fix.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.vocabulary import Vocabulary
from kb.knowledge_base import KnowledgeBase

KNOW_HOW_TYPES = ("cue", "know_how", "lesson")


@dataclass
class StepCoverage:
    """What has been captured for one process step."""

    process: str
    step: str
    label: str
    by_category: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)
    by_site: dict[str, dict[str, int]] = field(default_factory=dict)  # site -> type -> count
    by_site_category: dict[str, dict[str, int]] = field(default_factory=dict)
    missing_categories: list[str] = field(default_factory=list)
    unfixed_deviations: list[str] = field(default_factory=list)


@dataclass
class CoverageGap:
    """One thing not yet captured, said in a sentence QA and facilitators can act on."""

    kind: str  # empty_category | site_asymmetry | unfixed_deviations | empty_step
    process: str
    step: str
    site: str | None
    detail: str


@dataclass
class CoverageReport:
    """Coverage of every step in the vocabulary, and the gaps found."""

    steps: list[StepCoverage]
    gaps: list[CoverageGap]
    categories: list[str]
    sites: dict[str, str | None]  # site -> role

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return asdict(self)


def knowledge_coverage(
    kb: KnowledgeBase, vocabulary: Vocabulary, *, process: str | None = None
) -> CoverageReport:
    """Count captured knowledge per step, probe category, type and site, and list the gaps."""
    categories = vocabulary.codes("acta_categories")
    sites = {code: vocabulary.site_role(code) for code in vocabulary.codes("sites")}
    fixed = {link.source for link in kb.store.all_links() if link.relation == "fixed_by"}
    cells: dict[tuple[str, str], StepCoverage] = {}
    for proc in vocabulary.codes("processes"):
        if process and proc.lower() != process.lower():
            continue
        for step in vocabulary.steps_for(proc):
            cells[(proc, step)] = StepCoverage(proc, step, vocabulary.step_label(step, proc))

    site_types: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for entry in kb.store.iter_entries():
        cell = cells.get((entry.process or "", entry.step or ""))
        if cell is None:
            continue
        cell.by_type[entry.type] = cell.by_type.get(entry.type, 0) + 1
        site = entry.site or "(none)"
        cell.by_site.setdefault(site, {})
        cell.by_site[site][entry.type] = cell.by_site[site].get(entry.type, 0) + 1
        category = entry.fields.get("acta_category")
        if category:
            cell.by_category[category] = cell.by_category.get(category, 0) + 1
            cell.by_site_category.setdefault(site, {})
            cell.by_site_category[site][category] = cell.by_site_category[site].get(category, 0) + 1
        if entry.type in KNOW_HOW_TYPES:
            site_types[(cell.process, cell.step)][site] += 1
        if entry.type == "deviation" and entry.id not in fixed:
            cell.unfixed_deviations.append(entry.id)

    gaps: list[CoverageGap] = []
    sending = [s for s, role in sites.items() if role == "sending"]
    receiving = [s for s, role in sites.items() if role == "receiving"]
    for (proc, step), cell in cells.items():
        cell.missing_categories = [c for c in categories if not cell.by_category.get(c)]
        if not cell.by_type:
            gaps.append(
                CoverageGap("empty_step", proc, step, None, f"{cell.label}: nothing captured at any site")
            )
            continue
        if cell.missing_categories:
            gaps.append(
                CoverageGap(
                    "empty_category",
                    proc,
                    step,
                    None,
                    f"{cell.label}: no ACTA answer for {', '.join(cell.missing_categories)}",
                )
            )
        counts = site_types[(proc, step)]
        for have, lack in ((sending, receiving), (receiving, sending)):
            for a in have:
                for b in lack:
                    if counts.get(a, 0) and not counts.get(b, 0):
                        gaps.append(
                            CoverageGap(
                                "site_asymmetry",
                                proc,
                                step,
                                b,
                                f"{cell.label}: {a} ({sites[a]}) has {counts[a]} know-how entries, {b} ({sites[b]}) has none",
                            )
                        )
        if cell.unfixed_deviations:
            gaps.append(
                CoverageGap(
                    "unfixed_deviations",
                    proc,
                    step,
                    None,
                    f"{cell.label}: {len(cell.unfixed_deviations)} deviation(s) with no linked fix",
                )
            )
    return CoverageReport(list(cells.values()), gaps, categories, sites)
