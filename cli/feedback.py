"""Judging search hits (`feedback`) and showing what the judgments do (`search --explain`)."""

from __future__ import annotations

from typing import Any

import click

from cli.common import Context, emit, json_option, pass_ctx, print_hits
from kb.knowledge_base import KnowledgeBase
from kb.models import Hit


@click.command()
@click.argument("query")
@click.argument("entry")
@click.option("--helped/--not-relevant", default=None, help="Whether the entry helped for this query.")
@json_option
@pass_ctx
def feedback(ctx: Context, query: str, entry: str, helped: bool | None, as_json: bool) -> None:
    """Mark ENTRY (an id or ext_id) as having helped, or not, for QUERY; later searches learn from it."""
    if helped is None:
        raise click.UsageError("say whether the entry helped: --helped or --not-relevant")
    row = ctx.kb.record_feedback(query, entry, helped=helped, user=ctx.user)
    if as_json:
        emit(row)
        return
    verdict = "helped" if helped else "not relevant"
    click.echo(f"recorded: {row['entry_id']} {verdict} for '{row['query']}' (by {row['user']}, {row['at']})")


def learning_summary(kb: KnowledgeBase) -> dict[str, Any]:
    """Return what the learned part of search holds: judgments, queries, links and the alpha tuning."""
    learned = kb.learned()
    return {
        "judgments": len(learned),
        "queries": len({j.query for j in learned.judgments}),
        "linked_pairs": learned.links,
        "alpha_tuning": learned.tuning.to_dict() if learned.tuning else None,
    }


def print_explained(kb: KnowledgeBase, hits: list[Hit], as_json: bool) -> None:
    """Print hits with their explanations and a summary of the learned part."""
    summary = learning_summary(kb)
    if as_json:
        emit({"learning": summary, "hits": [h.to_dict() for h in hits]})
        return
    tuning = summary["alpha_tuning"]
    if not summary["judgments"]:
        click.echo("learning: no judgments yet; the default ranking is used as is")
    else:
        n, q = summary["judgments"], summary["queries"]
        pairs = summary["linked_pairs"]
        click.echo(
            f"learning: {n} judgment{'s' * (n != 1)} for {q} quer{'ies' if q != 1 else 'y'}; "
            f"{pairs} pair{'s' * (pairs != 1)} of entries helped together; "
            f"{tuning['reason'] if tuning else 'no alpha tuning'}"
        )
    if not hits:
        print_hits(hits)
    for hit in hits:
        print_hits([hit])
        x = hit.explain
        click.echo(f"    matched words: {', '.join(x.get('matched_words') or []) or 'none'}")
        sim = x.get("semantic_similarity")
        click.echo(f"    semantic similarity: {'not in the dense top' if sim is None else f'{sim:.3f}'}")
        click.echo(f"    fused score {x.get('fused_score', 0):.6f} -> final {hit.score:.6f}")
        boost = x.get("judgment_boost")
        if boost:
            click.echo(
                f"    judgments: {boost['value']:+.3f} ({boost['helped']} helped, "
                f"{boost['not_relevant']} not relevant)"
            )
            for b in boost["because"]:
                click.echo(
                    f"      {b['judgment']} for '{b['query']}' (query similarity {b['similarity']:.2f})"
                )
        related = x.get("related_boost")
        if related:
            n = related["judged_together"]
            click.echo(
                f"    helped together with the best match {related['best_match']}: {related['value']:+.3f} "
                f"({n} earlier quer{'ies' if n != 1 else 'y'})"
            )
            for query in related["because"]:
                click.echo(f"      both helped for '{query}'")


COMMANDS = (feedback,)
