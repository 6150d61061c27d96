"""Local user accounts kept in the knowledge base's own SQLite database.

Passwords are hashed with argon2id (argon2-cffi) and never stored or logged in clear. Five wrong
passwords in a row lock an account for 15 minutes. Every change to an account, every login and every
failed login is written to the hash-chained audit trail. Accounts are never deleted, only disabled.

The first account may be created without logging in, and only while no account exists; it must be an
admin. After that only an (authenticated) admin manages accounts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kb.governance.roles import ROLES, Actor, PermissionDenied, actions_of
from kb.models import KBError, utc_now
from kb.storage.base import Store
from kb.storage.governance_queries import DatabaseError, secret_digest

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

# A client (a terminal user, a browser session) may fail this often per window, whatever names it tries.
CLIENT_FAILURE_LIMIT = 20
CLIENT_WINDOW = timedelta(minutes=15)


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
    return getattr(kb_or_store, "store", kb_or_store)


def _row(store: Store, name: str) -> tuple[User, str] | None:
    row = store.user_row(name)
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
    store.record_event(actor, action, None, details, at)


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
    return store.count_active_admins()


def _get_for_change(store: Store, name: str) -> User:
    found = _row(store, name)
    if found is None:
        raise KBError(f"no account named '{name}'")
    return found[0]


# --- public API -----------------------------------------------------------------------------------


def users_exist(kb_or_store: KnowledgeBase | Store) -> bool:
    """Return True when at least one account exists (then roles come from accounts)."""
    return store_of(kb_or_store).count_users() > 0


def get_user(kb_or_store: KnowledgeBase | Store, name: str) -> User | None:
    """Return one account, or None when there is no account with that name."""
    found = _row(store_of(kb_or_store), name)
    return None if found is None else found[0]


def list_users(kb_or_store: KnowledgeBase | Store) -> list[User]:
    """Return every account (active and disabled), by name."""
    return [User(*r) for r in store_of(kb_or_store).user_rows()]


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
    now = utc_now()
    with store.transaction():
        first = store.count_users() == 0
        if first:
            if role != "admin":
                raise KBError("the first account must be an admin (--role admin): it manages the others")
            creator = by.name if by is not None else None
        else:
            creator = _require_admin(store, by).name
        if _row(store, name) is not None:
            raise KBError(f"an account named '{name}' already exists (accounts are never deleted)")
        store.insert_user(name, full_name, role, password_hash, now, creator)
        _event(
            store,
            creator or name,
            "user_create",
            {
                "user": name,
                "role": role,
                "full_name": full_name,
                "first_account": first,
                "status": "active",
                "password": secret_digest(password_hash),  # binds the stored hash to the chain
            },
            now,
        )
    user = get_user(store, name)
    assert user is not None
    return user


def _window_start(now: datetime) -> str:
    return _stamp(now - CLIENT_WINDOW)


def authenticate(
    kb_or_store: KnowledgeBase | Store,
    name: str,
    password: str,
    *,
    purpose: str = "login",
    client: str = "local",
) -> Actor:
    """Return the Actor for a correct name and password; count failures and lock after five.

    Every attempt is counted *before* the (slow) hash check, in one write transaction, so parallel guesses
    cannot slip past the limit; every refusal (unknown name, disabled, locked, wrong) costs one hash check,
    so timing does not tell them apart. Unknown names are never written to the audit trail (a password
    typed into the name field must not end up there); they count against the client's limit only.
    """
    store = store_of(kb_or_store)
    if not users_exist(store):
        raise AuthError("there are no user accounts yet: create the first admin with `tacitkb users create`")
    now = _now()
    at = _stamp(now)
    client_key = f"client:{client}"
    with store.transaction():
        client_failures = store.count_client_failure(client_key, at, _window_start(now))
        found = _row(store, name)
        failures = 0
        if found is not None and client_failures <= CLIENT_FAILURE_LIMIT:
            account = found[0]
            if account.status == "active" and not account.is_locked(now):
                failures = store.count_failed_attempt(account.name)
    if client_failures > CLIENT_FAILURE_LIMIT:
        _burn_time(password)
        raise AuthError(
            f"too many failed logins from this client ({CLIENT_FAILURE_LIMIT} in "
            f"{int(CLIENT_WINDOW.total_seconds() // 60)} minutes); wait, or ask an admin"
        )
    if found is None:
        _burn_time(password)
        raise AuthError("wrong user name or password")
    account, password_hash = found
    if account.status != "active" or account.is_locked(now) or failures > MAX_FAILED_ATTEMPTS:
        _burn_time(password)  # the same cost as a wrong password
        why = "disabled" if account.status != "active" else "locked"
        with store.transaction():
            _event(
                store,
                account.name,
                "login_failed",
                {"user": account.name, "purpose": purpose, "why": why},
                at,
            )
        if why == "disabled":
            raise AuthError(f"account '{account.name}' is disabled; ask an admin")
        until = account.locked_until or "the lockout ends"
        raise AuthError(
            f"account '{account.name}' is locked until {until} after {MAX_FAILED_ATTEMPTS} "
            "failed attempts; try again later or ask an admin to unlock it"
        )
    if not _verify(password_hash, password):
        locked_until = None
        with store.transaction():
            _event(
                store,
                account.name,
                "login_failed",
                {"user": account.name, "purpose": purpose, "why": "wrong password", "failures": failures},
                at,
            )
            if failures >= MAX_FAILED_ATTEMPTS:
                locked_until = _stamp(now + LOCKOUT)
                store.lock_user(account.name, locked_until, at)
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
    new_hash = _hash_password(password) if HASHER.check_needs_rehash(password_hash) else None
    with store.transaction():
        store.record_login(account.name, at, new_hash)
        store.forgive_client_failure(client_key)  # the attempt was counted up front; it was not a failure
        details: dict[str, Any] = {"user": account.name, "purpose": purpose}
        if new_hash:
            details["password"] = secret_digest(new_hash)
        _event(store, account.name, "login", details, at)
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
        store.set_password_hash(account.name, new_hash, now)
        _event(
            store,
            actor,
            "user_password",
            {"user": account.name, "reset_by_admin": not own, "password": secret_digest(new_hash)},
            now,
        )


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
        store.set_user_role(account.name, role, now)
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
        store.set_user_status(account.name, status, now)
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
        store.unlock_user(account.name, now)
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
    except DatabaseError:
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
