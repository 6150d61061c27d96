"""Issue 16 items 2, 3 and 8: stored state bound to the audit chain, no self-approval, an honest lockout."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.governance import users
from kb.governance.audit import verify_chain
from kb.governance.integrity import verify_knowledge_base
from kb.governance.roles import Actor
from kb.governance.signatures import sign, signatures_for
from kb.governance.users import AuthError, authenticate, create_user, disable, get_user
from kb.knowledge_base import KnowledgeBase
from kb.models import Entry, KBError, Link
from kb.storage.factory import open_store
from kb.storage.sqlite import Store

PW = {
    "alice": "admin-password",
    "quinn": "qa-password-1",
    "erin": "engineer-pw-1",
    "quentin": "qa-password-2",
}

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def store(store_target: str):
    s = open_store(store_target)
    create_user(s, "alice", "admin", PW["alice"], by=None, full_name="Alice Admin")
    admin = Actor("alice", "admin")
    create_user(s, "quinn", "qa", PW["quinn"], by=admin, full_name="Quinn QA")
    create_user(s, "quentin", "qa", PW["quentin"], by=admin)
    create_user(s, "erin", "engineer", PW["erin"], by=admin)
    s.insert(
        [
            Entry(type="deviation", text="Depth filter blocked after 30 L", process="LVV", author="erin"),
            Entry(type="fix", text="Benzonase dosed 1 h before clarification", process="LVV", author="erin"),
        ],
        author="erin",
    )
    s.update("KB-000001", {"severity": "major"}, author="erin", reason="classified")
    s.add_link(Link("KB-000001", "fixed_by", "KB-000002", author="erin"))
    yield s
    s.close()


def problems(store: Store) -> list[str]:
    check = verify_chain(store)
    return [] if check.ok else check.problems


def test_an_untouched_store_verifies(store: Store) -> None:
    sign(store, "KB-000001", "approved", signer="quinn", password=PW["quinn"])
    assert problems(store) == []


def test_an_entry_changed_in_the_database_is_caught_and_its_signature_no_longer_holds(store: Store) -> None:
    sign(store, "KB-000001", "approved", signer="quinn", password=PW["quinn"])
    store.conn.execute("UPDATE entries SET text = 'Depth filter fine' WHERE id = 'KB-000001'")
    assert any("entry KB-000001 revision 2: content does not match" in p for p in problems(store))
    (sig,) = signatures_for(store, "KB-000001")
    assert sig.valid is False and "content changed since signing" in sig.state


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE revisions SET reason = 'nothing' WHERE entry_id = 'KB-000001' AND revision = 2",
         "revision 2 of KB-000001 was edited"),
        ("DELETE FROM revisions WHERE entry_id = 'KB-000001' AND revision = 2",
         "revision 2 of KB-000001 was deleted"),
        ("DELETE FROM entries WHERE id = 'KB-000002'", "entry KB-000002 was deleted"),
        ("UPDATE entries SET status = 'retired' WHERE id = 'KB-000002'", "entry KB-000002: status or author"),
        ("UPDATE entries SET author = 'quinn' WHERE id = 'KB-000002'", "entry KB-000002: status or author"),
        ("UPDATE entries SET revision = 5 WHERE id = 'KB-000002'", "entry KB-000002: stored revision 5"),
        ("UPDATE users SET role = 'admin' WHERE name = 'erin'", "account 'erin': role 'admin' in the database"),
        ("UPDATE users SET password_hash = 'x' WHERE name = 'erin'", "account 'erin': password hash replaced"),
        ("UPDATE users SET status = 'disabled' WHERE name = 'erin'", "account 'erin': status 'disabled'"),
        ("DELETE FROM links", "link KB-000001 fixed_by KB-000002 was deleted"),
        ("INSERT INTO links VALUES ('KB-000002', 'related', 'KB-000001', 'x', '2026', NULL)",
         "link KB-000002 related KB-000001 has no audit event"),
    ],
)  # fmt: skip
def test_rows_changed_behind_the_stores_back_are_named(store: Store, sql: str, expected: str) -> None:
    store.conn.execute(sql)
    found = problems(store)
    assert any(expected in p for p in found), found


def test_an_inserted_account_and_an_edited_signature_are_caught(store: Store) -> None:
    sign(store, "KB-000002", "reviewed", signer="quinn", password=PW["quinn"])
    store.conn.execute("UPDATE signatures SET meaning = 'approved'")
    store.conn.execute(
        "INSERT INTO users(name, role, password_hash, created_at, updated_at, password_changed_at) "
        "VALUES ('mallory', 'admin', 'x', 'now', 'now', 'now')"
    )
    found = problems(store)
    assert any("signature 1 on KB-000002 differs from its sign event" in p for p in found)
    assert any("account 'mallory' has no user_create event" in p for p in found)


def test_cli_verify_and_audit_verify_report_a_changed_entry(tmp_path: Path, embedder) -> None:
    home = tmp_path / "kb"
    with KnowledgeBase(home, embedder=embedder) as kb:
        kb.add({"type": "cue", "text": "Faint haze after PEI complex addition"}, author="erin")
        kb.ensure_index()
        assert verify_knowledge_base(kb)["ok"]
        kb.store.conn.execute("UPDATE entries SET text = 'No haze at all' WHERE id = 'KB-000001'")
        report = verify_knowledge_base(kb)
        assert not report["ok"] and "KB-000001" in report["audit_chain"]
    runner = CliRunner()
    result = runner.invoke(cli, ["--kb", str(home), "audit", "verify"])
    assert result.exit_code == 3 and "content does not match" in result.output


def test_author_is_read_only_and_an_editor_cannot_sign(store: Store) -> None:
    with pytest.raises(KBError, match="field 'author': read-only after creation"):
        store.update("KB-000002", {"author": "quentin"}, author="quinn", reason="hand it over")
    assert store.get("KB-000002").author == "erin"
    # quinn (qa) edits erin's entry, then tries to approve it: any revision's author is refused.
    store.update("KB-000002", {"severity": "minor"}, author="quinn", reason="classified")
    with pytest.raises(KBError, match="quinn authored or edited KB-000002"):
        sign(store, "KB-000002", "approved", signer="quinn", password=PW["quinn"])
    assert sign(store, "KB-000002", "approved", signer="quentin", password=PW["quentin"]).signer == "quentin"


def test_parallel_wrong_passwords_are_checked_at_most_five_times(
    store: Store, store_target: str, monkeypatch
) -> None:
    real_hash = store.user_row("quinn")[-1]
    checked: list[int] = []
    real_verify = users._verify

    def counting(password_hash: str, password: str) -> bool:
        if password_hash == real_hash:
            checked.append(1)
        return real_verify(password_hash, password)

    monkeypatch.setattr(users, "_verify", counting)
    barrier = threading.Barrier(30)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        own = open_store(store_target)  # one connection per thread, as separate processes would have
        try:
            barrier.wait()
            authenticate(own, "quinn", f"guess-{i}", client=f"host-{i}")
        except AuthError as exc:
            outcomes.append(str(exc))
        finally:
            own.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 30 and len(checked) <= 5
    assert get_user(store, "quinn").is_locked()


def test_every_refusal_costs_one_hash_check_and_unknown_names_stay_out_of_the_trail(
    store: Store, monkeypatch
) -> None:
    calls: list[str] = []
    real_verify = users._verify
    monkeypatch.setattr(users, "_verify", lambda h, p: calls.append(p) or real_verify(h, p))
    disable(store, "erin", by=Actor("alice", "admin"), reason="left")
    for name, password in (("quinn", "wrong-pw-1"), ("erin", PW["erin"]), ("nobody", "x-pw-1234")):
        calls.clear()
        with pytest.raises(AuthError):
            authenticate(store, name, password)
        assert len(calls) == 1, name
    events_before = len(store.audit_events())
    with pytest.raises(AuthError, match="wrong user name or password"):
        authenticate(store, PW["quinn"], "anything")  # a password typed into the name field
    assert len(store.audit_events()) == events_before
    assert all(PW["quinn"] not in str(e) for e in store.audit_events())


def test_a_client_is_rate_limited_across_names(store: Store) -> None:
    for i in range(users.CLIENT_FAILURE_LIMIT):
        with pytest.raises(AuthError, match="wrong user name or password"):
            authenticate(store, f"guess{i}", "whatever-pw", client="10.0.0.9")
    with pytest.raises(AuthError, match="too many failed logins from this client"):
        authenticate(store, "quinn", PW["quinn"], client="10.0.0.9")
    assert authenticate(store, "quinn", PW["quinn"], client="10.0.0.10").role == "qa"
