"""CLI commands for QA: deviation clusters (and their curation), drift signals and the QA report."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import Context, check_periods, emit, json_option, pass_ctx
from kb.models import ENTRY_TYPES

TYPE_OPTION = click.option(
    "--type", "entry_type", type=click.Choice(ENTRY_TYPES), default="deviation", show_default=True
)


def _print_clusters(result, rows, entry_type: str) -> None:  # noqa: ANN001 - ClusterResult, rows
    from kb.formatting import top_values

    click.echo(
        f"run {result.run_id}: {result.n_items} {entry_type} entries, {len(result.clusters)} clusters in "
        f"{len(result.families) or 'no'} families, {len(result.unclustered_ids)} unclustered"
    )
    by_id = {r["id"]: r for r in rows}
    families = result.families or [{"id": None, "label": [], "clusters": [r["id"] for r in rows]}]
    for fam in families:
        if fam["id"]:
            click.echo(
                f"\n{fam['id']}  {', '.join(fam['label'])}  ({fam.get('size', '?')} in {len(fam['clusters'])} clusters)"
            )
        for cid in sorted(fam["clusters"], key=lambda c: (-by_id[c]["size"], c) if c in by_id else (0, c)):
            r = by_id.get(cid)
            if r is None:
                continue
            # Label first, then the numbers; only the top sites (a record may have hundreds).
            click.echo(
                f"  {r['id']}  {r['title']}  | {r['size']} | {r['first_seen']} .. {r['last_seen']} | "
                f"{top_values(r['sites'])}"
            )
    for event in result.events:
        click.echo(f"event: {event.kind} {', '.join(event.old_ids)} -> {', '.join(event.new_ids)}")


@click.group(invoke_without_command=True)
@TYPE_OPTION
@click.option("--rerun", is_flag=True, help="Cluster again even if the last run covers the current entries.")
@json_option
@click.pass_context
def clusters(click_ctx: click.Context, entry_type: str, rerun: bool, as_json: bool) -> None:
    """Deviation clusters in families: id, name or label, size, first and last seen, top sites.

    Subcommands curate them (rename, merge, split); curation is audited and kept when re-clustering.
    """
    click_ctx.obj.cluster_type = entry_type
    if click_ctx.invoked_subcommand is not None:
        return
    from kb.analytics.quality import cluster_rows, current_clusters, run_clustering

    kb = click_ctx.obj.kb
    result = run_clustering(kb, entry_type=entry_type) if rerun else current_clusters(kb, entry_type)
    rows = cluster_rows(kb, result)
    if as_json:
        emit(
            {
                "run_id": result.run_id,
                "created_at": result.created_at,
                "fingerprint": result.fingerprint,
                "params": result.params,
                "families": result.families,
                "clusters": rows,
                "unclustered": list(result.unclustered_ids),
                "events": [e.to_dict() for e in result.events],
            }
        )
        return
    _print_clusters(result, rows, entry_type)


def _curate(ctx: Context, action: str, cluster_id: str, as_json: bool, **kw: object) -> None:
    from kb.analytics.quality import curate

    entry_type = getattr(ctx, "cluster_type", "deviation")
    result = curate(ctx.kb, action, cluster_id.strip().upper(), entry_type=entry_type, **kw)  # type: ignore[arg-type]
    touched = (
        [c for c in result.clusters if c.id == cluster_id.strip().upper() or c.id in result.events[0].new_ids]
        if result.events
        else [result.get(cluster_id.strip().upper())]
    )
    if as_json:
        emit({"run_id": result.run_id, "clusters": [c.to_dict() for c in touched]})
        return
    for c in touched:
        click.echo(f"{c.id}  {c.title()}  | {c.size} members | run {result.run_id}")


@clusters.command("rename")
@click.argument("cluster_id")
@click.argument("name")
@json_option
@pass_ctx
def clusters_rename(ctx: Context, cluster_id: str, name: str, as_json: bool) -> None:
    """Give cluster CLUSTER_ID a name (kept across re-clustering, audited)."""
    _curate(ctx, "rename", cluster_id, as_json, name=name)


@clusters.command("merge")
@click.argument("cluster_id")
@click.argument("others", nargs=-1, required=True)
@json_option
@pass_ctx
def clusters_merge(ctx: Context, cluster_id: str, others: tuple[str, ...], as_json: bool) -> None:
    """Merge OTHERS into CLUSTER_ID (which keeps its id and name; audited)."""
    _curate(ctx, "merge", cluster_id, as_json, others=tuple(o.strip().upper() for o in others))


@clusters.command("split")
@click.argument("cluster_id")
@json_option
@pass_ctx
def clusters_split(ctx: Context, cluster_id: str, as_json: bool) -> None:
    """Split CLUSTER_ID in two (the larger part keeps the id; audited)."""
    _curate(ctx, "split", cluster_id, as_json)


@click.command()
@click.option("--period", type=click.Choice(["week", "month"]), default="month", show_default=True)
@click.option("--since", help="Start the record at this date (YYYY-MM-DD).")
@click.option(
    "--exposure",
    type=click.Choice(["auto", "none", "total"]),
    default="auto",
    show_default=True,
    help="auto: decided from the record (counts if the volume is steady, else shares); none: raw counts; "
    "total: each cluster's share of all deviations.",
)
@click.option(
    "--known-gap",
    "known_gaps",
    multiple=True,
    help="A period (YYYY-MM or YYYY-Www) missing from the record, not a drop (repeatable).",
    callback=check_periods,
)
@click.option(
    "--calibrate",
    type=click.IntRange(min=1),
    default=None,
    help="Re-run the detectors N times with permuted dates: measured false alarms and each signal's p.",
)
@json_option
@pass_ctx
def drift(
    ctx: Context,
    period: str,
    since: str | None,
    exposure: str,
    known_gaps: tuple[str, ...],
    calibrate: int | None,
    as_json: bool,
) -> None:
    """Drift signals: what rose, where, since when, on which records, and the false-alarm rate."""

    from kb.analytics.quality import drift_report

    report = drift_report(
        ctx.kb,
        period=period,
        since=since,
        exposure={"none": None}.get(exposure, exposure),
        known_gaps=known_gaps,
        calibrate=calibrate or 0,
    )
    if as_json:
        emit(report.to_dict())
        return
    far = report.false_alarm_rate
    click.echo(f"watching {report.params['watching']}: {report.params['watching_reason']}")
    words = far.get("term_burst", {}).get("n_terms")
    watched = f"{far.get('rising', {}).get('n_clusters', 0)} clusters" + (
        f" and {words} words" if words else ""
    )
    tests = "rising + word bursts + site concentration" if words else "rising + site concentration"
    click.echo(
        f"{len(report.signals)} signal(s); expected chance signals per year across all {watched}: "
        f"{far.get('total_per_year')} ({tests})"
    )
    cal = report.params.get("calibration")
    if cal:
        from kb.analytics.calibration import Calibration

        click.echo(Calibration(**cal).summary())
    for s in report.signals:
        p = s.details.get("permutation_p")
        unusual = (
            f"  (p = {p:.2g} against {cal['n_permutations']} permutations)" if p is not None and cal else ""
        )
        click.echo(
            f"\n[{s.kind}] {s.cluster_id}{' at ' + s.site if s.site else ''} since {s.start_period}{unusual}"
        )
        click.echo(f"  {s.message}")
        ids = s.entry_ids
        more = f" ... and {len(ids) - 10} more" if len(ids) > 10 else ""
        click.echo(f"  records: {', '.join(ids[:10])}{more}")
    for note in report.notes:
        click.echo(f"\nnote: {note}")


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Report file (.html or .md).")
@click.option("--period", type=click.Choice(["week", "month"]), default="month", show_default=True)
@click.option("--since")
@click.option(
    "--calibrate", type=click.IntRange(min=1), default=None, help="Add a calibration line (N permutations)."
)
@json_option
@pass_ctx
def report(
    ctx: Context, out: Path, period: str, since: str | None, calibrate: int | None, as_json: bool
) -> None:
    """Write the QA report (clusters, trends as charts, signals with evidence)."""

    from kb.analytics.report import write_report

    path = write_report(ctx.kb, out, period=period, since=since, calibrate=calibrate or 0)
    emit({"report": str(path)}) if as_json else click.echo(f"report written to {path}")


COMMANDS = (clusters, drift, report)
