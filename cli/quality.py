"""CLI commands for QA: deviation clusters, drift signals and the QA report."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import Context, check_periods, emit, json_option, pass_ctx
from kb.models import ENTRY_TYPES


@click.command()
@click.option("--type", "entry_type", type=click.Choice(ENTRY_TYPES), default="deviation", show_default=True)
@click.option("--rerun", is_flag=True, help="Cluster again even if the last run covers the current entries.")
@json_option
@pass_ctx
def clusters(ctx: Context, entry_type: str, rerun: bool, as_json: bool) -> None:
    """Deviation clusters: id, label, size, members, first and last seen, sites."""

    from kb.analytics.quality import cluster_rows, current_clusters, run_clustering

    kb = ctx.kb
    result = run_clustering(kb, entry_type=entry_type) if rerun else current_clusters(kb, entry_type)
    rows = cluster_rows(kb, result)
    if as_json:
        emit(
            {
                "run_id": result.run_id,
                "created_at": result.created_at,
                "fingerprint": result.fingerprint,
                "params": result.params,
                "clusters": rows,
                "unclustered": list(result.unclustered_ids),
                "events": [e.to_dict() for e in result.events],
            }
        )
        return
    click.echo(
        f"run {result.run_id}: {result.n_items} {entry_type} entries, {len(result.clusters)} clusters, "
        f"{len(result.unclustered_ids)} unclustered"
    )
    for r in rows:
        sites = ", ".join(f"{k} {v}" for k, v in r["sites"].items())
        click.echo(
            f"{r['id']}  {r['size']:>3}  {r['first_seen']} .. {r['last_seen']}  [{sites}]  {r['label']}"
        )
    for event in result.events:
        click.echo(f"event: {event.kind} {', '.join(event.old_ids)} -> {', '.join(event.new_ids)}")


@click.command()
@click.option("--period", type=click.Choice(["week", "month"]), default="month", show_default=True)
@click.option("--since", help="Start the record at this date (YYYY-MM-DD).")
@click.option(
    "--exposure",
    type=click.Choice(["none", "total"]),
    default="none",
    show_default=True,
    help="none: raw counts; total: each cluster's share of all deviations.",
)
@click.option(
    "--known-gap",
    "known_gaps",
    multiple=True,
    help="A period (YYYY-MM or YYYY-Www) missing from the record, not a drop (repeatable).",
    callback=check_periods,
)
@json_option
@pass_ctx
def drift(
    ctx: Context, period: str, since: str | None, exposure: str, known_gaps: tuple[str, ...], as_json: bool
) -> None:
    """Drift signals: what rose, where, since when, on which records, and the false-alarm rate."""

    from kb.analytics.quality import drift_report

    report = drift_report(
        ctx.kb,
        period=period,
        since=since,
        exposure=None if exposure == "none" else exposure,
        known_gaps=known_gaps,
    )
    if as_json:
        emit(report.to_dict())
        return
    far = report.false_alarm_rate
    click.echo(
        f"{len(report.signals)} signal(s); expected chance signals per year across all clusters: "
        f"{far.get('total_per_year')} (rising + site concentration)"
    )
    for s in report.signals:
        click.echo(f"\n[{s.kind}] {s.cluster_id}{' at ' + s.site if s.site else ''} since {s.start_period}")
        click.echo(f"  {s.message}")
        click.echo(f"  records: {', '.join(s.entry_ids)}")
    for note in report.notes:
        click.echo(f"\nnote: {note}")


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Report file (.html or .md).")
@click.option("--period", type=click.Choice(["week", "month"]), default="month", show_default=True)
@click.option("--since")
@json_option
@pass_ctx
def report(ctx: Context, out: Path, period: str, since: str | None, as_json: bool) -> None:
    """Write the QA report (clusters, trends as charts, signals with evidence)."""

    from kb.analytics.report import write_report

    path = write_report(ctx.kb, out, period=period, since=since)
    emit({"report": str(path)}) if as_json else click.echo(f"report written to {path}")


COMMANDS = (clusters, drift, report)
