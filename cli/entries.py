"""Commands that write or show single entries: add, import, show, edit, retire, link."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from cli.common import (
    Context,
    emit,
    json_option,
    parse_pairs,
    pass_ctx,
    progress_bar,
)
from kb.models import ENTRY_TYPES, LINK_RELATIONS, TEXT_FIELDS, KBError


@click.command()
@click.option("--type", "type_", type=click.Choice(ENTRY_TYPES), required=True)
@click.option("--text", help="The text (default: read from standard input).")
@click.option("--title")
@click.option("--ext-id")
@click.option("--process")
@click.option("--step")
@click.option("--site")
@click.option("--scale")
@click.option("--equipment")
@click.option("--batch")
@click.option("--occurred-at", help="Date or ISO timestamp of the observation.")
@click.option("--severity")
@click.option("--root-cause")
@click.option("--tag", "tags", multiple=True)
@click.option("--field", "field_pairs", multiple=True, help="Extra field KEY=VALUE (repeatable).")
@json_option
@pass_ctx
def add(
    ctx: Context,
    type_: str,
    text: str | None,
    tags: tuple[str, ...],
    field_pairs: tuple[str, ...],
    as_json: bool,
    **meta: Any,
) -> None:
    """Add one entry."""

    from ingest.importers import record_to_entry

    record = {k: v for k, v in meta.items() if v is not None}
    record.update(type=type_, text=text if text is not None else sys.stdin.read(), tags=list(tags))
    record["fields"] = parse_pairs(field_pairs, "--field")
    entry = ctx.kb.add(record_to_entry(record, {}, None), author=ctx.user)
    emit(entry.to_dict()) if as_json else click.echo(f"added {entry.id}: {entry.title}")


@click.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--type", "default_type", type=click.Choice(ENTRY_TYPES), help="Type for rows without a type column."
)
@click.option(
    "--map", "mappings", multiple=True, help="FIELD=COLUMN for a column with another name (repeatable)."
)
@click.option(
    "--ignore-unmapped",
    is_flag=True,
    help="Do not keep columns that map to no field (one entry per mapped record).",
)
@click.option(
    "--rejects-dir",
    type=click.Path(path_type=Path),
    help="Where reports and rejects go (default: KB/imports).",
)
@click.option("--process")
@click.option("--step")
@click.option("--site")
@json_option
@pass_ctx
def import_(
    ctx: Context,
    file: Path,
    default_type: str | None,
    mappings: tuple[str, ...],
    ignore_unmapped: bool,
    rejects_dir: Path | None,
    process: str | None,
    step: str | None,
    site: str | None,
    as_json: bool,
) -> None:
    """Import a CSV or JSONL file of records, or a Markdown, text, DOCX or PDF document."""

    from ingest.importers import RECORD_FORMATS, import_records, parse_mapping
    from kb.governance.transfer import import_package, is_package

    if is_package(file):
        data = import_package(ctx.kb, file, author=ctx.user)
    elif file.suffix.lower() in RECORD_FORMATS:
        mapping = parse_mapping(list(mappings))
        with progress_bar(0, file.name, as_json) as update:
            report = import_records(
                ctx.kb,
                file,
                mapping=mapping,
                default_type=default_type,
                keep_unmapped=not ignore_unmapped,
                author=ctx.user,
                reports_dir=rejects_dir,
                progress=update,
            )
        data = report.to_dict()
    else:
        from ingest.document_import import import_document

        data = import_document(ctx.kb, file, author=ctx.user, process=process, step=step, site=site)
    if as_json:
        emit(data)
        return
    counts = ", ".join(f"{k} {data[k]}" for k in ("added", "updated", "duplicates", "rejected") if k in data)
    click.echo(f"{file}: {counts}")
    for error in data.get("errors", [])[:20]:
        click.echo(f"  rejected: {error}", err=True)
    if data.get("rejects_file"):
        click.echo(f"rejected rows saved to {data['rejects_file']}")
    if data.get("report_file"):
        click.echo(f"report: {data['report_file']}")


@click.command()
@click.argument("entry_id")
@json_option
@pass_ctx
def show(ctx: Context, entry_id: str, as_json: bool) -> None:
    """Show one entry with its links and history."""

    kb = ctx.kb
    entry = kb.get(entry_id)
    links = kb.links(entry.id)
    history = kb.history(entry.id)
    if as_json:
        emit({**entry.to_dict(), "links": [vars(x) for x in links], "history": [vars(r) for r in history]})
        return
    click.echo(click.style(f"{entry.id}  {entry.title}", bold=True))
    shown = ("status", *(f for f in TEXT_FIELDS if f not in ("title", "text")), "created_at", "revision")
    for key in shown:
        value = getattr(entry, key)
        if value not in (None, ""):
            click.echo(f"  {key:<12} {value}")
    if entry.tags:
        click.echo(f"  {'tags':<12} {', '.join(entry.tags)}")
    click.echo("")
    click.echo(entry.text)
    if entry.fields:
        click.echo("\nfields:")
        for key, value in entry.fields.items():
            click.echo(f"  {key}: {value}")
    if links:
        click.echo("\nlinks:")
        for link in links:
            click.echo(f"  {link.source} {link.relation} {link.target}")
    click.echo("\nhistory:")
    for rev in history:
        changed = ", ".join(sorted(rev.changes))
        reason = f" — {rev.reason}" if rev.reason else ""
        click.echo(f"  r{rev.revision} {rev.at} {rev.action} by {rev.author}{reason} [{changed}]")


@click.command()
@click.argument("entry_id")
@click.option("--set", "sets", multiple=True, required=True, help="FIELD=VALUE (repeatable).")
@click.option("--reason", required=True, help="Why the change is made (kept in the history).")
@json_option
@pass_ctx
def edit(ctx: Context, entry_id: str, sets: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Change fields of an entry as a new revision."""

    changes: dict[str, Any] = parse_pairs(sets, "--set")
    if "tags" in changes:
        changes["tags"] = [t.strip() for t in changes["tags"].split(",") if t.strip()]
    if "fields" in changes:
        try:
            changes["fields"] = json.loads(changes["fields"])
        except ValueError as exc:
            raise KBError(f"argument '--set': fields must be a JSON object ({exc})") from exc
    entry = ctx.kb.edit(entry_id, changes, author=ctx.user, reason=reason)
    emit(entry.to_dict()) if as_json else click.echo(f"{entry.id} is now at revision {entry.revision}")


@click.command()
@click.argument("entry_id")
@click.option("--reason", required=True, help="Why the entry is retired (kept in the history).")
@json_option
@pass_ctx
def retire(ctx: Context, entry_id: str, reason: str, as_json: bool) -> None:
    """Retire an entry: it leaves search but stays in the record with its history."""

    entry = ctx.kb.retire(entry_id, author=ctx.user, reason=reason)
    emit(entry.to_dict()) if as_json else click.echo(f"{entry.id} retired (revision {entry.revision})")


@click.command()
@click.argument("source", required=False)
@click.argument("relation", required=False, type=click.Choice(LINK_RELATIONS))
@click.argument("target", required=False)
@click.option(
    "--from-file", type=click.Path(path_type=Path), help="CSV of source,relation,target (ids or ext_ids)."
)
@click.option("--note")
@json_option
@pass_ctx
def link(
    ctx: Context,
    source: str | None,
    relation: str | None,
    target: str | None,
    from_file: Path | None,
    note: str | None,
    as_json: bool,
) -> None:
    """Link two entries (SOURCE RELATION TARGET), or many from a CSV file."""

    if from_file:
        from ingest.importers import import_links

        result = import_links(ctx.kb, from_file, author=ctx.user)
        emit(result) if as_json else click.echo(f"linked {result['linked']}; {len(result['errors'])} errors")
        for error in result["errors"] if not as_json else []:
            click.echo(f"  {error}", err=True)
        return
    if not (source and relation and target):
        raise KBError("give SOURCE RELATION TARGET, or --from-file FILE")
    made = ctx.kb.link(source, relation, target, author=ctx.user, note=note)
    emit(vars(made)) if as_json else click.echo(f"{made.source} {made.relation} {made.target}")


COMMANDS = (add, import_, show, edit, retire, link)
