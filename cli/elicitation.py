"""CLI commands for elicitation: templates, capture, workshop sessions and knowledge coverage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from cli.common import Context, emit, json_option, pass_ctx
from ingest.coverage import knowledge_coverage
from ingest.templates import Template, TemplateValidationError, fill_template, load_templates
from ingest.vocabulary import Vocabulary, load_vocabulary
from ingest.workshops import WorkshopBook, parse_participant
from kb.models import KBError


def load_catalogue(home: Path | None = None) -> tuple[dict[str, Template], Vocabulary, list[str]]:
    """Return the templates, the vocabulary and the problems loading them (home's own files included)."""
    vocabulary = load_vocabulary(home=home)
    templates, errors = load_templates(vocabulary=vocabulary, home=home)
    return templates, vocabulary, [str(e) for e in errors if e.fatal]


def get_template(template_id: str, home: Path | None = None) -> tuple[Template, Vocabulary]:
    """Return one template and the vocabulary, or raise KBError listing the known ids."""
    templates, vocabulary, _ = load_catalogue(home)
    if template_id not in templates:
        raise KBError(
            f"argument 'TEMPLATE': unknown template '{template_id}' (known: {', '.join(sorted(templates))})"
        )
    return templates[template_id], vocabulary


def read_answers(path: Path) -> dict[str, Any]:
    """Return the answers in a YAML (or JSON) file, naming the file on a problem."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KBError(f"{path}: no such file") from exc
    except yaml.YAMLError as exc:
        raise KBError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise KBError(f"{path}: the answers must be a mapping of field names to answers")
    return data


def echo_field_errors(errors: list[Any]) -> None:
    """Print one line per field problem."""
    for error in errors:
        click.echo(f"  - {error.message}", err=True)


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def templates(click_ctx: click.Context, as_json: bool) -> None:
    """List the workshop templates (and any broken template files)."""
    if click_ctx.invoked_subcommand:
        return

    found, _, problems = load_catalogue(click_ctx.find_object(Context).home)
    rows = [
        {
            "id": t.id,
            "version": t.version,
            "title": t.title,
            "method": t.method,
            "entry_type": t.entry_type,
            "path": str(t.path),
        }
        for t in sorted(found.values(), key=lambda t: t.id)
    ]
    if as_json:
        emit({"templates": rows, "problems": problems})
        return
    for row in rows:
        click.echo(f"{row['id']:<28} v{row['version']}  {row['entry_type']:<10} {row['title']}")
    for problem in problems:
        click.echo(f"broken template: {problem}", err=True)


@templates.command(name="show")
@click.argument("template_id")
@json_option
@pass_ctx
def templates_show(ctx: Context, template_id: str, as_json: bool) -> None:
    """Show a template's fields and probes."""

    template, _ = get_template(template_id, ctx.home)
    if as_json:
        emit(
            {
                "id": template.id,
                "version": template.version,
                "title": template.title,
                "fields": [vars(f) for f in template.fields],
                "probes": [vars(p) for p in template.probes],
            }
        )
        return
    click.echo(click.style(f"{template.title} ({template.id} v{template.version})", bold=True))
    click.echo(template.description.strip())
    click.echo("\nfields:")
    for f in template.fields:
        req = " (required)" if f.required else ""
        click.echo(f"  {f.name:<24} {f.kind:<12} {f.label}{req}")
    if template.probes:
        click.echo("\nprobes:")
        for p in template.probes:
            click.echo(f"  [{p.id}] {p.question}")
            for follow in p.follow_ups:
                click.echo(f"      - {follow}")


@click.command()
@click.argument("template_id")
@click.option(
    "--answers", "answers_file", type=click.Path(path_type=Path), required=True, help="YAML file of answers."
)
@click.option("--process")
@click.option("--step")
@click.option("--site")
@click.option("--batch")
@json_option
@pass_ctx
def capture(
    ctx: Context, template_id: str, answers_file: Path, as_json: bool, **context_values: str | None
) -> None:
    """Fill a template from an answers file and store the entries (non-interactive)."""

    template, vocabulary = get_template(template_id, ctx.home)
    answers = read_answers(answers_file)
    context = {k: v for k, v in context_values.items() if v} | {"author": ctx.user}
    try:
        entries = fill_template(template, answers, vocabulary, context)
    except TemplateValidationError as exc:
        click.echo(f"error: {answers_file}: {len(exc.errors)} problem(s); nothing was stored:", err=True)
        echo_field_errors(exc.errors)
        raise SystemExit(1) from exc
    result = ctx.kb.add_many(
        entries, author=ctx.user, reason=f"capture with {template.id} v{template.version}"
    )
    out = [{"status": kind, "id": e.id, "title": e.title} for kind, e in result.outcomes]
    if as_json:
        emit(out)
    else:
        for row in out:
            click.echo(f"{row['status']:<9} {row['id']}  {row['title']}")


@click.group()
def workshop() -> None:
    """Workshop sessions: start, save answers, resume, list, commit."""


@workshop.command(name="start")
@click.argument("template_id")
@click.option("--facilitator", required=True)
@click.option("--participant", "participants", multiple=True, help="NAME:ROLE (repeatable).")
@click.option("--site")
@click.option("--process")
@click.option("--step")
@click.option("--date", "held_on", help="YYYY-MM-DD (default: today).")
@json_option
@pass_ctx
def workshop_start(
    ctx: Context,
    template_id: str,
    facilitator: str,
    participants: tuple[str, ...],
    site: str | None,
    process: str | None,
    step: str | None,
    held_on: str | None,
    as_json: bool,
) -> None:
    """Open a workshop for a template."""

    template, vocabulary = get_template(template_id, ctx.home)
    book = WorkshopBook(ctx.kb)
    ws = book.start(
        template,
        facilitator=facilitator,
        participants=[parse_participant(p) for p in participants],
        site=site,
        process=process,
        step=step,
        held_on=held_on,
        vocabulary=vocabulary,
    )
    emit(ws.to_dict()) if as_json else click.echo(
        f"started {ws.id} ({template.title}); save answers with "
        f"`tacitkb workshop save {ws.id} --answers FILE.yaml`"
    )


@workshop.command(name="save")
@click.argument("workshop_id")
@click.option("--answers", "answers_file", type=click.Path(path_type=Path), required=True)
@json_option
@pass_ctx
def workshop_save(ctx: Context, workshop_id: str, answers_file: Path, as_json: bool) -> None:
    """Save answers into a workshop's draft (kept even when incomplete)."""

    book = WorkshopBook(ctx.kb)
    template, vocabulary = get_template(book.get(workshop_id).template_id, ctx.home)
    ws, problems = book.save_draft(workshop_id, read_answers(answers_file), template, vocabulary)
    if as_json:
        emit({"workshop": ws.to_dict(), "problems": [vars(p) for p in problems]})
        return
    click.echo(
        f"saved draft r{ws.draft_revision} of {ws.id}; "
        + ("ready to commit" if not problems else f"{len(problems)} problem(s) before it can be committed:")
    )
    echo_field_errors(problems)


@workshop.command(name="resume")
@click.argument("workshop_id")
@json_option
@pass_ctx
def workshop_resume(ctx: Context, workshop_id: str, as_json: bool) -> None:
    """Show a workshop's draft and the probes still unanswered."""

    book = WorkshopBook(ctx.kb)
    ws = book.get(workshop_id)
    template, _ = get_template(ws.template_id, ctx.home)
    answered = set((ws.answers.get("probes") or {}).keys())
    open_probes = [p.id for p in template.probes if p.id not in answered]
    if as_json:
        emit({"workshop": ws.to_dict(), "unanswered_probes": open_probes})
        return
    click.echo(
        f"{ws.id} {ws.status}: {template.title}, {ws.process or ''} {ws.step or ''} at {ws.site or ''}, "
        f"facilitator {ws.facilitator}, draft r{ws.draft_revision}"
    )
    click.echo(
        yaml.safe_dump(ws.answers, sort_keys=False, allow_unicode=True) if ws.answers else "(no answers yet)"
    )
    for probe in template.probes:
        if probe.id in open_probes:
            click.echo(f"next probe [{probe.id}] {probe.question}")
            break


@workshop.command(name="list")
@click.option("--status", type=click.Choice(["open", "committed"]))
@json_option
@pass_ctx
def workshop_list(ctx: Context, status: str | None, as_json: bool) -> None:
    """List workshops, newest first."""

    rows = WorkshopBook(ctx.kb).list(status)
    if as_json:
        emit([w.to_dict() for w in rows])
        return
    for w in rows:
        click.echo(
            f"{w.id} {w.status:<9} {w.template_id:<26} {w.process or '-'} {w.step or '-'} {w.site or '-'} "
            f"{w.held_on} ({len(w.entry_ids)} entries)"
        )


@workshop.command(name="commit")
@click.argument("workshop_id")
@json_option
@pass_ctx
def workshop_commit(ctx: Context, workshop_id: str, as_json: bool) -> None:
    """Turn a workshop's draft into searchable entries."""

    book = WorkshopBook(ctx.kb)
    template, vocabulary = get_template(book.get(workshop_id).template_id, ctx.home)
    try:
        ws, ids = book.commit(workshop_id, template, vocabulary, author=ctx.user)
    except TemplateValidationError as exc:
        click.echo(f"error: {workshop_id}: {len(exc.errors)} problem(s); the draft is kept:", err=True)
        echo_field_errors(exc.errors)
        raise SystemExit(1) from exc
    emit(ws.to_dict()) if as_json else click.echo(f"{ws.id} committed: {', '.join(ids)}")


@click.command()
@click.option("--process")
@json_option
@pass_ctx
def coverage(ctx: Context, process: str | None, as_json: bool) -> None:
    """Which steps and ACTA probe categories are still empty, per site."""

    report = knowledge_coverage(ctx.kb, ctx.vocabulary(), process=process)
    if as_json:
        emit(report.to_dict())
        return
    short = {c: c[:4] for c in report.categories}
    click.echo(f"{'process/step':<32}" + " ".join(f"{short[c]:>4}" for c in report.categories) + "  types")
    for cell in report.steps:
        counts = " ".join(f"{cell.by_category.get(c, 0) or '.':>4}" for c in report.categories)
        types = ", ".join(f"{k} {v}" for k, v in sorted(cell.by_type.items()))
        click.echo(f"{cell.process + '/' + cell.step:<32}{counts}  {types}")
    click.echo(f"\ncategories: {', '.join(f'{v}={k}' for k, v in short.items())}")
    click.echo(f"\n{len(report.gaps)} gaps:")
    for gap in report.gaps:
        click.echo(f"  [{gap.kind}] {gap.detail}")


COMMANDS = (templates, capture, workshop, coverage)
