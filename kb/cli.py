"""The `tacitkb` command line: each command is a few lines over the KnowledgeBase facade."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from kb.kb import KnowledgeBase, default_home
from kb.models import ENTRY_TYPES, LINK_RELATIONS, TEXT_FIELDS, Entry, Hit, KBError
from kb.search import SearchFilters

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "samples"


class Context:
    """What every command needs: where the knowledge base is, who is acting, output mode."""

    def __init__(self, home: Path, user: str) -> None:
        self.home = home
        self.user = user
        self._kb: KnowledgeBase | None = None

    @property
    def kb(self) -> KnowledgeBase:
        if self._kb is None:
            from kb.users import actor_for_cli

            kb = KnowledgeBase(self.home)
            # No account yet: unchanged (attributed by --as). Once accounts exist, the --as name must be an
            # active account, and its role is checked on every write.
            kb.actor = actor_for_cli(kb, self.user)
            self._kb = kb
        return self._kb


pass_ctx = click.make_pass_decorator(Context)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def emit(data: Any) -> None:
    """Print data as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@contextmanager
def progress_bar(total: int, label: str, quiet: bool) -> Any:
    """Yield an update(n) callback that drives a tqdm bar on a terminal, and does nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="entry", file=sys.stderr) as bar:
        yield bar.update


def run_guarded(fn: Callable[[], None]) -> None:
    """Run a command body, turning KBError into a clear message and exit code 1."""
    try:
        fn()
    except KBError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


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


def print_hits(hits: list[Hit]) -> None:
    """Print search hits for people."""
    if not hits:
        click.echo("no matches")
    for hit in hits:
        e = hit.entry
        ext = f" [{e.ext_id}]" if e.ext_id else ""
        click.echo(f"{hit.rank:>2}. {click.style(e.id, bold=True)}{ext}  {e.title}")
        click.echo(f"    {describe_entry(e)}  (score {hit.score:.4f}; {hit.why})")
        click.echo(f"    {hit.snippet}")
        for link in hit.links:
            other = link.target if link.source == e.id else link.source
            arrow = link.relation if link.source == e.id else f"{link.relation} (from)"
            click.echo(f"    -> {arrow} {other}")


class TacitGroup(click.Group):
    """The command group; elicitation and QA commands live beside their code and are loaded on demand."""

    plugin_modules = ("ingest.commands", "ingest.card_commands", "kb.qa_commands", "kb.admin_commands")

    def _plugins(self) -> dict[str, click.Command]:
        import importlib

        found: dict[str, click.Command] = {}
        for name in self.plugin_modules:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            found.update({c.name: c for c in module.COMMANDS})
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugins().get(name)


@click.group(cls=TacitGroup)
@click.option(
    "--kb",
    "home",
    type=click.Path(path_type=Path),
    default=None,
    help="Knowledge base folder (default: $TACITKB_HOME, else ~/.local/share/tacitkb).",
)
@click.option("--as", "user", default=None, help="Who is acting (default: $TACITKB_USER or the OS user).")
@click.version_option(package_name="tacitkb")
@click.pass_context
def cli(click_ctx: click.Context, home: Path | None, user: str | None) -> None:
    """TacitKB: capture and find the tacit process knowledge of CGT tech transfer."""
    acting = user or os.environ.get("TACITKB_USER") or getpass.getuser()
    click_ctx.obj = Context(home or default_home(), acting)


@cli.command()
@click.option("--samples", is_flag=True, help="Load the sample data set (data/samples) if the base is empty.")
@json_option
@pass_ctx
def init(ctx: Context, samples: bool, as_json: bool) -> None:
    """Create the knowledge base (database and index) if missing."""

    def body() -> None:
        kb = ctx.kb
        loaded = (
            load_samples(kb, ctx.user, quiet=as_json)
            if samples and kb.store.count(status=None) == 0
            else None
        )
        kb.ensure_index()
        out = {"home": str(kb.home), "entries": kb.store.count(), "samples": loaded}
        emit(out) if as_json else click.echo(
            f"knowledge base ready at {kb.home} ({out['entries']} active entries)"
        )

    run_guarded(body)


def load_samples(
    kb: KnowledgeBase, user: str, quiet: bool = True, samples_dir: Path = SAMPLES_DIR
) -> dict[str, Any]:
    """Import data/samples (entries.jsonl and links.csv) into a knowledge base."""
    from ingest.importers import import_links, import_records

    entries_file = samples_dir / "entries.jsonl"
    if not entries_file.exists():
        raise KBError(f"sample data {entries_file} is missing")
    with progress_bar(sum(1 for _ in entries_file.open()), "samples", quiet) as update:
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


@cli.command()
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

    def body() -> None:
        from ingest.importers import record_to_entry

        record = {k: v for k, v in meta.items() if v is not None}
        record.update(type=type_, text=text if text is not None else sys.stdin.read(), tags=list(tags))
        record["fields"] = parse_pairs(field_pairs, "--field")
        entry = ctx.kb.add(record_to_entry(record, {}, None), author=ctx.user)
        emit(entry.to_dict()) if as_json else click.echo(f"added {entry.id}: {entry.title}")

    run_guarded(body)


@cli.command(name="import")
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

    def body() -> None:
        from ingest.importers import RECORD_FORMATS, import_records, parse_mapping
        from kb.transfer import import_package, is_package

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
        counts = ", ".join(
            f"{k} {data[k]}" for k in ("added", "updated", "duplicates", "rejected") if k in data
        )
        click.echo(f"{file}: {counts}")
        for error in data.get("errors", [])[:20]:
            click.echo(f"  rejected: {error}", err=True)
        if data.get("rejects_file"):
            click.echo(f"rejected rows saved to {data['rejects_file']}")
        if data.get("report_file"):
            click.echo(f"report: {data['report_file']}")

    run_guarded(body)


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


@cli.command()
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
@filter_options
@json_option
@pass_ctx
def search(
    ctx: Context,
    query: str,
    k: int,
    mode: str,
    expand: bool,
    types: tuple[str, ...],
    tags: tuple[str, ...],
    as_json: bool,
    **filters: str | None,
) -> None:
    """Search by describing the problem in your own words."""

    def body() -> None:
        expander = None
        if expand:
            from ingest.vocabulary import load_vocabulary

            expander = load_vocabulary().expand_query
        filters_ = make_filters(types, tags, **filters)
        hits = ctx.kb.search(query, k=k, filters=filters_, mode=mode, expand=expander)
        emit([h.to_dict() for h in hits]) if as_json else print_hits(hits)

    run_guarded(body)


@cli.command()
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

    def body() -> None:
        hits = ctx.kb.similar(entry_id, k=k, filters=make_filters(types, tags, **filters))
        emit([h.to_dict() for h in hits]) if as_json else print_hits(hits)

    run_guarded(body)


@cli.command()
@click.argument("entry_id")
@json_option
@pass_ctx
def show(ctx: Context, entry_id: str, as_json: bool) -> None:
    """Show one entry with its links and history."""

    def body() -> None:
        kb = ctx.kb
        entry = kb.get(entry_id)
        links = kb.links(entry.id)
        history = kb.history(entry.id)
        if as_json:
            emit(
                {**entry.to_dict(), "links": [vars(x) for x in links], "history": [vars(r) for r in history]}
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
                click.echo(f"  {link.source} {link.relation} {link.target}")
        click.echo("\nhistory:")
        for rev in history:
            changed = ", ".join(sorted(rev.changes))
            reason = f" — {rev.reason}" if rev.reason else ""
            click.echo(f"  r{rev.revision} {rev.at} {rev.action} by {rev.author}{reason} [{changed}]")

    run_guarded(body)


@cli.command()
@click.argument("entry_id")
@click.option("--set", "sets", multiple=True, required=True, help="FIELD=VALUE (repeatable).")
@click.option("--reason", required=True, help="Why the change is made (kept in the history).")
@json_option
@pass_ctx
def edit(ctx: Context, entry_id: str, sets: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Change fields of an entry as a new revision."""

    def body() -> None:
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

    run_guarded(body)


@cli.command()
@click.argument("entry_id")
@click.option("--reason", required=True, help="Why the entry is retired (kept in the history).")
@json_option
@pass_ctx
def retire(ctx: Context, entry_id: str, reason: str, as_json: bool) -> None:
    """Retire an entry: it leaves search but stays in the record with its history."""

    def body() -> None:
        entry = ctx.kb.retire(entry_id, author=ctx.user, reason=reason)
        emit(entry.to_dict()) if as_json else click.echo(f"{entry.id} retired (revision {entry.revision})")

    run_guarded(body)


@cli.command()
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

    def body() -> None:
        if from_file:
            from ingest.importers import import_links

            result = import_links(ctx.kb, from_file, author=ctx.user)
            emit(result) if as_json else click.echo(
                f"linked {result['linked']}; {len(result['errors'])} errors"
            )
            for error in result["errors"] if not as_json else []:
                click.echo(f"  {error}", err=True)
            return
        if not (source and relation and target):
            raise KBError("give SOURCE RELATION TARGET, or --from-file FILE")
        made = ctx.kb.link(source, relation, target, author=ctx.user, note=note)
        emit(vars(made)) if as_json else click.echo(f"{made.source} {made.relation} {made.target}")

    run_guarded(body)


@cli.command()
@json_option
@pass_ctx
def stats(ctx: Context, as_json: bool) -> None:
    """Counts by type, process, site and status."""

    def body() -> None:
        data = ctx.kb.stats()
        if as_json:
            emit(data)
            return
        click.echo(
            f"{data['home']}: {data['active']} active entries, {data['retired']} retired, "
            f"{data['links']} links, {data['revisions']} revisions"
        )
        for key in ("by_type", "by_process", "by_site"):
            click.echo(f"  {key[3:]}: " + ", ".join(f"{k} {v}" for k, v in data[key].items()))

    run_guarded(body)


@cli.command()
@json_option
@pass_ctx
def verify(ctx: Context, as_json: bool) -> None:
    """Check the database, vectors, index and audit chain against each other (changes nothing)."""

    def body() -> None:
        report = ctx.kb.verify()
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

    run_guarded(body)


@cli.command()
@json_option
@pass_ctx
def reindex(ctx: Context, as_json: bool) -> None:
    """Rebuild both indexes from the database (encoding only entries without a vector)."""

    def body() -> None:
        kb = ctx.kb
        missing = len(kb.store.missing_vectors(kb.embedder.fingerprint))
        with progress_bar(missing, "encoding", as_json) as update:
            result = kb.reindex(progress=update)
        emit(result) if as_json else click.echo(
            f"index rebuilt: {result['indexed']} vectors ({result['kind']}), {result['encoded']} newly encoded; "
            f"keyword index: {result['keywords']} entries"
        )

    run_guarded(body)


@cli.command()
@click.option(
    "--query",
    default="depth filter pressure climbing fast, stringy clumps in the harvest",
    help="A symptom to search for.",
)
@pass_ctx
def demo(ctx: Context, query: str) -> None:
    """Load the samples if the base is empty, then run one search end to end."""

    def body() -> None:
        kb = ctx.kb
        if kb.store.count(status=None) == 0:
            click.echo(f"loading sample data into {kb.home} ...")
            click.echo(json.dumps(load_samples(kb, ctx.user, quiet=False)))
        click.echo(f'\n$ tacitkb search "{query}"')
        print_hits(kb.search(query, k=5))

    run_guarded(body)


def main() -> None:
    """Entry point of the `tacitkb` console script."""
    cli(prog_name="tacitkb")


if __name__ == "__main__":
    main()
