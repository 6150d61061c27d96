"""The QA report: clusters, their trends per site, and drift signals with evidence, as HTML or Markdown.

Charts are PNG images drawn with matplotlib (Agg backend, no display): embedded as data URIs in HTML,
written beside the file for Markdown.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from kb import formatting
from kb.analytics.calibration import Calibration
from kb.analytics.clustering import ClusterResult
from kb.analytics.drift import DriftReport
from kb.analytics.quality import cluster_rows, current_clusters, drift_report
from kb.formatting import top_values
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError, utc_now

TOP_SITES = 5


def _timeline_png(report: DriftReport, cluster_id: str, title: str) -> bytes:
    """Return a PNG of one cluster's counts per period, one line per site, gaps left blank."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = report.counts
    fig, ax = plt.subplots(figsize=(9.0, 2.4), dpi=100)
    periods = counts.periods
    x = list(range(len(periods)))
    total = counts.by_cluster.get(cluster_id, [])
    ax.bar(x, [v or 0 for v in total], color="#c9d6e3", label="all sites")
    by_site = counts.by_cluster_site.get(cluster_id, {})
    # The top sites by count get a line each; the rest are one "other" line (300 lines are unreadable).
    ranked = sorted(by_site, key=lambda s: (-sum(v or 0 for v in by_site[s]), s))
    shown, rest = ranked[:TOP_SITES], ranked[TOP_SITES:]
    lines = [(site, by_site[site]) for site in shown]
    if rest:
        other = [
            None if all(by_site[s][i] is None for s in rest) else sum(by_site[s][i] or 0 for s in rest)
            for i in range(len(periods))
        ]
        lines.append((f"other ({len(rest)} sites)", other))
    for site, values in lines:
        ax.plot(x, [float("nan") if v is None else v for v in values], marker="o", markersize=3, label=site)
    for i, p in enumerate(periods):
        if p in counts.gaps:
            ax.axvspan(i - 0.5, i + 0.5, color="#eeeeee", zorder=0)
    step = max(1, len(periods) // 10)
    ax.set_xticks(x[::step], periods[::step], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title, fontsize=9)
    # Outside the axes, so it never hides the data.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def build_report_data(
    kb: KnowledgeBase, *, period: str = "month", since: str | None = None, calibrate: int = 0
) -> dict[str, Any]:
    """Return everything the report shows: clusters, signals, false-alarm statement, charts."""
    result: ClusterResult = current_clusters(kb)
    drift = drift_report(kb, period=period, since=since, result=result, calibrate=calibrate)
    rows = cluster_rows(kb, result)
    flagged = sorted({s.cluster_id for s in drift.signals})
    charts = {
        row["id"]: _timeline_png(drift, row["id"], f"{row['id']}: {row['label']}")
        for row in rows
        if row["id"] in flagged
    }
    return {"result": result, "drift": drift, "rows": rows, "charts": charts, "period": period}


def write_report(
    kb: KnowledgeBase, out: Path, *, period: str = "month", since: str | None = None, calibrate: int = 0
) -> Path:
    """Write the QA report to OUT (.html or .md) and return its path."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm", ".md"):
        raise KBError(f"argument '--out': {out} must end in .html or .md")
    data = build_report_data(kb, period=period, since=since, calibrate=calibrate)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".md":
        image_dir = out.with_name(out.stem + "_charts")
        image_dir.mkdir(exist_ok=True)
        images = {}
        for cid, png in data["charts"].items():
            (image_dir / f"{cid}.png").write_bytes(png)
            images[cid] = f"{image_dir.name}/{cid}.png"
        out.write_text(_markdown(kb, data, images), encoding="utf-8")
    else:
        images = {
            cid: "data:image/png;base64," + base64.b64encode(png).decode()
            for cid, png in data["charts"].items()
        }
        out.write_text(_html(kb, data, images), encoding="utf-8")
    return out


def false_alarm_sentence(drift: DriftReport) -> str:
    """Return what drift watched and how many chance signals a year its thresholds allow (and measured)."""
    far = drift.false_alarm_rate
    total = far.get("total_per_year")
    n = far.get("rising", {}).get("n_clusters") or len(drift.counts.by_cluster)
    words = far.get("term_burst", {}).get("n_terms")
    watched = f"{n} watched clusters" + (f" and {words} watched words" if words else "")
    text = (
        f"Watching {drift.params.get('watching', 'counts')}: {drift.params.get('watching_reason', '')}. "
        f"Thresholds are set so that, across all {watched}, about {total} chance signal(s) per year "
        "are expected when nothing has changed (rising, word bursts and site concentration); emerging and "
        "repeat-after-fix signals are rules, not tests."
    )
    cal = drift.params.get("calibration")
    if cal:
        text += " " + Calibration(**cal).summary() + "."
    return text


def md_escape(text: Any) -> str:
    """Return data (labels, sites, messages) as literal Markdown on one line (a table cell, a list item)."""
    return formatting.md_escape(text, keep_newlines=False)


def _markdown(kb: KnowledgeBase, data: dict[str, Any], images: dict[str, str]) -> str:
    result, drift, rows = data["result"], data["drift"], data["rows"]
    lines = [
        "# TacitKB QA report: deviation clusters and drift",
        "",
        f"Generated {utc_now()} from `{kb.home}`; cluster run {result.run_id}, model `{result.fingerprint}`, "
        f"{result.n_items} deviations, {len(result.clusters)} clusters, {len(result.unclustered_ids)} unclustered.",
        "",
        false_alarm_sentence(drift),
        "",
        f"## Signals ({len(drift.signals)})",
        "",
    ]
    for s in drift.signals:
        lines.append(
            f"- **{s.kind}** {s.cluster_id}{' at ' + md_escape(s.site) if s.site else ''} since {s.start_period}: "
            f"{md_escape(s.message)} Records: {', '.join(s.entry_ids)}"
        )
    lines += [
        "",
        "## Clusters",
        "",
        "| id | name or label | family | size | first seen | last seen | top sites |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['id']} | {md_escape(r['title'])} | {md_escape(r['family'] or '')} | {r['size']} | {r['first_seen']} "
            f"| {r['last_seen']} | {md_escape(top_values(r['sites']))} |"
        )
    lines += ["", "## Trends of flagged clusters", ""]
    for cid, src in images.items():
        lines += [f"![{cid}]({src})", ""]
    if drift.notes:
        lines += ["## Notes", ""] + [f"- {md_escape(n)}" for n in drift.notes]
    return "\n".join(lines) + "\n"


def _html(kb: KnowledgeBase, data: dict[str, Any], images: dict[str, str]) -> str:
    result, drift, rows = data["result"], data["drift"], data["rows"]
    esc = html.escape
    signal_rows = "".join(
        f"<tr><td>{esc(s.kind)}</td><td>{esc(s.cluster_id)}</td><td>{esc(s.site or '')}</td><td>{esc(s.start_period)}</td>"
        f"<td>{s.statistic:.3g} / {s.threshold:.3g}</td><td>{esc(s.message)}</td><td>{esc(', '.join(s.entry_ids))}</td></tr>"
        for s in drift.signals
    )
    cluster_rows_html = "".join(
        f"<tr><td>{esc(r['id'])}</td><td>{esc(r['title'])}</td><td>{esc(r['family'] or '')}</td><td>{r['size']}</td>"
        f"<td>{esc(str(r['first_seen']))}</td><td>{esc(str(r['last_seen']))}</td><td>{esc(top_values(r['sites']))}</td></tr>"
        for r in rows
    )
    charts = "".join(f'<figure><img alt="{esc(cid)}" src="{src}"></figure>' for cid, src in images.items())
    notes = "".join(f"<li>{esc(n)}</li>" for n in drift.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TacitKB QA report</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;width:100%;font-size:13px}}
td,th{{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}}th{{background:#f3f5f7}}</style></head>
<body><h1>TacitKB QA report: deviation clusters and drift</h1>
<p>Generated {esc(utc_now())} from <code>{esc(str(kb.home))}</code>; cluster run {esc(str(result.run_id))}, model
<code>{esc(str(result.fingerprint))}</code>, {result.n_items} deviations, {len(result.clusters)} clusters,
{len(result.unclustered_ids)} unclustered.</p>
<p>{esc(false_alarm_sentence(drift))}</p>
<h2>Signals ({len(drift.signals)})</h2>
<table><tr><th>kind</th><th>cluster</th><th>site</th><th>since</th><th>statistic / threshold</th><th>what</th><th>records</th></tr>
{signal_rows}</table>
<h2>Clusters</h2>
<table><tr><th>id</th><th>name or label</th><th>family</th><th>size</th><th>first seen</th><th>last seen</th><th>top sites</th></tr>{cluster_rows_html}</table>
<h2>Trends of flagged clusters</h2>{charts}
{"<h2>Notes</h2><ul>" + notes + "</ul>" if notes else ""}
</body></html>
"""
