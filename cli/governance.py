"""CLI commands for integrity and security: accounts, audit trail, signatures, backup/restore, transfer export.

Passwords are always asked for with hidden input (and confirmation for a new one); `--password-stdin`
reads them from standard input instead, one per line, for scripts: first the acting user's password
(when the command needs one), then the new password (when the command sets one).
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

import click

from cli.common import Context, emit, json_option, pass_ctx
from kb.governance.roles import ROLES, Actor
from kb.governance.users import Unaccounted
from kb.models import KBError

CLIENT = f"cli:uid{os.getuid()}"  # failed logins are also counted per OS account
password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read passwords from standard input, one per line (acting user's first, then a new one).",
)


class Secrets:
    """Asks for passwords: hidden prompts on a terminal, or lines of standard input for scripts."""

    def __init__(self, from_stdin: bool) -> None:
        self.from_stdin = from_stdin

    def _line(self, label: str) -> str:
        line = sys.stdin.readline()
        if not line:
            raise KBError(f"--password-stdin: no line on standard input for: {label}")
        return line.rstrip("\r\n")

    def current(self, label: str) -> str:
        """Return an existing password (asked once)."""
        return self._line(label) if self.from_stdin else click.prompt(label, hide_input=True)

    def new(self, label: str) -> str:
        """Return a new password (asked twice on a terminal)."""
        if self.from_stdin:
            return self._line(label)
        return click.prompt(label, hide_input=True, confirmation_prompt=True)


def login(ctx: Context, secrets: Secrets, why: str) -> Actor:
    """Return the acting user (--as) after checking their password."""
    from kb.governance.users import authenticate

    return authenticate(ctx.kb, ctx.user, secrets.current(f"Password for {ctx.user} ({why})"), purpose=why)


def acting(ctx: Context) -> Actor | None:
    """Return the CLI user's account role (None while no account exists) and apply it to the knowledge base."""
    from kb.governance.users import actor_for_cli

    kb = ctx.kb
    if kb.actor is None:
        kb.actor = actor_for_cli(kb, ctx.user)
    return kb.actor


# --- who may write from the CLI -------------------------------------------------------------------

# Commands that only read the knowledge base: open to anyone who can read the database file.
READ_ONLY = frozenset(
    {
        "search", "show", "similar", "stats", "verify", "coverage", "card", "templates",
        "signatures", "audit verify", "audit export", "workshop list", "workshop resume",
        "logout", "site-key show", "site-key list",
    }
)  # fmt: skip
# Commands that ask for the password themselves (and check it with their own purpose).
OWN_LOGIN = frozenset(
    {"users create", "users set-role", "users disable", "users enable", "users unlock", "users passwd", "sign",
     "restore", "login"}
)  # fmt: skip
# The role action a command needs, checked before any password is hashed (the rest check on write).
ACTION_OF = {"backup": "backup", "export": "transfer", "retire": "retire", "edit": "edit", "link": "link",
             "import": "import", "site-key add": "transfer"}  # fmt: skip


def _password_for(ctx: Context, why: str) -> str:
    """Return the acting user's password: from a valid token file, --password-stdin, or a hidden prompt."""
    from kb.governance import sessions

    token = sessions.read_token(ctx.kb.store, ctx.home, ctx.user)
    if token is not None:
        return token
    if getattr(ctx, "password_stdin", False):
        return Secrets(True).current(f"Password for {ctx.user} ({why})")
    return click.prompt(f"Password for {ctx.user} ({why})", hide_input=True)


def authenticate_cli_writer(ctx: Context, path: str) -> None:
    """Once accounts exist: check the role, then the password, of whoever runs a command that writes."""
    from kb.governance import sessions
    from kb.governance.users import actor_for_cli, users_exist

    kb = ctx.kb
    if not users_exist(kb):
        return
    actor = actor_for_cli(kb, ctx.user)
    assert actor is not None
    if path in ACTION_OF:
        actor.require(ACTION_OF[path])  # the role first: no hashing for a request that is refused anyway
    elif isinstance(actor, Unaccounted):
        actor.require(path)
    secret = _password_for(ctx, path)
    kb.actor = sessions.authenticate_secret(kb.store, ctx.user, secret, purpose=f"cli: {path}", client=CLIENT)


def guard_writes(group: click.Group, prefix: str = "") -> None:
    """Wrap every command that writes so it authenticates first (once accounts exist) and is audited."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            guard_writes(command, f"{path} ")
        elif path not in READ_ONLY and command.callback is not None:
            command.callback = _guarded(command.callback, path, own_login=path in OWN_LOGIN)


def _guarded(callback: Any, path: str, *, own_login: bool) -> Any:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context().find_object(Context)
        if ctx is None or own_login:  # own-login commands (restore among them) must not open the base early
            return callback(*args, **kwargs)
        authenticate_cli_writer(ctx, path)
        kb = ctx.kb
        if kb.actor is None:  # no accounts (yet, or on this backend): writes are attributed by name
            return callback(*args, **kwargs)
        before = kb.store.highest_issued_audit_seq() or 0
        result = callback(*args, **kwargs)
        # A command that changed something without an audit event of its own (a clustering run, a
        # workshop draft) still leaves one line in the trail: who ran which command.
        if (kb.store.highest_issued_audit_seq() or 0) == before:
            from kb.models import utc_now

            kb.store.record_event(kb.actor.name, "cli_command", None, {"command": path}, utc_now())
        return result

    return run


# --- users ----------------------------------------------------------------------------------------


@click.group()
def users() -> None:
    """Local user accounts: create, list, change role or password, disable, unlock."""


@users.command(name="create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--full-name", help="Printed name shown on electronic signatures.")
@password_stdin_option
@json_option
@pass_ctx
def users_create(
    ctx: Context, name: str, role: str, full_name: str | None, password_stdin: bool, as_json: bool
) -> None:
    """Create an account. The first one (an admin) needs no login; after that an admin must log in (--as)."""

    from kb.governance.users import create_user, users_exist

    secrets = Secrets(password_stdin)
    by = None if not users_exist(ctx.kb) else login(ctx, secrets, f"create account {name}")
    password = secrets.new(f"New password for {name}")
    user = create_user(ctx.kb, name, role, password, by=by, full_name=full_name)
    emit(user.to_dict()) if as_json else click.echo(f"account {user.name} created ({user.role})")


@users.command(name="list")
@json_option
@pass_ctx
def users_list(ctx: Context, as_json: bool) -> None:
    """List accounts with role, status and lockout."""

    from kb.governance.users import list_users

    found = list_users(ctx.kb)
    if as_json:
        emit([u.to_dict() for u in found])
        return
    if not found:
        click.echo("no accounts yet: create the first admin with `tacitkb users create NAME --role admin`")
    for u in found:
        locked = f", locked until {u.locked_until}" if u.is_locked() else ""
        click.echo(f"{u.name:<20} {u.role:<9} {u.status}{locked}  last login {u.last_login_at or '-'}")


@users.command(name="set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--reason")
@password_stdin_option
@json_option
@pass_ctx
def users_set_role(
    ctx: Context, name: str, role: str, reason: str | None, password_stdin: bool, as_json: bool
) -> None:
    """Give an account another role (admin, with password)."""

    from kb.governance.users import set_role

    admin = login(ctx, Secrets(password_stdin), f"change role of {name}")
    user = set_role(ctx.kb, name, role, by=admin, reason=reason)
    emit({"name": user.name, "role": user.role}) if as_json else click.echo(f"{user.name} is now {user.role}")


def _account_state_command(name: str, verb: str, doc: str, result: dict[str, Any], with_reason: bool) -> None:
    """Register `users NAME` for one admin change of an account's state (disable, enable, unlock)."""

    def command(
        ctx: Context, account: str, password_stdin: bool, as_json: bool, reason: str | None = None
    ) -> None:
        from kb.governance import users as accounts

        admin = login(ctx, Secrets(password_stdin), f"{name} {account}")
        change = getattr(accounts, name)
        change(ctx.kb, account, by=admin, **({"reason": reason} if with_reason else {}))
        emit({"name": account, **result}) if as_json else click.echo(f"{account} {verb}")

    command.__doc__ = doc
    command = pass_ctx(json_option(password_stdin_option(command)))
    if with_reason:
        command = click.option("--reason", required=True, help="Why (kept in the audit trail).")(command)
    users.command(name=name)(click.argument("account", metavar="NAME")(command))


_account_state_command(
    "disable",
    "disabled",
    "Disable an account (it is kept, with its history, and can no longer log in).",
    {"status": "disabled"},
    with_reason=True,
)
_account_state_command(
    "enable", "enabled", "Enable a disabled account again.", {"status": "active"}, with_reason=True
)
_account_state_command(
    "unlock",
    "unlocked",
    "Lift a lockout after too many failed logins.",
    {"unlocked": True},
    with_reason=False,
)


@users.command(name="passwd")
@click.argument("name", required=False)
@password_stdin_option
@json_option
@pass_ctx
def users_passwd(ctx: Context, name: str | None, password_stdin: bool, as_json: bool) -> None:
    """Change your own password (old one first), or reset another account's as an admin."""

    from kb.governance.users import change_password

    target = name or ctx.user
    secrets = Secrets(password_stdin)
    if target.lower() == ctx.user.lower():
        old = secrets.current(f"Current password for {target}")
        new = secrets.new(f"New password for {target}")
        change_password(ctx.kb, target, new, by=Actor(ctx.user, "operator"), old_password=old)
    else:
        admin = login(ctx, secrets, f"reset password of {target}")
        change_password(ctx.kb, target, secrets.new(f"New password for {target}"), by=admin)
    emit({"name": target, "password_changed": True}) if as_json else click.echo(
        f"password of {target} changed"
    )


# --- audit trail ----------------------------------------------------------------------------------


@click.group()
def audit() -> None:
    """The audit trail: verify its hash chain, export it for people."""


@audit.command(name="verify")
@json_option
@pass_ctx
def audit_verify(ctx: Context, as_json: bool) -> None:
    """Check the hash chain; name the first edited or deleted event (exit code 3 when broken)."""

    from kb.governance.audit import verify_chain

    check = verify_chain(ctx.kb)
    if as_json:
        emit(check.to_dict())
    elif check.ok:
        click.echo(f"audit trail intact: {check.events} events, head hash {check.head_hash}")
    else:
        click.echo(f"audit trail BROKEN: {check.reason}", err=True)
        for problem in check.problems[1:]:
            click.echo(f"  also: {problem}", err=True)
    sys.exit(0 if check.ok else 3)


@audit.command(name="export")
@click.option("--entry", "entry_id", help="Only the events of one entry (KB-000123).")
@click.option("--since", help="From this date (YYYY-MM-DD or ISO time, UTC).")
@click.option("--until", help="Up to and including this date.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="FILE.csv or FILE.html")
@json_option
@pass_ctx
def audit_export(
    ctx: Context, entry_id: str | None, since: str | None, until: str | None, out: Path, as_json: bool
) -> None:
    """Write the audit trail (who, when UTC, action, entry, old -> new, reason) as CSV or HTML."""

    from kb.governance.audit import export_trail

    result = export_trail(ctx.kb, out, entry_id=entry_id, since=since, until=until)
    emit(result) if as_json else click.echo(
        f"{result['rows']} rows ({result['events']} events) written to {result['file']}"
        + ("" if result["chain"]["ok"] else f"; WARNING: hash chain broken: {result['chain']['reason']}")
    )


# --- electronic signatures ------------------------------------------------------------------------


@click.command()
@click.argument("target_id")
@click.option("--meaning", type=click.Choice(["reviewed", "approved"]), required=True)
@click.option("--comment", help="Optional comment kept with the signature.")
@password_stdin_option
@json_option
@pass_ctx
def sign(
    ctx: Context, target_id: str, meaning: str, comment: str | None, password_stdin: bool, as_json: bool
) -> None:
    """Sign an entry (or clustering run) as reviewed or approved; asks for your password again."""

    from kb.governance.signatures import sign as sign_record

    password = Secrets(password_stdin).current(f"Password for {ctx.user} (sign {target_id} as {meaning})")
    signature = sign_record(ctx.kb, target_id, meaning, signer=ctx.user, password=password, comment=comment)
    emit(signature.to_dict()) if as_json else click.echo(f"signed: {signature.manifestation()}")


@click.command()
@click.argument("target_id")
@json_option
@pass_ctx
def signatures(ctx: Context, target_id: str, as_json: bool) -> None:
    """Show the signatures of an entry and whether each holds for its current version."""

    from kb.governance.signatures import signatures_for

    found = signatures_for(ctx.kb, target_id)
    if as_json:
        emit([s.to_dict() for s in found])
        return
    if not found:
        click.echo(f"{target_id}: no signatures")
    for s in found:
        click.echo(f"{s.manifestation()}: {s.state}")


# --- backup and restore ---------------------------------------------------------------------------


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Backup file to write.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@json_option
@pass_ctx
def backup(ctx: Context, out: Path, force: bool, as_json: bool) -> None:
    """Back up the database (safe while others write) with a manifest of hashes and counts."""

    from kb.governance.backup import backup as run_backup

    acting(ctx)
    manifest = run_backup(ctx.kb, out, by=ctx.user, force=force)
    emit(manifest) if as_json else click.echo(
        f"backup written to {out} ({manifest['counts'].get('entries', 0)} entries, sha256 "
        f"{manifest['sha256'][:16]}…); manifest {manifest['manifest']}"
    )


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a non-empty knowledge base (its files are moved aside).")
@password_stdin_option
@json_option
@pass_ctx
def restore(ctx: Context, file: Path, force: bool, password_stdin: bool, as_json: bool) -> None:
    """Restore a backup into the knowledge base folder (--kb), checking it and rebuilding the index."""

    from kb.governance.backup import restore as run_restore
    from kb.governance.users import authenticate, users_exist
    from kb.knowledge_base import DB_NAME
    from kb.storage.sqlite import Store

    by: Actor | str = ctx.user
    current = ctx.home / DB_NAME
    if current.exists():
        store = Store(current)
        try:
            if users_exist(store):
                password = Secrets(password_stdin).current(f"Password for {ctx.user} (replace {ctx.home})")
                by = authenticate(store, ctx.user, password, purpose="restore backup")
                by.require("restore_backup")
        finally:
            store.close()
    result = run_restore(file, ctx.home, force=force, by=by)
    if as_json:
        emit(result)
        return
    counts = result["counts"]
    click.echo(
        f"restored {file} into {result['home']}: {counts.get('entries', 0)} entries, index "
        f"{result['index']['indexed']} vectors; verify: {'ok' if result['verify']['ok'] else 'PROBLEMS'}"
    )
    if result["moved_aside"]:
        click.echo(f"the previous files were moved to {result['moved_aside']}")
    if not result["audit_in_backup"]["ok"]:
        click.echo(f"WARNING: the backup's audit trail is broken: {result['audit_in_backup']['reason']}")


# --- transfer packages ----------------------------------------------------------------------------


@click.command(name="export")
@click.option("--process", required=True, help="Process to export (e.g. LVV, CAR-T).")
@click.option("--step", help="Only this step.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PKG.zip, or a new folder.")
@click.option("--site", help="Name of this (exporting) site (default: $TACITKB_SITE or the host name).")
@click.option("--include-retired", is_flag=True, help="Also export retired entries.")
@json_option
@pass_ctx
def export(
    ctx: Context,
    process: str,
    step: str | None,
    out: Path,
    site: str | None,
    include_retired: bool,
    as_json: bool,
) -> None:
    """Write a transfer package of one process (or step) for another site's knowledge base."""

    from ingest.packages import export_package

    acting(ctx)
    manifest = export_package(
        ctx.kb, process, step, out=out, site=site, by=ctx.user, include_retired=include_retired
    )
    if as_json:
        emit(manifest)
        return
    c = manifest["counts"]
    click.echo(
        f"package {out}: {c['entries']} entries, {c['revisions']} revisions, {c['links']} links, "
        f"{c['templates']} templates from site {manifest['site']}"
    )
    click.echo(f"manifest sha256 {manifest['manifest_sha256']} (give it to the receiving site to compare)")


# --- CLI sessions ---------------------------------------------------------------------------------


@click.command(name="login")
@password_stdin_option
@json_option
@pass_ctx
def login_command(ctx: Context, password_stdin: bool, as_json: bool) -> None:
    """Check your password once and keep a private token file, so writes need no password for 8 hours."""

    from kb.governance import sessions

    password = Secrets(password_stdin).current(f"Password for {ctx.user} (start a session)")
    path = sessions.login(ctx.kb.store, ctx.home, ctx.user, password, client=CLIENT)
    if as_json:
        emit({"user": ctx.user, "hours": sessions.SESSION_HOURS, "token_file": str(path)})
        return
    click.echo(f"logged in as {ctx.user} for {sessions.SESSION_HOURS} hours; token file {path} (mode 0600)")


@click.command(name="logout")
@json_option
@pass_ctx
def logout_command(ctx: Context, as_json: bool) -> None:
    """End your sessions here and delete your token file."""

    from kb.governance import sessions

    ended = sessions.logout(ctx.kb.store, ctx.home, ctx.user)
    emit({"user": ctx.user, "ended": ended}) if as_json else click.echo(
        f"{ctx.user}: {ended} session(s) ended"
    )


# --- site keys for transfer packages --------------------------------------------------------------


@click.group(name="site-key")
def site_key() -> None:
    """This site's public signing key for transfer packages, and the keys of sites you accept packages from."""


@site_key.command(name="show")
@json_option
@pass_ctx
def site_key_show(ctx: Context, as_json: bool) -> None:
    """Print this site's public key (give it to the receiving site's admin, out of band)."""

    from kb.governance import site_keys

    key = site_keys.public_key(ctx.home)
    if as_json:
        emit({"key": key, "key_id": site_keys.key_id(key)})
        return
    click.echo(f"{key}  (key id {site_keys.key_id(key)})")


@site_key.command(name="add")
@click.argument("site")
@click.argument("key")
@json_option
@pass_ctx
def site_key_add(ctx: Context, site: str, key: str, as_json: bool) -> None:
    """Accept packages signed by KEY as coming from SITE (admin).

    KEY is the base64 key, or a file holding it as `tacitkb site-key show > FILE` wrote it.
    """

    from kb.governance import site_keys

    result = site_keys.register(ctx.kb, site, _key_text(key), by=ctx.kb.actor)
    if as_json:
        emit(result)
        return
    state = "registered" if result["added"] else "already registered"
    click.echo(f"key {result['key_id']} for site {result['site']}: {state}")


def _key_text(key: str) -> str:
    """Return the key itself: the argument, or the first word of the file it names."""
    path = Path(key)
    if not path.is_file():
        return key
    words = path.read_text(encoding="utf-8", errors="replace").split()
    if not words:
        raise KBError(
            f"argument 'key': {key} is empty; it should hold the key `tacitkb site-key show` prints"
        )
    return words[0]


@site_key.command(name="list")
@json_option
@pass_ctx
def site_key_list(ctx: Context, as_json: bool) -> None:
    """List the registered site keys."""

    from kb.governance import site_keys

    rows = site_keys.registered(ctx.kb)
    if as_json:
        emit(rows)
        return
    for row in rows:
        click.echo(f"{row['site']:<20} {row['key_id']}  added {row['added_at']} by {row['added_by'] or '-'}")


COMMANDS = (users, audit, sign, signatures, backup, restore, export, login_command, logout_command, site_key)
