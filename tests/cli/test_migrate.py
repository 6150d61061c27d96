"""`tacitkb migrate --to postgresql://...` moves the samples knowledge base into PostgreSQL."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli.main import cli
from kb.storage.factory import open_store


def test_migrate_moves_the_samples_and_refuses_a_second_time(sample_kb_dir, pg_cluster):
    url = pg_cluster.new_database()
    runner = CliRunner()
    result = runner.invoke(cli, ["--kb", str(sample_kb_dir), "migrate", "--to", url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    source, target = open_store(sample_kb_dir), open_store(url)
    try:
        assert report["ok"] and report["audit_head"] == source.audit_events()[-1]["hash"]
        rows = {t["table"]: t["target_rows"] for t in report["tables"]}
        assert rows["entries"] == source.count(status=None) == target.count(status=None) > 400
        assert target.count_vectors(next(iter(source.fingerprints()))) == source.count()
    finally:
        source.close()
        target.close()
    again = runner.invoke(cli, ["--kb", str(sample_kb_dir), "migrate", "--to", url])
    assert again.exit_code == 1 and "already holds a knowledge base" in again.output
    bad = runner.invoke(cli, ["--kb", str(sample_kb_dir), "migrate", "--to", "/tmp/somewhere"])
    assert bad.exit_code == 1 and "argument '--to'" in bad.output
