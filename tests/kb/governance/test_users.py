"""Local accounts: argon2 hashes, first admin, admin-only management, lockout after five failures, audit."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.governance import users
from kb.governance.audit import verify_chain
from kb.governance.roles import Actor, PermissionDenied
from kb.governance.users import (
    AuthError,
    actor_for_cli,
    authenticate,
    change_password,
    create_user,
    disable,
    enable,
    get_user,
    list_users,
    set_role,
    unlock,
)
from kb.models import KBError
from kb.storage.factory import open_store
from kb.storage.sqlite import Store

ADMIN_PW = "correct horse battery"
QA_PW = "qa-password-1"


pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def store(store_target: str):
    s = open_store(store_target)
    yield s
    s.close()


@pytest.fixture
def admin(store: Store) -> Actor:
    create_user(store, "alice", "admin", ADMIN_PW, by=None, full_name="Alice Admin")
    return authenticate(store, "alice", ADMIN_PW)


def events(store: Store, action: str) -> list[dict]:
    return [e for e in store.audit_events() if e["action"] == action]


def test_first_account_needs_no_login_but_must_be_an_admin(store: Store) -> None:
    with pytest.raises(KBError, match="first account must be an admin"):
        create_user(store, "bob", "operator", "operator-pw-1", by=None)
    user = create_user(store, "alice", "admin", ADMIN_PW, by=None)
    assert (user.name, user.role, user.status) == ("alice", "admin", "active")
    assert authenticate(store, "alice", ADMIN_PW) == Actor("alice", "admin")
    (event,) = events(store, "user_create")
    assert event["details"]["first_account"] is True and event["actor"] == "alice"


def test_after_the_first_account_only_an_admin_creates_accounts(store: Store, admin: Actor) -> None:
    with pytest.raises(PermissionDenied, match="only an admin"):
        create_user(store, "mallory", "admin", "mallory-pw-1", by=None)
    create_user(store, "erin", "engineer", "engineer-pw-1", by=admin)
    with pytest.raises(PermissionDenied, match="may not manage accounts"):
        create_user(store, "mallory", "admin", "mallory-pw-1", by=Actor("erin", "engineer"))
    # A forged Actor claiming a role its account does not have is refused: the account's role counts.
    with pytest.raises(PermissionDenied, match="may not manage accounts"):
        create_user(store, "mallory", "admin", "mallory-pw-1", by=Actor("erin", "admin"))
    with pytest.raises(KBError, match="already exists"):
        create_user(store, "ALICE", "qa", QA_PW, by=admin)
    assert [u.name for u in list_users(store)] == ["alice", "erin"]


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("../etc", "long-enough-pw", "not a valid account name"),
        ("", "long-enough-pw", "not a valid account name"),
        ("bob", "short", "at least 8"),
        ("bob", "        ", "at least 8|only spaces"),
        ("bobbybob", "BobbyBob", "must not be the account name"),
    ],
)
def test_bad_names_and_weak_passwords_are_refused(
    store: Store, name: str, password: str, message: str
) -> None:
    with pytest.raises(KBError, match=message):
        create_user(store, name, "admin", password, by=None)
    assert list_users(store) == []


def test_passwords_are_argon2_hashes_never_clear_text(
    store: Store, admin: Actor, tmp_path: Path, backend: str
) -> None:
    (stored,) = store.conn.execute("SELECT password_hash FROM users WHERE name = 'alice'").fetchone()
    assert stored.startswith("$argon2id$") and ADMIN_PW not in stored
    if backend == "sqlite":  # the file itself (PostgreSQL's files are the server's, not ours to read)
        store.conn.execute("PRAGMA wal_checkpoint(FULL)")
        for path in (tmp_path / "kb").iterdir():
            assert ADMIN_PW.encode() not in path.read_bytes(), path
    assert all(ADMIN_PW not in json.dumps(e) for e in store.audit_events())
    assert "password_hash" not in get_user(store, "alice").to_dict()


def test_five_failures_lock_the_account_for_15_minutes(
    store: Store, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(store, "quinn", "qa", QA_PW, by=admin)
    for attempt in range(1, 5):
        with pytest.raises(AuthError, match="wrong user name or password$"):
            authenticate(store, "quinn", f"guess-{attempt}")
        assert get_user(store, "quinn").failed_attempts == attempt
    with pytest.raises(AuthError, match="now locked until"):
        authenticate(store, "quinn", "guess-5")
    user = get_user(store, "quinn")
    assert user.is_locked() and user.locked_until
    # While locked even the right password is refused, and the attempt is recorded.
    with pytest.raises(AuthError, match="is locked until"):
        authenticate(store, "quinn", QA_PW)
    failed = [e for e in events(store, "login_failed") if e["details"]["user"] == "quinn"]
    assert [e["details"]["why"] for e in failed] == ["wrong password"] * 5 + ["locked"]
    (locked,) = events(store, "user_locked")
    assert locked["details"] == {"user": "quinn", "failures": 5, "locked_until": user.locked_until}

    real_now = users._now
    monkeypatch.setattr(users, "_now", lambda: real_now() + timedelta(minutes=16))
    assert authenticate(store, "quinn", QA_PW) == Actor("quinn", "qa")
    after = get_user(store, "quinn")
    assert after.failed_attempts == 0 and after.locked_until is None
    assert verify_chain(store).ok


def test_admin_unlocks_and_a_success_resets_the_count(store: Store, admin: Actor) -> None:
    create_user(store, "quinn", "qa", QA_PW, by=admin)
    for _ in range(5):
        with pytest.raises(AuthError):
            authenticate(store, "quinn", "nope-nope")
    unlock(store, "quinn", by=admin)
    assert authenticate(store, "quinn", QA_PW).role == "qa"
    for _ in range(4):
        with pytest.raises(AuthError):
            authenticate(store, "quinn", "nope-nope")
    authenticate(store, "quinn", QA_PW)  # the fifth attempt is right: count back to zero
    assert get_user(store, "quinn").failed_attempts == 0


def test_unknown_user_gets_the_same_message_and_is_not_written_to_the_trail(
    store: Store, admin: Actor
) -> None:
    # Issue 16 item 8: an unknown name (perhaps a password typed into the name field) never enters the
    # audit trail; it counts against the client's rate limit instead.
    with pytest.raises(AuthError, match="^wrong user name or password$"):
        authenticate(store, "Secret-Typed-Pw", "whatever-pw")
    assert events(store, "login_failed") == []
    assert all("Secret-Typed-Pw" not in json.dumps(e) for e in store.audit_events())


def test_password_change_role_change_and_disable_are_audited(store: Store, admin: Actor) -> None:
    create_user(store, "erin", "engineer", "engineer-pw-1", by=admin)
    erin = authenticate(store, "erin", "engineer-pw-1")
    with pytest.raises(AuthError):
        change_password(store, "erin", "engineer-pw-2", by=erin, old_password="wrong-old-pw")
    change_password(store, "erin", "engineer-pw-2", by=erin, old_password="engineer-pw-1")
    with pytest.raises(PermissionDenied):
        change_password(store, "alice", "hijacked-pw-1", by=erin)
    change_password(store, "erin", "engineer-pw-3", by=admin)  # admin reset
    assert authenticate(store, "erin", "engineer-pw-3").role == "engineer"

    assert set_role(store, "erin", "qa", by=admin, reason="moved to QA").role == "qa"
    assert authenticate(store, "erin", "engineer-pw-3").role == "qa"
    with pytest.raises(KBError, match="last active admin"):
        set_role(store, "alice", "qa", by=admin)
    with pytest.raises(KBError, match="last active admin"):
        disable(store, "alice", by=admin, reason="leaving")
    with pytest.raises(KBError, match="reason"):
        disable(store, "erin", by=admin, reason=" ")

    disable(store, "erin", by=admin, reason="left the company")
    with pytest.raises(AuthError, match="disabled"):
        authenticate(store, "erin", "engineer-pw-3")
    assert get_user(store, "erin").status == "disabled"  # kept, never deleted
    enable(store, "erin", by=admin, reason="came back")
    assert authenticate(store, "erin", "engineer-pw-3").role == "qa"

    actions = [e["action"] for e in store.audit_events()]
    for action in ("user_create", "user_password", "user_role", "user_disable", "user_enable", "login"):
        assert action in actions
    (role_event,) = events(store, "user_role")
    assert role_event["details"] == {"user": "erin", "old": "engineer", "new": "qa", "reason": "moved to QA"}
    assert verify_chain(store).ok


def test_actor_for_cli_uses_the_account_role(store: Store) -> None:
    assert actor_for_cli(store, "anyone") is None  # no accounts: local single-user mode, unchanged
    create_user(store, "alice", "admin", ADMIN_PW, by=None)
    admin = Actor("alice", "admin")
    create_user(store, "olga", "operator", "operator-pw-1", by=admin)
    assert actor_for_cli(store, "olga") == Actor("olga", "operator")
    stranger = actor_for_cli(store, "stranger")  # may read; every write is refused with the reason
    with pytest.raises(PermissionDenied, match="no account"):
        stranger.require("search")
    disable(store, "olga", by=admin, reason="test")
    with pytest.raises(PermissionDenied, match="disabled"):
        actor_for_cli(store, "olga").require("add:cue")


# --- the CLI ----------------------------------------------------------------------------------------


def run(home: Path, user: str, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--kb", str(home), "--as", user, *args], input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_cli_first_admin_then_admin_login_for_more_accounts(tmp_path: Path) -> None:
    home = tmp_path / "kb"
    assert run(home, "root", "init")[0] == 0  # every command but init refuses a folder without a base
    code, out = run(home, "root", "users", "list")
    assert code == 0 and "no accounts yet" in out
    # Interactive: hidden prompt with confirmation.
    code, out = run(
        home, "root", "users", "create", "alice", "--role", "admin", input=f"{ADMIN_PW}\n{ADMIN_PW}\n"
    )
    assert code == 0 and "account alice created (admin)" in out
    assert ADMIN_PW not in out
    # Now an admin must log in: --as alice plus her password, then the new password (stdin for scripts).
    code, out = run(
        home, "bob", "users", "create", "quinn", "--role", "qa", "--password-stdin", input=f"x\n{QA_PW}\n"
    )
    assert code == 1 and "wrong user name or password" in out
    code, out = run(
        home,
        "alice",
        "users",
        "create",
        "quinn",
        "--role",
        "qa",
        "--password-stdin",
        input=f"wrong-pw\n{QA_PW}\n",
    )
    assert code == 1 and "wrong user name or password" in out
    code, out = run(
        home,
        "alice",
        "users",
        "create",
        "quinn",
        "--role",
        "qa",
        "--password-stdin",
        input=f"{ADMIN_PW}\n{QA_PW}\n",
    )
    assert code == 0, out
    # Issue 16: once accounts exist, listing them needs a logged-in account too.
    code, out = run(home, "alice", "--password-stdin", "users", "list", "--json", input=f"{ADMIN_PW}\n")
    listed = {u["name"]: u for u in json.loads(out)}
    assert listed["quinn"]["role"] == "qa"
    assert listed["alice"]["failed_attempts"] == 0  # one failure, then a success resets the count
    code, out = run(
        home, "alice", "users", "set-role", "quinn", "engineer", "--password-stdin", input=f"{ADMIN_PW}\n"
    )
    assert code == 0 and "quinn is now engineer" in out
    code, out = run(
        home, "quinn", "users", "set-role", "quinn", "admin", "--password-stdin", input=f"{QA_PW}\n"
    )
    assert code == 1 and "may not manage accounts" in out
    code, out = run(home, "quinn", "users", "passwd", "--password-stdin", input=f"{QA_PW}\nnew-quinn-pw\n")
    assert code == 0, out
    code, out = run(
        home,
        "alice",
        "users",
        "disable",
        "quinn",
        "--reason",
        "left",
        "--password-stdin",
        input=f"{ADMIN_PW}\n",
    )
    assert code == 0
    code, out = run(home, "alice", "audit", "verify")
    assert code == 0 and "intact" in out
