"""Commands that search: search, similar, demo."""

from __future__ import annotations

import json

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


@click.command()
@click.argument("query")
@click.option("-k", "k", default=10, show_default=True, help="How many results.")
@click.option(
    "--mode", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True
)
@click.option(
    "--expand",
    is_flag=True,
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
    query: str,
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

    expander = None
    if expand:
        from ingest.vocabulary import load_vocabulary

        expander = load_vocabulary().expand_query
    filters_ = make_filters(types, tags, **filters)
    hits = ctx.kb.search(query, k=k, filters=filters_, mode=mode, expand=expander)
    if explain:
        from cli.feedback import print_explained

        print_explained(ctx.kb, hits, as_json)
        return
    emit([h.to_dict() for h in hits]) if as_json else print_hits(hits)


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
@pass_ctx
def demo(ctx: Context, query: str) -> None:
    """Load the samples if the base is empty, then run one search end to end."""

    kb = ctx.kb
    if kb.store.count(status=None) == 0:
        click.echo(f"loading sample data into {kb.home} ...")
        click.echo(json.dumps(load_samples(kb, ctx.user, quiet=False)))
    click.echo(f'\n$ tacitkb search "{query}"')
    print_hits(kb.search(query, k=5))


COMMANDS = (search, similar, demo)
