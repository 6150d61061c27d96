"""Local user accounts kept in the knowledge base's own SQLite database.

Passwords are hashed with argon2id (argon2-cffi) and never stored or logged in clear. Five wrong
passwords in a row lock an account for 15 minutes. Every change to an account, every login and every
failed login is written to the hash-chained audit trail. Accounts are never deleted, only disabled.

The first account may be created without logging in, and only while no account exists; it must be an
admin. After that only an (authenticated) admin manages accounts.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kb.governance.roles import ROLES, Actor, PermissionDenied, actions_of
from kb.models import KBError
from kb.storage.sqlite import Store, utc_now

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

# argon2id with the library's defaults (RFC 9106 low-memory profile); tests may swap in cheaper settings.
HASHER = PasswordHasher()
_dummy_hash: tuple[PasswordHasher, str] | None = None

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    full_name TEXT,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT,
    updated_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login_at TEXT
)
"""
_COLUMNS = (
    "name",
    "full_name",
    "role",
    "status",
    "failed_attempts",
    "locked_until",
    "created_at",
    "created_by",
    "updated_at",
    "password_changed_at",
    "last_login_at",
)


class AuthError(KBError):
    """A login or password re-entry that failed: wrong password, locked or disabled account."""


@dataclass(frozen=True)
class User:
    """One account as shown to people (the password hash is never part of it)."""

    name: str
    full_name: str | None
    role: str
    status: str
    failed_attempts: int
    locked_until: str | None
    created_at: str
    created_by: str | None
    updated_at: str
    password_changed_at: str
    last_login_at: str | None

    def is_locked(self, now: datetime | None = None) -> bool:
        """Return True while the account is locked after too many failed logins."""
        return bool(self.locked_until) and _parse(self.locked_until) > (now or _now())

    def to_dict(self) -> dict[str, Any]:
        """Return the account as a JSON-ready dict (with a `locked` flag)."""
        return asdict(self) | {"locked": self.is_locked()}


# --- helpers --------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def store_of(kb_or_store: KnowledgeBase | Store) -> Store:
    """Return the Store behind a KnowledgeBase (or the Store itself)."""
    store = getattr(kb_or_store, "store", kb_or_store)
    if not isinstance(store, Store):
        raise TypeError(f"expected a KnowledgeBase or a Store, got {type(kb_or_store).__name__}")
    return store


def _has_table(store: Store) -> bool:
    row = store.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").fetchone()
    return row is not None


def ensure_table(store: Store) -> None:
    """Create the users table if it is missing (in its own IMMEDIATE transaction)."""
    if _has_table(store):
        return
    with store.transaction():
        store.conn.execute(_SCHEMA)


def _row(store: Store, name: str) -> tuple[User, str] | None:
    if not _has_table(store):
        return None
    row = store.conn.execute(
        f"SELECT {', '.join(_COLUMNS)}, password_hash FROM users WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        return None
    return User(*row[:-1]), row[-1]


def _hash_password(password: str) -> str:
    return HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _burn_time(password: str) -> None:
    """Verify against a throw-away hash, so an unknown name takes as long as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None or _dummy_hash[0] is not HASHER:
        _dummy_hash = (HASHER, HASHER.hash("not-a-real-password"))
    _verify(_dummy_hash[1], password)


def check_name(name: str) -> str:
    """Return a valid account name, or raise KBError saying what is allowed."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise KBError(
            f"argument 'name': '{name}' is not a valid account name "
            "(1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit)"
        )
    return name


def check_password(password: str, name: str | None = None) -> None:
    """Raise KBError unless a password meets the minimum rules (length, not the user name)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise KBError(f"argument 'password': use at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise KBError(f"argument 'password': use at most {MAX_PASSWORD_CHARS} characters")
    if not password.strip():
        raise KBError("argument 'password': must not be only spaces")
    if name and password.strip().lower() == name.lower():
        raise KBError("argument 'password': must not be the account name")


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise KBError(f"argument 'role': unknown role '{role}' (roles: {', '.join(ROLES)})")
    return role


def _event(store: Store, actor: str | None, action: str, details: dict[str, Any], at: str) -> None:
    """Write one audit event about an account (inside the caller's transaction)."""
    # TODO(lead): a public Store.record_event(actor, action, entry_id, details) would replace _audit.
    store._audit(actor, action, None, details, at)


def _require_admin(store: Store, by: Actor | None) -> User:
    """Return the acting admin's account, or raise PermissionDenied."""
    if by is None:
        raise PermissionDenied("only an admin may manage accounts: act as an admin (--as NAME) and log in")
    found = _row(store, by.name)
    if found is None:
        raise PermissionDenied(f"{by.name} has no account; only an admin may manage accounts")
    account, _ = found
    if account.status != "active":
        raise PermissionDenied(f"account '{account.name}' is {account.status}")
    if "users" not in actions_of(account.role):
        raise PermissionDenied(f"{account.name} ({account.role}) may not manage accounts")
    return account


def _active_admins(store: Store) -> int:
    return store.conn.execute(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND status = 'active'"
    ).fetchone()[0]


def _get_for_change(store: Store, name: str) -> User:
    found = _row(store, name)
    if found is None:
        raise KBError(f"no account named '{name}'")
    return found[0]


# --- public API -----------------------------------------------------------------------------------


def users_exist(kb_or_store: KnowledgeBase | Store) -> bool:
    """Return True when at least one account exists (then roles come from accounts)."""
    store = store_of(kb_or_store)
    return _has_table(store) and store.conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def get_user(kb_or_store: KnowledgeBase | Store, name: str) -> User | None:
    """Return one account, or None when there is no account with that name."""
    found = _row(store_of(kb_or_store), name)
    return None if found is None else found[0]


def list_users(kb_or_store: KnowledgeBase | Store) -> list[User]:
    """Return every account (active and disabled), by name."""
    store = store_of(kb_or_store)
    if not _has_table(store):
        return []
    rows = store.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM users ORDER BY name COLLATE NOCASE")
    return [User(*r) for r in rows.fetchall()]


def create_user(
    kb_or_store: KnowledgeBase | Store,
    name: str,
    role: str,
    password: str,
    *,
    by: Actor | None,
    full_name: str | None = None,
) -> User:
    """Create an account; without `by` only while no account exists, and then only an admin."""
    store = store_of(kb_or_store)
    check_name(name)
    _check_role(role)
    check_password(password, name)
    password_hash = _hash_password(password)  # slow on purpose: done before taking the write lock
    ensure_table(store)
    now = utc_now()
    with store.transaction():
        first = store.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
        if first:
            if role != "admin":
                raise KBError("the first account must be an admin (--role admin): it manages the others")
            creator = by.name if by is not None else None
        else:
            creator = _require_admin(store, by).name
        if _row(store, name) is not None:
            raise KBError(f"an account named '{name}' already exists (accounts are never deleted)")
        store.conn.execute(
            "INSERT INTO users(name, full_name, role, password_hash, status, failed_attempts, created_at, "
            "created_by, updated_at, password_changed_at) VALUES (?,?,?,?,'active',0,?,?,?,?)",
            (name, full_name, role, password_hash, now, creator, now, now),
        )
        _event(
            store,
            creator or name,
            "user_create",
            {"user": name, "role": role, "full_name": full_name, "first_account": first},
            now,
        )
    user = get_user(store, name)
    assert user is not None
    return user


def _refuse(store: Store, name: str, purpose: str, why: str, at: str, message: str) -> NoReturn:
    """Record a refused login as an audit event, then raise AuthError with the user-facing message."""
    with store.transaction():
        _event(store, name, "login_failed", {"user": name, "purpose": purpose, "why": why}, at)
    raise AuthError(message)


def authenticate(
    kb_or_store: KnowledgeBase | Store, name: str, password: str, *, purpose: str = "login"
) -> Actor:
    """Return the Actor for a correct name and password; count failures and lock after five."""
    store = store_of(kb_or_store)
    if not users_exist(store):
        raise AuthError("there are no user accounts yet: create the first admin with `tacitkb users create`")
    found = _row(store, name)
    if found is None:
        _burn_time(password)
        _refuse(store, name, purpose, "unknown user", utc_now(), "wrong user name or password")
    account, password_hash = found
    now = _now()
    if account.status != "active":
        _refuse(
            store,
            account.name,
            purpose,
            "disabled",
            _stamp(now),
            f"account '{account.name}' is disabled; ask an admin",
        )
    if account.is_locked(now):
        _refuse(
            store,
            account.name,
            purpose,
            "locked",
            _stamp(now),
            f"account '{account.name}' is locked until {account.locked_until} after {MAX_FAILED_ATTEMPTS} "
            "failed attempts; try again later or ask an admin to unlock it",
        )
    if not _verify(password_hash, password):
        at = _stamp(now)
        with store.transaction():
            store.conn.execute(
                "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE name = ?", (account.name,)
            )
            failures = store.conn.execute(
                "SELECT failed_attempts FROM users WHERE name = ?", (account.name,)
            ).fetchone()[0]
            _event(
                store,
                account.name,
                "login_failed",
                {"user": account.name, "purpose": purpose, "why": "wrong password", "failures": failures},
                at,
            )
            locked_until = None
            if failures >= MAX_FAILED_ATTEMPTS:
                locked_until = _stamp(now + LOCKOUT)
                store.conn.execute(
                    "UPDATE users SET failed_attempts = 0, locked_until = ?, updated_at = ? WHERE name = ?",
                    (locked_until, at, account.name),
                )
                _event(
                    store,
                    account.name,
                    "user_locked",
                    {"user": account.name, "failures": failures, "locked_until": locked_until},
                    at,
                )
        if locked_until:
            raise AuthError(
                f"wrong user name or password; account '{account.name}' is now locked until {locked_until}"
            )
        raise AuthError("wrong user name or password")
    at = _stamp(now)
    new_hash = _hash_password(password) if HASHER.check_needs_rehash(password_hash) else None
    with store.transaction():
        store.conn.execute(
            "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_login_at = ? WHERE name = ?",
            (at, account.name),
        )
        if new_hash:
            store.conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (new_hash, account.name))
        _event(store, account.name, "login", {"user": account.name, "purpose": purpose}, at)
    return Actor(account.name, account.role)


def change_password(
    kb_or_store: KnowledgeBase | Store,
    name: str,
    new_password: str,
    *,
    by: Actor,
    old_password: str | None = None,
) -> None:
    """Change a password: your own with the old one, anyone's as an admin (which also unlocks)."""
    store = store_of(kb_or_store)
    check_password(new_password, name)
    account = _get_for_change(store, name)
    own = by.name.lower() == account.name.lower()
    if own:
        if old_password is None:
            raise AuthError("enter your current password to change it")
        authenticate(store, account.name, old_password, purpose="password change")
    new_hash = _hash_password(new_password)
    now = utc_now()
    with store.transaction():
        actor = account.name if own else _require_admin(store, by).name
        store.conn.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ?, "
            "failed_attempts = 0, locked_until = NULL WHERE name = ?",
            (new_hash, now, now, account.name),
        )
        _event(store, actor, "user_password", {"user": account.name, "reset_by_admin": not own}, now)


def set_role(
    kb_or_store: KnowledgeBase | Store, name: str, role: str, *, by: Actor, reason: str | None = None
) -> User:
    """Give an account another role (admin only; the last active admin keeps the admin role)."""
    store = store_of(kb_or_store)
    _check_role(role)
    now = utc_now()
    with store.transaction():
        admin = _require_admin(store, by)
        account = _get_for_change(store, name)
        if account.role == role:
            return account
        if account.role == "admin" and account.status == "active" and _active_admins(store) <= 1:
            raise KBError(f"'{account.name}' is the last active admin; make another admin first")
        store.conn.execute(
            "UPDATE users SET role = ?, updated_at = ? WHERE name = ?", (role, now, account.name)
        )
        _event(
            store,
            admin.name,
            "user_role",
            {"user": account.name, "old": account.role, "new": role, "reason": reason},
            now,
        )
    return _get_for_change(store, name)


def _set_status(store: Store, name: str, status: str, by: Actor, reason: str) -> User:
    if not reason or not reason.strip():
        raise KBError("argument 'reason': a reason is required to disable or enable an account")
    now = utc_now()
    with store.transaction():
        admin = _require_admin(store, by)
        account = _get_for_change(store, name)
        if account.status == status:
            raise KBError(f"account '{account.name}' is already {status}")
        if status == "disabled" and account.role == "admin" and _active_admins(store) <= 1:
            raise KBError(f"'{account.name}' is the last active admin; it cannot be disabled")
        store.conn.execute(
            "UPDATE users SET status = ?, updated_at = ? WHERE name = ?", (status, now, account.name)
        )
        action = "user_disable" if status == "disabled" else "user_enable"
        _event(store, admin.name, action, {"user": account.name, "reason": reason}, now)
    return _get_for_change(store, name)


def disable(kb_or_store: KnowledgeBase | Store, name: str, *, by: Actor, reason: str) -> User:
    """Disable an account (admin only): it can no longer log in; nothing is deleted."""
    return _set_status(store_of(kb_or_store), name, "disabled", by, reason)


def enable(kb_or_store: KnowledgeBase | Store, name: str, *, by: Actor, reason: str) -> User:
    """Enable a disabled account again (admin only)."""
    return _set_status(store_of(kb_or_store), name, "active", by, reason)


def unlock(kb_or_store: KnowledgeBase | Store, name: str, *, by: Actor) -> User:
    """Lift a lockout before its 15 minutes are over (admin only)."""
    store = store_of(kb_or_store)
    now = utc_now()
    with store.transaction():
        admin = _require_admin(store, by)
        account = _get_for_change(store, name)
        store.conn.execute(
            "UPDATE users SET locked_until = NULL, failed_attempts = 0, updated_at = ? WHERE name = ?",
            (now, account.name),
        )
        _event(store, admin.name, "user_unlock", {"user": account.name}, now)
    return _get_for_change(store, name)


@dataclass(frozen=True)
class Unaccounted(Actor):
    """A CLI user with no usable account while accounts exist: may read, every write is refused."""

    why: str = ""

    def require(self, action: str) -> None:
        """Refuse every action, saying why."""
        raise PermissionDenied(self.why)


def actor_for_cli(kb_or_store: KnowledgeBase | Store, name: str) -> Actor | None:
    """Return the Actor a CLI user writes as: None while no account exists, else the account's role."""
    store = store_of(kb_or_store)
    try:
        if not users_exist(store):
            return None
    except sqlite3.DatabaseError:
        return None
    found = _row(store, name)
    if found is None:
        return Unaccounted(
            name,
            "operator",
            f"'{name}' has no account in this knowledge base; act as an account holder (--as NAME) "
            "or ask an admin to create one",
        )
    account, _ = found
    if account.status != "active":
        return Unaccounted(account.name, account.role, f"account '{account.name}' is disabled")
    return Actor(account.name, account.role)
