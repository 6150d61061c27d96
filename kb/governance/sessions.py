"""CLI sessions: a per-user token file (mode 0600) that stands in for the password for a few hours.

`tacitkb login` checks the password once and writes a random token to
$XDG_CONFIG_HOME/tacitkb/tokens/<knowledge base>/<name> (created 0600, refused if anyone else can
read it or another OS user owns it); the database keeps only the token's sha256 and its expiry.
`tacitkb logout` removes both. What this protects, and what it cannot, is in docs/integrity.md.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kb.governance.roles import Actor
from kb.governance.users import AuthError, authenticate, get_user
from kb.models import KBError, utc_now
from kb.storage.base import Store

SESSION_HOURS = 8
TOKEN_PREFIX = "token:"


def token_path(home: Path | str, name: str) -> Path:
    """Return where the token file of one account for one knowledge base lives."""
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "tacitkb" / "tokens"
    kb_key = hashlib.sha256(str(Path(home).resolve()).encode("utf-8")).hexdigest()[:16]
    return base / kb_key / name.lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def login(store: Store, home: Path | str, name: str, password: str, *, client: str = "local") -> Path:
    """Check a password, start a session of SESSION_HOURS and write its token file (0600); return the path."""
    actor = authenticate(store, name, password, purpose="cli session", client=client)
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.transaction():
        store.insert_session(
            _digest(token), actor.name, _stamp(now), _stamp(now + timedelta(hours=SESSION_HOURS))
        )
        store.record_event(
            actor.name, "session_start", None, {"user": actor.name, "hours": SESSION_HOURS}, utc_now()
        )
    path = token_path(home, actor.name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    return path


def logout(store: Store, home: Path | str, name: str) -> int:
    """End every session of an account here and remove its token file; return how many ended."""
    with store.transaction():
        ended = store.delete_sessions(name)
        if ended:
            store.record_event(name, "session_end", None, {"user": name, "sessions": ended}, utc_now())
    token_path(home, name).unlink(missing_ok=True)
    return ended


def read_token(store: Store, home: Path | str, name: str) -> str | None:
    """Return the stored token (marked as one) if this OS user has a private token file for the account."""
    path = token_path(home, name)
    if not path.is_file():
        return None
    info = path.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise KBError(
            f"{path}: the token file must belong to you and be private (chmod 600); it was not used"
        )
    return TOKEN_PREFIX + path.read_text(encoding="utf-8").strip()


def authenticate_secret(
    store: Store, name: str, secret: str, *, purpose: str, client: str = "local"
) -> Actor:
    """Return the Actor for a password or a session token (from read_token) of this account."""
    if not secret.startswith(TOKEN_PREFIX):
        return authenticate(store, name, secret, purpose=purpose, client=client)
    owner = store.session_owner(_digest(secret[len(TOKEN_PREFIX) :]), _stamp(datetime.now(UTC)))
    account = get_user(store, name)
    if owner is None or account is None or owner.lower() != account.name.lower():
        raise AuthError(f"the session of {name} has ended or is not valid; run `tacitkb login` again")
    if account.status != "active" or account.is_locked():
        raise AuthError(
            f"account '{account.name}' is {account.status if account.status != 'active' else 'locked'}"
        )
    store.record_event(
        account.name, "login", None, {"user": account.name, "purpose": purpose, "via": "session"}, utc_now()
    )
    return Actor(account.name, account.role)
