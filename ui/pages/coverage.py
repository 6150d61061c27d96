"""Coverage: which steps have captured know-how per ACTA category and entry type, sending vs receiving site."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ingest.coverage import CoverageReport, knowledge_coverage
from ui import state
from ui.widgets import guarded, label_of

GAP_LABELS = {
    "empty_step": "Nothing captured for the step",
    "empty_category": "ACTA categories without an answer",
    "site_asymmetry": "One site has know-how, the other none",
    "unfixed_deviations": "Deviations with no linked fix",
}


def site_title(report: CoverageReport, site: str) -> str:
    """Return 'CAM (sending)' style column titles."""
    role = report.sites.get(site)
    return f"{site} ({role})" if role else site


def category_frame(report: CoverageReport, by_site: bool) -> pd.DataFrame:
    """Return one row per step, ACTA category (and site): the count of captured answers."""
    vocabulary = state.vocabulary()
    rows = []
    sites = list(report.sites) if by_site else ["all sites"]
    for cell in report.steps:
        for site in sites:
            counts = cell.by_site_category.get(site, {}) if by_site else cell.by_category
            for category in report.categories:
                rows.append(
                    {
                        "step": f"{cell.process} · {cell.label}",
                        "category": vocabulary.label("acta_categories", category),
                        "site": site_title(report, site) if by_site else site,
                        "count": counts.get(category, 0),
                    }
                )
    return pd.DataFrame(rows)


def type_frame(report: CoverageReport) -> pd.DataFrame:
    """Return one row per step, entry type and site: the count of entries."""
    types = sorted(
        {t for cell in report.steps for t in cell.by_type} | {"cue", "know_how", "deviation", "fix"}
    )
    rows = []
    for cell in report.steps:
        for site in report.sites:
            counts = cell.by_site.get(site, {})
            for entry_type in types:
                rows.append(
                    {
                        "step": f"{cell.process} · {cell.label}",
                        "category": entry_type,
                        "site": site_title(report, site),
                        "count": counts.get(entry_type, 0),
                    }
                )
    return pd.DataFrame(rows)


def heatmap(frame: pd.DataFrame, *, facet: bool, x_title: str) -> alt.Chart:
    """Return a step × category heatmap; empty cells (gaps) are red, the count is printed in each cell."""
    steps = list(dict.fromkeys(frame["step"]))
    categories = list(dict.fromkeys(frame["category"]))
    dark_from = max(1.0, float(frame["count"].max()) / 2) if len(frame) else 1.0
    base = alt.Chart(frame).encode(
        x=alt.X(
            "category:N",
            sort=categories,
            title=x_title,
            axis=alt.Axis(labelAngle=-40, labelOverlap=False, labelLimit=180),
        ),
        y=alt.Y("step:N", sort=steps, title=None, axis=alt.Axis(labelLimit=280)),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.condition(
            "datum.count == 0",
            alt.value("#f4b6b6"),
            alt.Color("count:Q", scale=alt.Scale(scheme="blues"), title="entries"),
        ),
        tooltip=["step", "category", "site", "count"],
    )
    labels = base.mark_text(fontSize=11).encode(
        text=alt.Text("count:Q"),
        color=alt.condition(f"datum.count >= {dark_from}", alt.value("white"), alt.value("#333")),
    )
    chart = (cells + labels).properties(
        width=28 * len(categories) if facet else 40 * len(categories), height=24 * len(steps)
    )
    return chart.facet(column=alt.Column("site:N", title=None)) if facet else chart


def render() -> None:
    """The Coverage page."""
    st.title("Knowledge coverage")
    kb = state.get_kb()
    vocabulary = state.vocabulary()
    c1, c2, c3 = st.columns(3)
    process = c1.selectbox(
        "Process",
        vocabulary.codes("processes"),
        index=None,
        placeholder="All processes",
        key="cov_process",
        format_func=label_of(vocabulary, "processes"),
    )
    view = c2.radio("Count", ["ACTA categories", "Entry types"], key="cov_view", horizontal=True)
    split = c3.toggle("Sending vs receiving side by side", value=True, key="cov_split")
    with state.locked(kb):
        report = knowledge_coverage(kb, vocabulary, process=process)
    st.caption("Red cells are gaps: nothing captured there yet.")
    if view == "ACTA categories":
        frame = category_frame(report, by_site=split)
        st.altair_chart(heatmap(frame, facet=split, x_title="ACTA category"), width="content")
    else:
        st.altair_chart(heatmap(type_frame(report), facet=True, x_title="entry type"), width="content")

    st.subheader(f"Gaps ({len(report.gaps)})")
    counts = pd.Series([g.kind for g in report.gaps]).value_counts()
    cols = st.columns(len(GAP_LABELS))
    for col, (kind, label) in zip(cols, GAP_LABELS.items(), strict=True):
        col.metric(label, int(counts.get(kind, 0)))
    kinds = st.multiselect(
        "Show gaps of kind",
        list(GAP_LABELS),
        default=["site_asymmetry", "empty_step", "unfixed_deviations"],
        format_func=GAP_LABELS.get,
        key="cov_kinds",
    )
    gaps = pd.DataFrame(
        [
            {
                "kind": GAP_LABELS.get(g.kind, g.kind),
                "process": g.process,
                "step": g.step,
                "site": g.site,
                "gap": g.detail,
            }
            for g in report.gaps
            if g.kind in kinds
        ],
        columns=["kind", "process", "step", "site", "gap"],
    )
    st.dataframe(gaps, hide_index=True, width="stretch")


guarded(render)
