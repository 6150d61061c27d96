"""The CLI on a shared PostgreSQL database (--db or $TACITKB_DB): each folder holds only its caches."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli


def test_cli_writes_searches_and_verifies_on_postgresql(pg_cluster, tmp_path: Path, monkeypatch, embedder):
    url = pg_cluster.new_database()
    runner = CliRunner()
    server_a = ["--kb", str(tmp_path / "a"), "--db", url, "--as", "ana"]
    text = "Depth filter pressure climbed fast during clarification; stringy clumps in the harvest bag"
    added = runner.invoke(cli, [*server_a, "add", "--type", "deviation", "--process", "LVV", "--text", text])
    assert added.exit_code == 0, added.output
    assert not (tmp_path / "a" / "tacitkb.db").exists(), "the database is the server's, not a local file"

    monkeypatch.setenv("TACITKB_DB", url)  # the other app server names the database by environment
    server_b = ["--kb", str(tmp_path / "b")]
    found = runner.invoke(cli, [*server_b, "search", "filter clogging with strings", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)[0]["id"] == "KB-000001"
    stats = json.loads(runner.invoke(cli, [*server_b, "stats", "--json"]).output)
    assert stats["active"] == 1 and stats["by_process"] == {"LVV": 1}
    verified = runner.invoke(cli, [*server_b, "verify", "--json"])
    report = json.loads(verified.output)
    assert verified.exit_code == 0 and report["ok"], verified.output
    assert report["audit_chain"] == "ok", "the audit chain is checked on PostgreSQL too"
