"""Commands that search: search, similar, demo."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

import click

from cli.common import (
    Context,
    emit,
    filter_options,
    json_option,
    load_samples,
    make_filters,
    pass_ctx,
    print_hits,
)
from kb.models import KBError


@click.command()
@click.argument("query", required=False)
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read one query per input line; print one JSON line per query (the model loads once).",
)
@click.option("-k", "k", default=10, show_default=True, help="How many results.")
@click.option(
    "--mode", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True
)
@click.option(
    "--expand/--no-expand",
    default=True,
    show_default=True,
    help="Add trade synonyms and abbreviations from the vocabulary to the keyword query.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Show why each hit ranks where it does, and what earlier judgments changed.",
)
@filter_options
@json_option
@pass_ctx
def search(
    ctx: Context,
    query: str | None,
    from_stdin: bool,
    k: int,
    mode: str,
    expand: bool,
    explain: bool,
    types: tuple[str, ...],
    tags: tuple[str, ...],
    as_json: bool,
    **filters: str | None,
) -> None:
    """Search by describing the problem in your own words."""

    # The knowledge base expands with the vocabulary by default; --no-expand searches the words as typed.
    expander = ctx.kb.query_expander if expand else None
    filters_ = make_filters(types, tags, **filters)
    if from_stdin:
        if query is not None:
            raise KBError("argument 'QUERY': give a query or --stdin, not both")
        search_lines(ctx, sys.stdin, k=k, filters=filters_, mode=mode, expand=expander)
        return
    if query is None:
        raise KBError("argument 'QUERY': missing (or use --stdin to read one query per line)")
    hits = ctx.kb.search(query, k=k, filters=filters_, mode=mode, expand=expander)
    if getattr(expander, "problem", None):
        click.echo(f"warning: {expander.problem}", err=True)
    if explain:
        from cli.feedback import print_explained

        print_explained(ctx.kb, hits, as_json)
        return
    emit([h.to_dict() for h in hits]) if as_json else print_hits(hits)


def search_lines(ctx: Context, lines: Iterable[str], **options: Any) -> None:
    """Answer one query per non-blank line with one JSON line {"line", "query", "hits"} each."""
    for number, line in enumerate(lines, start=1):
        query = line.strip()
        if not query:
            continue
        hits = ctx.kb.search(query, **options)
        record = {"line": number, "query": query, "hits": [h.to_dict() for h in hits]}
        # One line per query, flushed: a script can write the next query after reading this answer.
        click.echo(json.dumps(record, ensure_ascii=False, default=str))
        sys.stdout.flush()


@click.command()
@click.argument("entry_id")
@click.option("-k", "k", default=10, show_default=True)
@filter_options
@json_option
@pass_ctx
def similar(
    ctx: Context,
    entry_id: str,
    k: int,
    types: tuple[str, ...],
    tags: tuple[str, ...],
    as_json: bool,
    **filters: str | None,
) -> None:
    """Entries most similar in meaning to ENTRY_ID."""

    hits = ctx.kb.similar(entry_id, k=k, filters=make_filters(types, tags, **filters))
    emit([h.to_dict() for h in hits]) if as_json else print_hits(hits)


@click.command()
@click.option(
    "--query",
    default="depth filter pressure climbing fast, stringy clumps in the harvest",
    help="A symptom to search for.",
)
@json_option
@pass_ctx
def demo(ctx: Context, query: str, as_json: bool) -> None:
    """Load the samples if the base is empty, then run one search end to end."""

    kb = ctx.kb
    loaded = None
    if kb.store.count(status=None) == 0:
        click.echo(f"loading sample data into {kb.home} ...", err=as_json)
        loaded = load_samples(kb, ctx.user, quiet=as_json)
        None if as_json else click.echo(json.dumps(loaded))
    hits = kb.search(query, k=5)
    if as_json:
        emit({"samples": loaded, "query": query, "hits": [h.to_dict() for h in hits]})
        return
    click.echo(f'\n$ tacitkb search "{query}"')
    print_hits(hits)


COMMANDS = (search, similar, demo)
