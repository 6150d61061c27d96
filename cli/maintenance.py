"""Commands that look after the knowledge base itself: init, stats, verify, reindex, migrate."""

from __future__ import annotations

import sys

import click

from cli.common import (
    Context,
    emit,
    json_option,
    load_samples,
    pass_ctx,
    progress_bar,
    status,
)
from kb.formatting import top_values
from kb.models import KBError


@click.command()
@click.option("--samples", is_flag=True, help="Load the sample data set (data/samples) if the base is empty.")
@json_option
@pass_ctx
def init(ctx: Context, samples: bool, as_json: bool) -> None:
    """Create the knowledge base (database and index) if missing."""

    kb = ctx.kb
    loaded = (
        load_samples(kb, ctx.user, quiet=as_json) if samples and kb.store.count(status=None) == 0 else None
    )
    status("checking the indexes (loading the model takes a while the first time) ...", as_json)
    kb.ensure_index()
    out = {"home": str(kb.home), "entries": kb.store.count(), "samples": loaded}
    emit(out) if as_json else click.echo(
        f"knowledge base ready at {kb.home} ({out['entries']} active entries)"
    )


@click.command()
@json_option
@pass_ctx
def stats(ctx: Context, as_json: bool) -> None:
    """Counts by type, process, site and status."""

    data = ctx.kb.stats()
    if as_json:
        emit(data)
        return
    click.echo(
        f"{data['home']}: {data['active']} active entries, {data['retired']} retired, "
        f"{data['links']} links, {data['revisions']} revisions"
    )
    # A record with hundreds of sites would print one unreadable line: the most frequent few, then a count.
    for key, shown in (("by_type", 10), ("by_process", 10), ("by_site", 5)):
        click.echo(f"  {key[3:]}: {top_values(data[key], shown)}")


@click.command()
@json_option
@pass_ctx
def verify(ctx: Context, as_json: bool) -> None:
    """Check the database, vectors, index and audit chain against each other (changes nothing)."""

    from kb.governance.integrity import verify_knowledge_base

    report = verify_knowledge_base(ctx.kb)
    if as_json:
        emit(report)
    else:
        for key in ("database", "model", "active_entries", "missing_vectors", "audit_chain"):
            click.echo(f"{key:<16} {report[key]}")
        click.echo(f"{'index':<16} {report['index']['state']}")
        click.echo(f"{'keyword index':<16} {report['keywords']['state']}")
        click.echo(
            "all consistent"
            if report["ok"]
            else "problems found: run `tacitkb reindex` to rebuild the indexes"
        )
    sys.exit(0 if report["ok"] else 3)


@click.command()
@json_option
@pass_ctx
def reindex(ctx: Context, as_json: bool) -> None:
    """Rebuild both indexes from the database (encoding only entries without a vector)."""

    kb = ctx.kb
    missing = len(kb.store.missing_vectors(kb.embedder.fingerprint))
    with progress_bar(missing, "encoding", as_json) as update:
        result = kb.reindex(progress=update)
    emit(result) if as_json else click.echo(
        f"index rebuilt: {result['indexed']} vectors ({result['kind']}), {result['encoded']} newly encoded; "
        f"keyword index: {result['keywords']} entries"
    )


@click.command()
@click.option(
    "--to", "target", required=True, help="The empty PostgreSQL database: postgresql://user@host:port/db"
)
@json_option
@pass_ctx
def migrate(ctx: Context, target: str, as_json: bool) -> None:
    """Copy this SQLite knowledge base into an empty PostgreSQL database, verified table by table."""

    from kb.storage.factory import DB_FILE, is_postgres_url
    from kb.storage.migrate import copy_sqlite_to_postgres
    from kb.storage.postgres import PostgresStore
    from kb.storage.sqlite import SQLiteStore

    if not is_postgres_url(target):
        raise KBError(f"argument '--to': '{target}' is not a postgresql:// URL")
    if not (ctx.home / DB_FILE).is_file():
        raise KBError(f"argument '--kb': no knowledge base at {ctx.home} (no {DB_FILE})")
    source, destination = SQLiteStore(ctx.home / DB_FILE), PostgresStore(target)
    try:
        report = copy_sqlite_to_postgres(source, destination)
    finally:
        source.close()
        destination.close()
    if as_json:
        emit(report.to_dict())
        return
    for t in report.tables:
        click.echo(
            f"{t.table:<13} {t.target_rows:>7} rows  sha256 {t.target_sha256[:16]}  matches the source"
        )
    click.echo(
        f"copied into {report.target}; change version {report.version}, audit head {report.audit_head}"
    )


COMMANDS = (init, stats, verify, reindex, migrate)
