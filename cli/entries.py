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
    link_line,
    parse_pairs,
    pass_ctx,
    progress_bar,
    status,
)
from kb.models import EDITABLE_FIELDS, ENTRY_TYPES, LINK_RELATIONS, TEXT_FIELDS, Entry, KBError


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


MAX_REJECTS_SHOWN = 20
MAPPABLE_FIELDS = (*TEXT_FIELDS, "tags")  # what ingest.importers.parse_mapping accepts
IMPORT_HELP = f"""Import a file: CSV or JSONL records, a Markdown, text, DOCX or PDF document, or a transfer package.

\b
Record columns named like these fields map directly; --map FIELD=COLUMN maps others:
  {", ".join(MAPPABLE_FIELDS[:8])},
  {", ".join(MAPPABLE_FIELDS[8:])}
Other columns are kept in each entry's fields (unless --ignore-unmapped).
--site, --process and --step fill rows (or a document) that have no value for them.
--fix-from COLUMN imports a problem/action file: each row becomes a deviation (text from the text
column) and a fix (text from COLUMN), linked fixed_by; the fix's ext_id is the deviation's + "/fix".
"""


def supported_formats() -> str:
    """Return every file type `import` reads, for error messages and help."""
    from ingest.documents import SUPPORTED_EXTENSIONS
    from ingest.importers import RECORD_FORMATS

    return (
        f"records {', '.join(RECORD_FORMATS)}; documents {', '.join(SUPPORTED_EXTENSIONS)}; "
        "transfer packages .zip or a package folder"
    )


@click.command(name="import", help=IMPORT_HELP)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--type", "default_type", type=click.Choice(ENTRY_TYPES), help="Type for rows without a type column."
)
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read FIELD from a column with another name (repeatable; fields listed above).",
)
@click.option(
    "--ignore-unmapped",
    is_flag=True,
    help="Do not keep columns that map to no field (one entry per mapped record).",
)
@click.option(
    "--fix-from",
    metavar="COLUMN",
    help="Each row is a deviation plus the fix in COLUMN, linked fixed_by (problem/action files).",
)
@click.option(
    "--allow-type-change",
    is_flag=True,
    help="Let a re-import change the type of entries it finds by ext_id (refused otherwise).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Import only the first N rows (to try a mapping before the whole file).",
)
@click.option(
    "--rejects-dir",
    type=click.Path(path_type=Path),
    help="Where reports and rejects go (default: KB/imports).",
)
@click.option("--process", help="Process for rows (or a document) without one.")
@click.option("--step", help="Step for rows (or a document) without one.")
@click.option("--site", help="Site for rows (or a document) without one.")
@json_option
@pass_ctx
def import_(
    ctx: Context,
    file: Path,
    process: str | None,
    step: str | None,
    site: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Import a file of records, a document or a transfer package (see the help text above)."""
    try:
        data = _run_import(ctx, file, {"process": process, "step": step, "site": site}, as_json, **options)
    except KeyboardInterrupt:
        # Records, pairs, documents and packages are each written in one transaction (records after
        # encoding): an interrupt leaves the knowledge base as it was.
        click.echo(f"\ninterrupted: nothing from {file} was imported", err=True)
        sys.exit(130)
    if as_json:
        emit(data)
    else:
        counts = ", ".join(
            f"{k} {data[k]}"
            for k in ("added", "updated", "duplicates", "rejected", "linked")
            if data.get(k) is not None
        )
        click.echo(f"{file}: {counts}")
        errors = data.get("errors", [])
        for error in errors[:MAX_REJECTS_SHOWN]:
            click.echo(f"  rejected: {error}", err=True)
        if len(errors) > MAX_REJECTS_SHOWN:
            click.echo(
                f"  ... and {len(errors) - MAX_REJECTS_SHOWN} more (all in the rejects file)", err=True
            )
        if data.get("rejects_file"):
            click.echo(f"rejected rows saved to {data['rejects_file']}")
        if data.get("report_file"):
            click.echo(f"report: {data['report_file']}")
    if data.get("rejected") and data.get("rows") == data.get("rejected"):
        if not as_json:
            click.echo(f"error: {file}: every row was rejected; nothing was imported", err=True)
        sys.exit(1)


def _run_import(
    ctx: Context,
    file: Path,
    defaults: dict[str, str | None],
    quiet: bool,
    *,
    default_type: str | None,
    mappings: tuple[str, ...],
    ignore_unmapped: bool,
    fix_from: str | None,
    allow_type_change: bool,
    limit: int | None,
    rejects_dir: Path | None,
) -> dict[str, Any]:
    """Import one file of any supported kind and return what was done."""
    from ingest.documents import SUPPORTED_EXTENSIONS
    from ingest.importers import RECORD_FORMATS, import_records, parse_mapping
    from kb.governance.transfer import import_package, is_package

    record_only = {
        "--type": default_type,
        "--map": mappings,
        "--fix-from": fix_from,
        "--ignore-unmapped": ignore_unmapped,
        "--limit": limit,
    }
    given = {k: v for k, v in defaults.items() if v}
    kb = ctx.kb  # a missing knowledge base is named before anything about the file
    suffix = file.suffix.lower()
    if not file.is_dir() and suffix not in (*RECORD_FORMATS, *SUPPORTED_EXTENSIONS, ".zip"):
        raise KBError(
            f"{file}: unsupported file type '{file.suffix or '(none)'}' (import reads {supported_formats()})"
        )
    if not file.exists():
        raise KBError(f"{file}: no such file")
    if is_package(file):
        used = [k for k, v in record_only.items() if v] + [f"--{k}" for k in given]
        if used:
            raise KBError(f"argument '{used[0]}': does not apply to a transfer package ({file})")
        return import_package(kb, file, author=ctx.user)
    if suffix in RECORD_FORMATS:
        mapping = parse_mapping(list(mappings))
        status(f"reading {file.name} ...", quiet)
        with progress_bar(None, file.name, quiet) as progress:
            report = import_records(
                kb,
                file,
                mapping=mapping,
                default_type=default_type,
                keep_unmapped=not ignore_unmapped,
                author=ctx.user,
                reports_dir=rejects_dir,
                progress=progress,
                progress_total=progress.set_total,
                defaults=given,
                fix_from=fix_from,
                allow_type_change=allow_type_change,
                limit=limit,
            )
        return report.to_dict()
    if suffix in SUPPORTED_EXTENSIONS:
        used = [k for k, v in record_only.items() if v]
        if used:
            raise KBError(
                f"argument '{used[0]}': applies to record files (CSV, JSONL), not to a document ({file})"
            )
        from ingest.document_import import import_document

        return import_document(kb, file, author=ctx.user, **given)
    raise KBError(
        f"{file}: unsupported file type '{file.suffix or '(none)'}' (import reads {supported_formats()})"
    )


@click.command()
@click.argument("entry_id")
@json_option
@pass_ctx
def show(ctx: Context, entry_id: str, as_json: bool) -> None:
    """Show one entry with its links and history."""

    kb = ctx.kb
    entry = kb.resolve(entry_id)
    links = kb.links(entry.id)
    history = kb.history(entry.id)
    together = kb.helped_together(entry.id)
    if as_json:
        emit(
            {
                **entry.to_dict(),
                "links": [vars(x) for x in links],
                "helped_together": [{"id": e.id, "title": e.title, "searches": q} for e, q in together],
                "history": [vars(r) for r in history],
            }
        )
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
            click.echo(f"  {link_line(kb, entry.id, link)}")
    if together:
        # Search lifts these when this entry is a query's best match (learned from judgments).
        click.echo("\nhelped together with (judged helpful for the same searches):")
        for other, searches in together:
            quoted = "; ".join(f"'{q}'" for q in searches[:3]) + ("; ..." if len(searches) > 3 else "")
            click.echo(
                f"  {other.id}  {other.title}  ({len(searches)} search{'es' * (len(searches) != 1)}: {quoted})"
            )
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
    kb = ctx.kb
    before = kb.resolve(entry_id)
    draft = Entry(**{**before.to_dict(), **changes}) if set(changes) <= set(EDITABLE_FIELDS) else None
    if draft is not None and all(getattr(draft, k) == getattr(before, k) for k in changes):
        # Nothing would change: say so, and write no revision.
        if as_json:
            emit({**before.to_dict(), "changed": False})
        else:
            click.echo(
                f"{before.id} unchanged: it already has {', '.join(f'{k}={v}' for k, v in parse_pairs(sets, '--set').items())} (still revision {before.revision})"
            )
        return
    entry = kb.edit(before.id, changes, author=ctx.user, reason=reason)
    if as_json:
        emit({**entry.to_dict(), "changed": True})
    else:
        click.echo(f"{entry.id} is now at revision {entry.revision}")


@click.command()
@click.argument("entry_id")
@click.option("--reason", required=True, help="Why the entry is retired (kept in the history).")
@json_option
@pass_ctx
def retire(ctx: Context, entry_id: str, reason: str, as_json: bool) -> None:
    """Retire an entry: it leaves search but stays in the record with its history."""

    entry = ctx.kb.retire(ctx.kb.resolve(entry_id).id, author=ctx.user, reason=reason)
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
    kb = ctx.kb
    made = kb.link(kb.resolve(source).id, relation, kb.resolve(target).id, author=ctx.user, note=note)
    emit(vars(made)) if as_json else click.echo(f"{made.source} {made.relation} {made.target}")


COMMANDS = (add, import_, show, edit, retire, link)
