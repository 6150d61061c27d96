"""Electronic signatures: password re-entry, signing roles, bound to the record version, in the audit chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.governance.audit import verify_chain
from kb.governance.roles import Actor, PermissionDenied
from kb.governance.signatures import sign, signatures_for
from kb.governance.users import AuthError, create_user, get_user
from kb.models import Entry, KBError, NotFoundError
from kb.storage.factory import open_store
from kb.storage.sqlite import Store
from tests.kb.governance.conftest import cli_db_args

PW = {"alice": "admin-password", "quinn": "qa-password-1", "erin": "engineer-pw-1", "olga": "operator-pw-1"}


pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def store(store_target: str):
    s = open_store(store_target)
    create_user(s, "alice", "admin", PW["alice"], by=None, full_name="Alice Admin")
    admin = Actor("alice", "admin")
    create_user(s, "quinn", "qa", PW["quinn"], by=admin, full_name="Quinn QA")
    create_user(s, "erin", "engineer", PW["erin"], by=admin)
    create_user(s, "olga", "operator", PW["olga"], by=admin)
    s.insert(
        [Entry(type="deviation", text="Depth filter blocked after 30 L", process="LVV", author="erin")],
        author="erin",
    )
    yield s
    s.close()


def test_a_signature_records_signer_meaning_time_and_version(store: Store) -> None:
    sig = sign(store, "KB-000001", "reviewed", signer="quinn", password=PW["quinn"], comment="checked vs BR")
    entry = store.get("KB-000001")
    assert (sig.signer, sig.signer_role, sig.meaning, sig.entry_id) == (
        "quinn",
        "qa",
        "reviewed",
        "KB-000001",
    )
    assert sig.revision == entry.revision == 1 and sig.content_hash == entry.content_hash
    assert sig.at.endswith("Z") and "reviewed by Quinn QA (qa)" in sig.manifestation()
    (event,) = [e for e in store.audit_events() if e["action"] == "sign"]
    assert event["actor"] == "quinn" and event["entry_id"] == "KB-000001"
    assert event["details"]["content_hash"] == entry.content_hash and event["details"]["signed_revision"] == 1
    (found,) = signatures_for(store, "kb-000001")
    assert found.valid and found.state == "valid for the current version" and found.comment == "checked vs BR"
    assert verify_chain(store).ok


def test_an_edit_after_signing_shows_the_signature_as_for_an_earlier_version(store: Store) -> None:
    sign(store, "KB-000001", "reviewed", signer="quinn", password=PW["quinn"])
    store.update("KB-000001", {"text": "Depth filter blocked after 25 L"}, author="erin", reason="volume")
    (old,) = signatures_for(store, "KB-000001")
    assert old.valid is False
    assert old.state == "for an earlier version (signed revision 1; now revision 2)"
    sign(store, "KB-000001", "approved", signer=Actor("alice", "admin"), password=PW["alice"])
    states = [(s.meaning, s.revision, s.valid) for s in signatures_for(store, "KB-000001")]
    assert states == [("reviewed", 1, False), ("approved", 2, True)]
    store.set_status("KB-000001", "retired", author="quinn", reason="duplicate")
    assert not any(s.valid for s in signatures_for(store, "KB-000001"))


def test_a_change_behind_the_stores_back_is_shown_as_a_hash_mismatch(store: Store) -> None:
    sign(store, "KB-000001", "reviewed", signer="quinn", password=PW["quinn"])
    store.conn.execute("UPDATE entries SET content_hash = 'forged' WHERE id = 'KB-000001'")
    (sig,) = signatures_for(store, "KB-000001")
    assert sig.valid is False and "hash mismatch" in sig.state


@pytest.mark.parametrize("who", ["erin", "olga"])
def test_only_qa_and_admin_may_sign(store: Store, who: str) -> None:
    with pytest.raises(PermissionDenied, match="may not sign"):
        sign(store, "KB-000001", "reviewed", signer=who, password=PW[who])
    assert signatures_for(store, "KB-000001") == []


def test_the_password_is_checked_again_and_failures_count_toward_lockout(store: Store) -> None:
    for _ in range(4):
        with pytest.raises(AuthError, match="wrong user name or password"):
            sign(store, "KB-000001", "reviewed", signer="quinn", password="not-it")
    with pytest.raises(AuthError, match="now locked"):
        sign(store, "KB-000001", "reviewed", signer="quinn", password="not-it")
    with pytest.raises(AuthError, match="locked"):
        sign(store, "KB-000001", "reviewed", signer="quinn", password=PW["quinn"])
    assert get_user(store, "quinn").is_locked() and signatures_for(store, "KB-000001") == []


def test_signing_rules(store: Store) -> None:
    with pytest.raises(KBError, match="meaning"):
        sign(store, "KB-000001", "authored", signer="quinn", password=PW["quinn"])
    with pytest.raises(NotFoundError):
        sign(store, "KB-000099", "reviewed", signer="quinn", password=PW["quinn"])
    store.insert([Entry(type="cue", text="haze after PEI", author="quinn (qa)")], author="quinn")
    with pytest.raises(KBError, match="second person"):
        sign(store, "KB-000002", "reviewed", signer="quinn", password=PW["quinn"])
    sign(store, "KB-000001", "reviewed", signer="quinn", password=PW["quinn"])
    with pytest.raises(KBError, match="already signed"):
        sign(store, "KB-000001", "reviewed", signer="quinn", password=PW["quinn"])


def test_a_clustering_run_can_be_signed_and_tampering_shows(store: Store) -> None:
    store.conn.execute(
        "INSERT INTO cluster_runs VALUES ('run-20250101T000000-abcd', '2025-01-01T00:00:00.000000Z', 'deviation', "
        "'fp', 1, 1, '{}', '{}', '{}', 1)"
    )
    store.conn.execute(
        "INSERT INTO clusters VALUES ('run-20250101T000000-abcd', 'C001', '[\"filter\"]', 1, NULL)"
    )
    store.conn.execute(
        "INSERT INTO cluster_members VALUES ('run-20250101T000000-abcd', 'C001', 'KB-000001', 1, 1)"
    )
    sig = sign(store, "run-20250101T000000-abcd", "approved", signer="quinn", password=PW["quinn"])
    assert sig.kind == "cluster_run" and sig.revision == 1
    assert signatures_for(store, "run-20250101T000000-abcd")[0].valid
    store.conn.execute("UPDATE clusters SET label = '[\"pump\"]'")
    (after,) = signatures_for(store, "run-20250101T000000-abcd")
    assert after.valid is False and "hash mismatch" in after.state
    with pytest.raises(NotFoundError):
        sign(store, "run-nope", "approved", signer="quinn", password=PW["quinn"])


def test_cli_sign_and_show(store: Store, store_target: str, tmp_path: Path) -> None:
    opened = cli_db_args(store_target, tmp_path / "kb")
    runner = CliRunner()
    args = [*opened, "--as", "quinn", "sign", "KB-000001", "--meaning", "reviewed"]
    result = runner.invoke(cli, [*args, "--password-stdin"], input="wrong-password\n")
    assert result.exit_code == 1 and "wrong user name or password" in result.output
    result = runner.invoke(cli, args, input=f"{PW['quinn']}\n")  # hidden prompt
    assert result.exit_code == 0 and "signed: reviewed by Quinn QA (qa)" in result.output
    result = runner.invoke(cli, [*opened, "signatures", "KB-000001", "--json"])
    (shown,) = json.loads(result.output)
    assert shown["valid"] and shown["signer"] == "quinn"
    result = runner.invoke(
        cli, [*opened, "--as", "erin", *args[-4:], "--password-stdin"], input=f"{PW['erin']}\n"
    )
    assert result.exit_code == 1 and "may not sign" in result.output
