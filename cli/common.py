"""What every command shares: the context, output helpers, filter options, the sample loader."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kb.knowledge_base import KnowledgeBase
from kb.models import ENTRY_TYPES, Entry, Hit, KBError, Link
from kb.retrieval.search import SearchFilters

if TYPE_CHECKING:
    from ingest.vocabulary import Vocabulary

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "samples"


class Context:
    """What every command needs: where the knowledge base is, who is acting, output mode."""

    def __init__(self, home: Path, user: str, create: bool = False, db: str | None = None) -> None:
        self.home = home
        self.user = user
        self.create = create
        self.db_url = db
        self._kb: KnowledgeBase | None = None

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base at home, opened on first use; refused when there is none (except for init)."""
        if self._kb is None:
            from kb.governance.users import actor_for_cli
            from kb.knowledge_base import DB_NAME

            if not self.create and not self.db_url and not (self.home / DB_NAME).is_file():
                raise KBError(f"no knowledge base at {self.home}; run `tacitkb init`")

            from ingest.vocabulary import QueryExpander

            # Searches expand the query with the vocabulary's synonyms by default (`search --no-expand`).
            kb = KnowledgeBase(self.home, db=self.db_url, query_expander=QueryExpander(home=self.home))
            # No account yet: unchanged (attributed by --as). Once accounts exist, the --as name must be an
            # active account, and its role is checked on every write.
            kb.actor = actor_for_cli(kb, self.user)
            self._kb = kb
        return self._kb

    def vocabulary(self) -> Vocabulary:
        """Return the vocabulary: the shipped one extended by this knowledge base's vocabulary.yaml."""
        from ingest.vocabulary import load_vocabulary

        return load_vocabulary(home=self.home)


pass_ctx = click.make_pass_decorator(Context)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def emit(data: Any) -> None:
    """Print data as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class Progress:
    """A progress callback: update(n) advances a tqdm bar (counts, rate, ETA) on a terminal, else nothing."""

    def __init__(self, bar: Any = None) -> None:
        self.bar = bar

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def set_total(self, total: int) -> None:
        """Set the total once it is known (an import knows it only after reading the file)."""
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()


def interactive() -> bool:
    """Return True when standard error is a terminal (progress and status lines go there)."""
    return sys.stderr.isatty()


@contextmanager
def progress_bar(total: int | None, label: str, quiet: bool) -> Any:
    """Yield a Progress that drives a tqdm bar on a terminal, and does nothing otherwise."""
    if quiet or not interactive():
        yield Progress()
        return
    from tqdm import tqdm

    with tqdm(total=total or None, desc=label, unit="entry", file=sys.stderr, dynamic_ncols=True) as bar:
        yield Progress(bar)
        if bar.total and bar.n < bar.total:
            # Duplicates are not encoded, so the count can stop short: the work is done, show it whole.
            bar.update(bar.total - bar.n)


def status(message: str, quiet: bool = False) -> None:
    """Print a status line to standard error on a terminal (e.g. before a slow model load)."""
    if not quiet and interactive():
        click.echo(message, err=True)


_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])|\d{4}-W(0[1-9]|[1-4]\d|5[0-3])")


def check_periods(
    click_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    """Click callback: refuse a period that is not YYYY-MM or YYYY-Www at once, naming the option."""
    for value in values:
        if not _PERIOD.fullmatch(value.strip()):
            raise KBError(
                f"argument '{param.opts[0]}': '{value}' is not a period "
                "(use YYYY-MM, e.g. 2025-03, or YYYY-Www, e.g. 2025-W09)"
            )
    return tuple(v.strip() for v in values)


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """Return {KEY: VALUE} from KEY=VALUE strings, naming the option on a bad one."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise KBError(f"argument '{option}': '{pair}' is not KEY=VALUE")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out


def describe_entry(entry: Entry) -> str:
    """Return a short metadata line for an entry."""
    parts = [entry.type, entry.process, entry.step, entry.site, entry.occurred_at]
    return " · ".join(p for p in parts if p)


_MATCH = re.compile(r"\*\*(.+?)\*\*")


def emphasise(snippet: str) -> str:
    """Return a snippet with its **matched** words in bold on a terminal (markers kept elsewhere)."""
    if not sys.stdout.isatty():
        return snippet
    return _MATCH.sub(lambda m: click.style(m.group(1), bold=True), snippet)


def link_line(kb: KnowledgeBase, entry_id: str, link: Link) -> str:
    """Return a link as seen from one entry: relation, direction, the other entry's id and title."""
    other = link.target if link.source == entry_id else link.source
    arrow = link.relation if link.source == entry_id else f"{link.relation} (from)"
    try:
        title = kb.get(other).title
    except KBError:
        title = "(not found)"
    return f"{arrow} {other}  {title}"


def print_hits(hits: list[Hit], kb: KnowledgeBase | None = None) -> None:
    """Print search hits for people; link lines carry the linked entry's title."""
    if kb is None:
        kb = click.get_current_context().find_object(Context).kb
    if not hits:
        click.echo("no matches")
    for hit in hits:
        e = hit.entry
        ext = f" [{e.ext_id}]" if e.ext_id else ""
        click.echo(f"{hit.rank:>2}. {click.style(e.id, bold=True)}{ext}  {e.title}")
        click.echo(f"    {describe_entry(e)}  (score {hit.score:.4f}; {hit.why})")
        click.echo(f"    {emphasise(hit.snippet)}")
        for link in hit.links:
            click.echo(f"    -> {link_line(kb, e.id, link)}")


def filter_options(fn: Callable) -> Callable:
    """Add the shared search filter options to a command."""
    for option in reversed(
        [
            click.option(
                "--type",
                "types",
                multiple=True,
                type=click.Choice(ENTRY_TYPES),
                help="Entry type (repeatable).",
            ),
            click.option("--process"),
            click.option("--step"),
            click.option("--site"),
            click.option("--since", help="Occurred on or after (YYYY-MM-DD)."),
            click.option("--until", help="Occurred on or before (YYYY-MM-DD)."),
            click.option("--tag", "tags", multiple=True),
        ]
    ):
        fn = option(fn)
    return fn


def make_filters(types: tuple[str, ...], tags: tuple[str, ...], **values: str | None) -> SearchFilters:
    """Return SearchFilters from command options."""
    return SearchFilters(types=list(types), tags=list(tags), **values)


def load_samples(
    kb: KnowledgeBase, user: str, quiet: bool = True, samples_dir: Path = SAMPLES_DIR
) -> dict[str, Any]:
    """Import data/samples (entries.jsonl and links.csv) into a knowledge base."""
    from ingest.importers import import_links, import_records

    entries_file = samples_dir / "entries.jsonl"
    if not entries_file.exists():
        raise KBError(f"sample data {entries_file} is missing")
    total = sum(1 for _ in entries_file.open())
    status(f"loading {total} sample records into {kb.home} (the model loads first) ...", quiet)
    with progress_bar(total, "samples", quiet) as update:
        report = import_records(kb, entries_file, author=user, progress=update)
    links = (
        import_links(kb, samples_dir / "links.csv", author=user)
        if (samples_dir / "links.csv").exists()
        else {}
    )
    return {
        "added": report.added,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "linked": links.get("linked", 0),
    }
