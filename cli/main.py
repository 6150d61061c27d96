"""The `tacitkb` command group: global options, one error handler, and every command registered once."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import click

from cli import cards, elicitation, entries, feedback, governance, maintenance, quality, search
from cli.common import Context
from kb.knowledge_base import default_home
from kb.models import KBError

COMMAND_MODULES = (maintenance, entries, search, feedback, elicitation, cards, quality, governance)


class TacitGroup(click.Group):
    """The command group; turns a KBError from any command into one clear line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KBError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=TacitGroup)
@click.option(
    "--kb",
    "home",
    type=click.Path(path_type=Path),
    default=None,
    help="Knowledge base folder (default: $TACITKB_HOME, else ~/.local/share/tacitkb).",
)
@click.option(
    "--db",
    default=None,
    envvar="TACITKB_DB",
    help="A shared database URL (postgresql://...; default: $TACITKB_DB, else the SQLite file in --kb).",
)
@click.option("--as", "user", default=None, help="Who is acting (default: $TACITKB_USER or the OS user).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the acting user's password from standard input when a command needs it (once accounts exist).",
)
@click.version_option(package_name="tacitkb")
@click.pass_context
def cli(
    click_ctx: click.Context, home: Path | None, db: str | None, user: str | None, password_stdin: bool
) -> None:
    """TacitKB: capture and find the tacit process knowledge of CGT tech transfer."""
    acting = user or os.environ.get("TACITKB_USER") or getpass.getuser()
    home = home or default_home()
    if home.exists() and not home.is_dir():
        raise KBError(f"argument '--kb': {home} is not a folder (the knowledge base is a folder)")
    # Only `init` may create a knowledge base: a mistyped --kb must not silently start an empty one.
    creating = click_ctx.invoked_subcommand == "init"
    click_ctx.obj = Context(home, acting, create=creating, db=db)
    click_ctx.obj.password_stdin = password_stdin


for _module in COMMAND_MODULES:
    for _command in _module.COMMANDS:
        cli.add_command(_command)
# Once accounts exist, every command that writes asks for the acting user's password (or session token).
governance.guard_writes(cli)


def main() -> None:
    """Entry point of the `tacitkb` console script."""
    cli(prog_name="tacitkb")


if __name__ == "__main__":
    main()
