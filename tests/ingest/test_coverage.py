"""Coverage numbers checked against a small hand-built knowledge base."""

from __future__ import annotations

from ingest.coverage import knowledge_coverage
from ingest.vocabulary import load_vocabulary


def know_how(category: str, site: str, step: str = "transfection", text: str = "") -> dict:
    return {
        "type": "know_how",
        "process": "LVV",
        "step": step,
        "site": site,
        "text": text or f"{category} note at {site} for {step}",
        "fields": {"acta_category": category},
    }


def test_coverage_counts_and_gaps(kb):
    kb.add_many(
        [
            know_how("noticing", "CAM"),
            know_how("noticing", "LEI", text="haze seen at LEI"),
            know_how("anomalies", "CAM"),
            know_how("job_smarts", "CAM", step="tff"),
            {
                "type": "deviation",
                "process": "LVV",
                "step": "tff",
                "site": "LEI",
                "text": "TMP excursion 1.8 bar",
            },
            {
                "type": "deviation",
                "process": "LVV",
                "step": "tff",
                "site": "LEI",
                "text": "Flux fell to 20 LMH",
            },
            {"type": "fix", "process": "LVV", "step": "tff", "site": "LEI", "text": "Lowered feed flow"},
            {
                "type": "cue",
                "process": "CAR-T",
                "step": "expansion",
                "site": "LEI",
                "text": "Medium orange day 5",
            },
        ],
        author="t",
    )
    kb.link("KB-000005", "fixed_by", "KB-000007", author="t")
    report = knowledge_coverage(kb, load_vocabulary())
    cells = {(c.process, c.step): c for c in report.steps}
    transfection = cells[("LVV", "transfection")]
    assert transfection.by_category == {"noticing": 2, "anomalies": 1}
    assert transfection.by_site == {"CAM": {"know_how": 2}, "LEI": {"know_how": 1}}
    assert transfection.by_site_category["LEI"] == {"noticing": 1}
    assert len(transfection.missing_categories) == 6
    tff = cells[("LVV", "tff")]
    assert tff.unfixed_deviations == ["KB-000006"]

    gaps = {(g.kind, g.process, g.step, g.site) for g in report.gaps}
    assert ("site_asymmetry", "LVV", "tff", "LEI") in gaps, "CAM has tff know-how, LEI has none"
    assert ("site_asymmetry", "CAR-T", "expansion", "CAM") in gaps, "and the reverse direction"
    assert ("site_asymmetry", "LVV", "transfection", "LEI") not in gaps
    assert ("unfixed_deviations", "LVV", "tff", None) in gaps
    assert ("empty_step", "LVV", "chromatography", None) in gaps
    assert ("empty_category", "LVV", "transfection", None) in gaps

    only_cart = knowledge_coverage(kb, load_vocabulary(), process="car-t")
    assert {c.process for c in only_cart.steps} == {"CAR-T"}
