"""Two app servers on one PostgreSQL database, driven through the CLI as two sites would drive it.

The sample knowledge base is moved into PostgreSQL with `tacitkb migrate`; then "server A" and "server B"
are two folders (each with its own caches and key files) opening the same database with --db. Accounts,
roles, signatures, workshops, clustering runs, curation and judgments written on one are used on the other.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

ADMIN_PW, QA_PW = "alice-admin-pw-2026", "quinn-qa-pw-2026"


@pytest.fixture
def two_servers(tmp_path: Path, sample_kb_dir: Path, pg_cluster):
    """Return run(server, *args, stdin=None) -> (exit code, output) for servers 'a' and 'b' on one database."""
    url = pg_cluster.new_database()
    source = tmp_path / "source"
    shutil.copytree(sample_kb_dir, source)
    runner = CliRunner()
    moved = runner.invoke(cli, ["--kb", str(source), "migrate", "--to", url])
    assert moved.exit_code == 0, moved.output

    def run(server: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(
            cli,
            ["--kb", str(tmp_path / server), "--db", url, *args],
            input=stdin,
            env={"TACITKB_USER": "ana"},
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    return run


def test_accounts_signatures_workshops_clusters_and_judgments_are_shared(two_servers):
    run = two_servers
    assert (
        run("a", "users", "create", "alice", "--role", "admin", "--password-stdin", stdin=f"{ADMIN_PW}\n")[0]
        == 0
    )
    # The account made on A is the one B checks: B's admin creates a QA account with A's admin password.
    code, out = run(
        "b", "--as", "alice", "users", "create", "quinn", "--role", "qa",
        "--full-name", "Quinn QA", "--password-stdin", stdin=f"{ADMIN_PW}\n{QA_PW}\n",
    )  # fmt: skip
    assert code == 0 and "account quinn created (qa)" in out, out
    code, out = run("a", "--as", "quinn", "sign", "KB-000001", "--meaning", "approved", "--password-stdin",
                    stdin="wrong password\n")  # fmt: skip
    assert code == 1 and "wrong user name or password" in out
    code, out = run("a", "--as", "quinn", "sign", "KB-000001", "--meaning", "approved", "--password-stdin",
                    stdin=f"{QA_PW}\n")  # fmt: skip
    assert code == 0, out
    code, out = run("b", "signatures", "KB-000001", "--json")
    (signature,) = json.loads(out)
    assert signature["signer"] == "quinn" and signature["valid"]
    # A role is enforced on the other server too: a QA account may not create accounts there.
    code, out = run("b", "--as", "quinn", "users", "create", "eve", "--role", "admin", "--password-stdin",
                    stdin=f"{QA_PW}\nx-password-123\n")  # fmt: skip
    assert code != 0 and "eve" not in run("a", "users", "list")[1]

    code, out = run("a", "--as", "alice", "--password-stdin", "workshop", "start", "quick_cue_log",
                    "--facilitator", "M. Rossi", "--process", "LVV", stdin=f"{ADMIN_PW}\n")  # fmt: skip
    assert code == 0, out
    workshop_id = out.split()[1]
    code, out = run("b", "workshop", "list", "--json")
    assert workshop_id in [w["id"] for w in json.loads(out)], out

    code, out = run("a", "--as", "alice", "--password-stdin", "clusters", "--json", stdin=f"{ADMIN_PW}\n")
    assert code == 0, out
    code, out = run("b", "--as", "alice", "--password-stdin", "clusters", "rename", "C-001", "Filter blockage",
                    "--json", stdin=f"{ADMIN_PW}\n")  # fmt: skip
    assert code == 0, out
    code, out = run("a", "--as", "alice", "--password-stdin", "clusters", "--json", stdin=f"{ADMIN_PW}\n")
    shown = json.loads(out)
    assert {"id": "C-001", "name": "Filter blockage"}.items() <= shown["clusters"][0].items(), (
        "B's curation is not applied on A"
    )

    query = "foamy harvest bag"
    third = json.loads(run("b", "search", query, "-k", "3", "--json")[1])[2]["id"]
    code, out = run("a", "--as", "alice", "--password-stdin", "feedback", query, third, "--helped",
                    stdin=f"{ADMIN_PW}\n")  # fmt: skip
    assert code == 0, out
    hits = json.loads(run("b", "search", query, "-k", "3", "--json")[1])
    assert hits[0]["id"] == third, "the judgment made on A did not lift the entry on B"

    code, out = run("b", "audit", "verify")
    assert code == 0 and out.startswith("audit trail intact"), out
    code, out = run("b", "verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["audit_chain"] == "ok", out


def test_backup_on_postgresql_points_to_pg_dump(two_servers, tmp_path: Path):
    code, out = two_servers("a", "backup", "--out", str(tmp_path / "b.db"))
    assert code == 1 and "pg_dump" in out and not (tmp_path / "b.db").exists()
