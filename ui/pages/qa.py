"""Deviation clusters and drift (QA): clusters with trends, timelines by site, a 2-D map, drift signals."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from kb.analytics.calibration import Calibration
from kb.analytics.drift import DriftReport, Signal
from kb.analytics.quality import (
    cluster_rows,
    cluster_timeline,
    curate,
    current_clusters,
    deviation_map,
    drift_report,
    latest_clusters,
)
from kb.analytics.quality import run_clustering as qa_run_clustering
from kb.analytics.report import false_alarm_sentence, write_report
from kb.formatting import top_values
from ui import state
from ui.widgets import PAGES, flash, guarded, md_escape, safe_callback

TOP_SITES = 8
KIND_LABELS = {
    "rising": "Rising",
    "term_burst": "Words bursting across clusters (a wave of one material or product)",
    "emerging": "Emerging",
    "site_concentration": "Site concentration (transfer gap)",
    "repeat_after_fix": "Repeat after fix (CAPA did not hold)",
}


@st.cache_data(show_spinner="Clustering deviations and checking for drift…", max_entries=16)
def qa_snapshot(
    home: str, version: int, run_id: str | None, period: str, since: str | None
) -> dict[str, Any]:
    """Return clusters, timelines, map points and drift signals for one state of the knowledge base."""
    kb = state.get_kb()
    with state.locked(kb):
        result = current_clusters(kb)  # reuses the stored run when it covers every deviation
        # No dated deviation: the clusters still show; the first note says what is missing and what to do.
        drift = drift_report(kb, period=period, since=since, result=result, when_undated="empty")
        return {
            "run_id": result.run_id,
            "created_at": result.created_at,
            "n_items": result.n_items,
            "unclustered": list(result.unclustered_ids),
            "rows": cluster_rows(kb, result),
            "timeline": cluster_timeline(kb, result, period=period),
            "points": deviation_map(kb, result),
            "drift": drift,
        }


@safe_callback
def rerun_clustering() -> None:
    """Cluster the deviations again (ids are kept stable against the last run)."""
    kb = state.get_kb()
    with state.locked(kb):
        state.require(kb, "cluster")  # qa and admin; the button is hidden for the other roles
        result = qa_run_clustering(kb)
    flash("success", f"Clustered {result.n_items} deviations into {len(result.clusters)} clusters.")


def snapshot(period: str, since: str | None) -> dict[str, Any]:
    """Return the QA snapshot for the current data (cached until an entry or the cluster run changes)."""
    kb = state.get_kb()
    latest = latest_clusters(kb)
    return qa_snapshot(str(kb.home), kb.store.version(), latest.run_id if latest else None, period, since)


def cluster_table(data: dict[str, Any]) -> pd.DataFrame:
    """Return one row per cluster with its sites, trend and signal kinds."""
    drift: DriftReport = data["drift"]
    kinds: dict[str, list[str]] = {}
    for s in drift.signals:
        kinds.setdefault(s.cluster_id, []).append(s.kind)
    rows = []
    for r in data["rows"]:
        trend = [v or 0 for v in drift.counts.by_cluster.get(r["id"], [])]
        # Name or label first; only the top sites (a record may have hundreds of them).
        row = {
            "cluster": r["id"],
            "name or label": r["title"],
            "family": r["family"] or "",
            "size": r["size"],
            "top sites": top_values(r["sites"]),
            "trend": trend,
            "first seen": r["first_seen"],
            "last seen": r["last_seen"],
            "signals": ", ".join(sorted(set(kinds.get(r["id"], [])))),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def timeline_chart(drift: DriftReport, cluster_id: str) -> alt.Chart:
    """Return bars of one cluster's counts per period, stacked by site (gaps greyed)."""
    counts = drift.counts
    rows = []
    by_site = counts.by_cluster_site.get(cluster_id, {})
    ranked = sorted(by_site, key=lambda s: (-sum(v or 0 for v in by_site[s]), s))
    for rank, site in enumerate(ranked):
        # The top sites by count keep their colour; the rest stack as "other".
        name = site if rank < TOP_SITES else f"other ({len(ranked) - TOP_SITES} sites)"
        for period, value in zip(counts.periods, by_site[site], strict=True):
            rows.append({"period": period, "site": name, "count": value or 0})
    frame = pd.DataFrame(rows or [{"period": p, "site": "-", "count": 0} for p in counts.periods])
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("period:O", title=f"{counts.period}", sort=counts.periods),
            y=alt.Y("sum(count):Q", title="deviations"),
            color=alt.Color("site:N", title="site"),
            tooltip=["period", "site", "count"],
        )
        .properties(height=260)
    )


def map_chart(points: list[dict[str, Any]]) -> alt.Chart:
    """Return a scatter of deviations on their first two principal components, coloured by cluster."""
    frame = pd.DataFrame(points)
    return (
        alt.Chart(frame)
        .mark_point(filled=True, size=70, opacity=0.8)
        .encode(
            x=alt.X("x:Q", title="component 1"),
            y=alt.Y("y:Q", title="component 2"),
            color=alt.Color("cluster_id:N", title="cluster", scale=alt.Scale(scheme="tableau20")),
            shape=alt.Shape("site:N", title="site"),
            tooltip=["entry_id", "cluster_id", "site", "occurred_at", "title"],
        )
        .properties(height=420)
        .interactive()
    )


def render_signal(signal: Signal, far: dict[str, Any], cluster_label: str, *, expanded: bool = False) -> None:
    """One drift signal: what, since when, how strong, where, and the records behind it (as links)."""
    kb = state.get_kb()
    site = signal.site or "all sites"
    label = (
        f"**{KIND_LABELS.get(signal.kind, signal.kind)}** · {signal.cluster_id} ({md_escape(cluster_label)}) · "
        f"since {signal.start_period} · {site} · {len(signal.entry_ids)} records"
    )
    with st.expander(label, expanded=expanded):
        st.markdown(md_escape(signal.message))
        until = f" to {signal.end_period}" if signal.end_period else ""
        rate = (
            far.get(signal.kind, {}).get("rate_per_year") if isinstance(far.get(signal.kind), dict) else None
        )
        chance = (
            f" · expected chance signals of this kind: {rate}/year"
            if rate is not None
            else " · a rule, not a test"
        )
        st.caption(
            f"{signal.start_period}{until}{' (ongoing)' if signal.ongoing else ''} · "
            f"statistic {signal.statistic:.3g} vs threshold {signal.threshold:.3g}{chance}"
        )
        st.markdown(f"**Evidence: {len(signal.entry_ids)} records**")
        found = kb.store.get_many(signal.entry_ids)
        for entry_id in signal.entry_ids:
            entry = found.get(entry_id)
            if entry is None:
                continue
            text = md_escape(f"{entry.id} · {(entry.occurred_at or '')[:10]} · {entry.site} · {entry.title}")
            st.page_link(
                PAGES["entry"], label=text, query_params={"id": entry.id}, icon=":material/description:"
            )


def render_calibration(period: str, since: str | None) -> None:
    """A panel that re-runs the detectors with permuted dates: measured vs nominal chance signals."""
    with st.expander("Calibrate on this record (permuted dates)"):
        n = st.number_input("Permutations", min_value=1, max_value=200, value=20, key="qa_cal_n")
        if st.button("Calibrate", key="qa_calibrate"):
            kb = state.get_kb()
            with st.spinner("Re-running the detectors on permuted dates…"), state.locked(kb):
                report = drift_report(kb, period=period, since=since, calibrate=int(n))
            st.session_state["qa_calibration"] = report
        report = st.session_state.get("qa_calibration")
        if report is not None:
            cal = Calibration(**report.params["calibration"])
            st.markdown(md_escape(cal.summary()))
            st.caption(cal.note)
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "signal": f"{s.kind} {s.cluster_id} {s.site or ''} since {s.start_period}",
                            "permutation p": s.details.get("permutation_p"),
                        }
                        for s in report.signals
                    ]
                ),
                hide_index=True,
            )


@safe_callback
def apply_curation(action: str) -> None:
    """Rename, merge or split the chosen cluster (audited; kept when re-clustering)."""
    kb = state.get_kb()
    cid = st.session_state.get("qa_cur_cluster")
    with state.locked(kb):
        state.require(kb, "cluster")
        if action == "rename":
            curate(kb, "rename", cid, name=st.session_state.get("qa_cur_name", ""))
        elif action == "merge":
            curate(kb, "merge", cid, others=tuple(st.session_state.get("qa_cur_merge") or ()))
        else:
            curate(kb, "split", cid)
    flash("success", f"{action.capitalize()} of {cid} saved (audited; kept when re-clustering).")


def render_curation(rows: list[dict[str, Any]]) -> None:
    """Rename, merge or split a cluster (QA and admin only)."""
    if not rows or not state.can("cluster"):
        return
    with st.expander("Curate clusters (rename, merge, split)"):
        ids = [r["id"] for r in rows]
        titles = {r["id"]: f"{r['id']}: {r['title']} ({r['size']})" for r in rows}
        cid = st.selectbox("Cluster", ids, format_func=titles.get, key="qa_cur_cluster")
        c1, c2 = st.columns([3, 1])
        c1.text_input("New name", key="qa_cur_name")
        c2.button("Rename", on_click=apply_curation, args=("rename",), key="qa_cur_rename")
        c1.multiselect(
            "Merge into it", [i for i in ids if i != cid], format_func=titles.get, key="qa_cur_merge"
        )
        c2.button("Merge", on_click=apply_curation, args=("merge",), key="qa_cur_do_merge")
        c2.button("Split in two", on_click=apply_curation, args=("split",), key="qa_cur_split")


def render_report_download(period: str, since: str | None) -> None:
    """Build the HTML QA report on request and offer it for download."""
    if st.button("Build the QA report (HTML)", key="qa_build_report"):
        kb = state.get_kb()
        with tempfile.TemporaryDirectory() as tmp, state.locked(kb):
            out = write_report(kb, Path(tmp) / "qa-report.html", period=period, since=since)
            st.session_state["qa_report"] = out.read_bytes()
    report = st.session_state.get("qa_report")
    if report:
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        st.download_button(
            "Download the QA report",
            data=report,
            file_name=f"tacitkb-qa-report-{stamp}.html",
            mime="text/html",
            key="qa_download",
        )


def render() -> None:
    """The QA page."""
    st.title("Deviation clusters and drift")
    c1, c2, c3 = st.columns([1, 1, 2])
    period = c1.selectbox("Period", ["month", "week"], key="qa_period")
    since_day: date | None = c2.date_input("Signals since", value=None, key="qa_since", format="YYYY-MM-DD")
    since = since_day.isoformat() if since_day else None
    if state.can("cluster"):
        c3.button("Re-run clustering", on_click=rerun_clustering, key="qa_rerun")
    data = snapshot(period, since)
    drift: DriftReport = data["drift"]
    st.caption(
        f"Cluster run {data['run_id']} ({data['created_at']}): {data['n_items']} deviations, "
        f"{len(data['rows'])} clusters, {len(data['unclustered'])} unclustered."
    )

    st.subheader(f"Drift signals ({len(drift.signals)})")
    if drift.params.get("undated"):
        st.warning(md_escape(drift.notes[0]))
    st.caption(md_escape(false_alarm_sentence(drift) + " Open a signal for its records."))
    render_calibration(period, since)
    if not drift.signals:
        st.info("No drift signals.")
    ordered = sorted(drift.signals, key=lambda s: (-len(s.entry_ids), s.cluster_id, s.kind))
    cluster_labels = {r["id"]: r["title"] for r in data["rows"]}
    for i, signal in enumerate(ordered):
        render_signal(
            signal, drift.false_alarm_rate, cluster_labels.get(signal.cluster_id, ""), expanded=i == 0
        )

    st.subheader("Clusters")
    table = cluster_table(data)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(35 * (len(table) + 1) + 4, 520),
        column_config={
            "trend": st.column_config.BarChartColumn(f"per {period}", y_min=0),
            "name or label": st.column_config.TextColumn("name or label", width="large"),
        },
    )

    render_curation(data["rows"])

    st.subheader("Timeline by site")
    ids = [r["id"] for r in data["rows"]]
    flagged = [s.cluster_id for s in ordered]
    if ids:
        labels = {r["id"]: f"{r['id']}: {r['title']}" for r in data["rows"]}
        default = ids.index(flagged[0]) if flagged else 0
        chosen = st.selectbox("Cluster", ids, index=default, format_func=labels.get, key="qa_cluster")
        st.altair_chart(timeline_chart(drift, chosen), width="stretch")

    st.subheader("Map of deviations")
    st.caption(
        "Each point is a deviation; nearby points are similar in meaning (first two principal components)."
    )
    if data["points"]:
        st.altair_chart(map_chart(data["points"]), width="stretch")

    st.subheader("Report")
    render_report_download(period, since)


guarded(render)
