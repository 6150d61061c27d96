"""CLI commands for step state cards and failure patterns: `card` and `failure-pattern`."""

from __future__ import annotations

import click

from cli.common import Context, emit, json_option, pass_ctx
from ingest.failure_patterns import (
    DEFAULT_K,
    SIMILARITY_FLOOR,
    find_entry,
    suggest_failure_pattern,
    sync_failure_tags,
    tag_failure_pattern,
)
from ingest.state_cards import step_state_card


@click.command()
@click.option("--process", required=True, help="Process code or label (e.g. LVV, CAR-T).")
@click.option("--step", required=True, help="Step code or label of that process (e.g. transfection).")
@json_option
@pass_ctx
def card(ctx: Context, process: str, step: str, as_json: bool) -> None:
    """Show the state card of a step: readiness, transition, success cues, stabilisers, reversion risks."""

    result = step_state_card(ctx.kb, process, step, vocabulary=ctx.vocabulary())
    if as_json:
        emit(result.to_dict())
    else:
        click.echo(result.render_text())


@click.group(name="failure-pattern")
def failure_pattern() -> None:
    """Failure patterns (context, preparation, stability) on deviations and fixes: suggest, set, sync."""


@failure_pattern.command(name="suggest")
@click.argument("entry_or_text", metavar="ID_OR_TEXT")
@click.option("-k", "k", type=int, default=DEFAULT_K, show_default=True, help="Tagged neighbours that vote.")
@click.option(
    "--min-similarity",
    type=float,
    default=SIMILARITY_FLOOR,
    show_default=True,
    help="Neighbours below this cosine similarity do not vote.",
)
@json_option
@pass_ctx
def failure_pattern_suggest(
    ctx: Context, entry_or_text: str, k: int, min_similarity: float, as_json: bool
) -> None:
    """Suggest a failure pattern for an entry (id or ext_id) or a description, from similar tagged entries."""

    result = suggest_failure_pattern(
        ctx.kb, entry_or_text, k=k, min_similarity=min_similarity, vocabulary=ctx.vocabulary()
    )
    if as_json:
        emit(result.to_dict())
        return
    if result.pattern is None:
        click.echo(f"no suggestion: no tagged deviation or fix with similarity >= {min_similarity}")
        return
    click.echo(
        f"suggested pattern: {result.pattern} (confidence {result.confidence:.2f}; "
        f"votes {', '.join(f'{p} {v:.2f}' for p, v in result.votes.items())})"
    )
    for n in result.neighbours:
        mark = "*" if n.id in result.evidence_ids else " "
        ext = f" [{n.ext_id}]" if n.ext_id else ""
        click.echo(f" {mark} {n.id}{ext} {n.pattern:<12} {n.similarity:.3f}  {n.title}")


@failure_pattern.command(name="set")
@click.argument("entry_id", metavar="ID")
@click.argument("pattern", metavar="PATTERN")
@click.option("--reason", required=True, help="Why this pattern (recorded in the entry's history).")
@json_option
@pass_ctx
def failure_pattern_set(ctx: Context, entry_id: str, pattern: str, reason: str, as_json: bool) -> None:
    """Tag a deviation or fix with a failure pattern (a new revision of the entry)."""

    before = find_entry(ctx.kb, entry_id)
    entry = tag_failure_pattern(
        ctx.kb, entry_id, pattern, author=ctx.user, reason=reason, vocabulary=ctx.vocabulary()
    )
    changed = entry.revision != before.revision
    if as_json:
        emit(
            {
                "id": entry.id,
                "failure_pattern": entry.fields.get("failure_pattern"),
                "tags": entry.tags,
                "revision": entry.revision,
                "changed": changed,
            }
        )
        return
    state = f"revision {entry.revision}" if changed else "unchanged, already tagged"
    click.echo(f"{entry.id} failure pattern {entry.fields['failure_pattern']} ({state})")


@failure_pattern.command(name="sync")
@click.option(
    "--reason",
    default="mirror fields.failure_pattern as a tag",
    show_default=True,
    help="Reason recorded on each edited entry.",
)
@json_option
@pass_ctx
def failure_pattern_sync(ctx: Context, reason: str, as_json: bool) -> None:
    """Add the tag failure:<pattern> to entries that carry fields.failure_pattern without it."""

    ids = sync_failure_tags(ctx.kb, author=ctx.user, reason=reason)
    if as_json:
        emit({"tagged": ids})
    else:
        click.echo(f"tagged {len(ids)} entr{'y' if len(ids) == 1 else 'ies'}" + (": " if ids else ""))
        for entry_id in ids:
            click.echo(f"  {entry_id}")


COMMANDS = (card, failure_pattern)
