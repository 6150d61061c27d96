"""Issue 16 item 4: once accounts exist, every CLI write needs the acting account's password (or session)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.governance import sessions
from kb.governance.roles import Actor
from kb.governance.users import create_user
from kb.knowledge_base import KnowledgeBase

PW = {"admin1": "admin-password", "qa1": "qa-password-1", "op1": "operator-pw-1"}

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def home(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("TACITKB_USER", raising=False)
    path = tmp_path / "kb"
    with KnowledgeBase(path, embedder=embedder) as kb:
        kb.add({"type": "cue", "text": "Faint haze after PEI complex addition", "process": "LVV"}, author="x")
        create_user(kb, "admin1", "admin", PW["admin1"], by=None)
        create_user(kb, "qa1", "qa", PW["qa1"], by=Actor("admin1", "admin"))
        create_user(kb, "op1", "operator", PW["op1"], by=Actor("admin1", "admin"))
    return path


def run(home: Path, *args: str, input: str | None = None, env: dict | None = None):
    result = CliRunner().invoke(cli, ["--kb", str(home), *args], input=input, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def status(home: Path, embedder) -> str:
    with KnowledgeBase(home, embedder=embedder) as kb:
        return kb.get("KB-000001").status


def test_a_write_without_the_password_is_refused(home: Path, embedder) -> None:
    retire = ["--as", "qa1", "retire", "KB-000001", "--reason", "obsolete"]
    assert run(home, *retire).exit_code != 0  # no input for the hidden prompt
    wrong = run(home, "--password-stdin", *retire, input="not-the-password\n")
    assert wrong.exit_code == 1 and "wrong user name or password" in wrong.output
    assert status(home, embedder) == "active"
    right = run(home, "--password-stdin", *retire, input=f"{PW['qa1']}\n")
    assert right.exit_code == 0, right.output
    assert status(home, embedder) == "retired"
    with KnowledgeBase(home, embedder=embedder) as kb:
        (event,) = [e for e in kb.store.audit_events() if e["action"] == "retire"]
        assert event["actor"] == "qa1"


def test_privileged_commands_from_an_environment_name_need_the_password(home: Path, tmp_path: Path) -> None:
    env = {"TACITKB_USER": "admin1"}
    out = tmp_path / "pkg.zip"
    refused = run(home, "export", "--process", "LVV", "--out", str(out), env=env)
    assert refused.exit_code != 0 and not out.exists()
    refused = run(home, "backup", "--out", str(tmp_path / "b.db"), env=env)
    assert refused.exit_code != 0 and not (tmp_path / "b.db").exists()
    ok = run(
        home,
        "--password-stdin",
        "backup",
        "--out",
        str(tmp_path / "b.db"),
        input=f"{PW['admin1']}\n",
        env=env,
    )
    assert ok.exit_code == 0, ok.output


def test_the_role_is_checked_before_any_password_is_asked(home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text("type,text\ncue,Medium orange on day 5\n")
    result = run(home, "--as", "op1", "import", str(csv))
    assert result.exit_code == 1 and "may not import" in result.output and "Password" not in result.output


def test_a_name_without_an_account_cannot_write_at_all(home: Path) -> None:
    result = run(home, "--as", "stranger", "workshop", "start", "lvv-transfection", "--facilitator", "x")
    assert result.exit_code == 1 and "has no account" in result.output
    listed = run(home, "--as", "stranger", "users", "list")
    assert listed.exit_code == 1 and "has no account" in listed.output
    listed = run(home, "--as", "op1", "--password-stdin", "users", "list", input=f"{PW['op1']}\n")
    assert listed.exit_code == 0 and "admin1" in listed.output


def test_a_write_without_its_own_event_is_audited(home: Path, embedder) -> None:
    result = run(home, "--as", "admin1", "--password-stdin", "reindex", input=f"{PW['admin1']}\n")
    assert result.exit_code == 0, result.output
    with KnowledgeBase(home, embedder=embedder) as kb:
        last = kb.store.audit_events()[-1]
    assert (last["action"], last["actor"], last["details"]) == (
        "cli_command",
        "admin1",
        {"command": "reindex"},
    )


def test_a_private_token_file_stands_in_for_the_password(home: Path, embedder) -> None:
    login = run(home, "--as", "qa1", "login", "--password-stdin", input=f"{PW['qa1']}\n")
    assert login.exit_code == 0, login.output
    token = sessions.token_path(home, "qa1")
    assert token.stat().st_mode & 0o777 == 0o600
    os.chmod(token, 0o644)
    refused = run(home, "--as", "qa1", "retire", "KB-000001", "--reason", "obsolete")
    assert refused.exit_code == 1 and "must belong to you and be private" in refused.output
    os.chmod(token, 0o600)
    assert run(home, "--as", "qa1", "retire", "KB-000001", "--reason", "obsolete").exit_code == 0
    assert status(home, embedder) == "retired"
    # Logging out ends the session: the next write needs the password again.
    assert run(home, "--as", "qa1", "logout").exit_code == 0 and not token.exists()
    again = run(home, "--as", "qa1", "edit", "KB-000001", "--set", "batch=B7", "--reason", "r")
    assert again.exit_code != 0
