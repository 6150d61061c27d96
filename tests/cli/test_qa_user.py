"""The CLI as a new QA user meets it (issue 17): verify after ordinary work, import defaults, paired
problem/action records, progress, a mistyped --kb and consistent outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

CSV = (
    "ext_id,type,text,process,step,site,occurred_at\n"
    'D1,deviation,"Depth filter blocked after 30 L, dP 1.5 bar, clumps",LVV,clarification,LEI,2025-06-01\n'
    'F1,fix,"Benzonase 50 U/mL dosed 1 h before clarification; dP flat",LVV,clarification,LEI,2025-06-03\n'
)


@pytest.fixture
def run(tmp_path, embedder):
    """Invoke the CLI against a knowledge base created with `init`; returns (exit_code, output)."""
    runner = CliRunner()
    home = tmp_path / "kb"

    def invoke(*args: str, input: str | None = None, kb: Path | None = None) -> tuple[int, str]:
        result = runner.invoke(cli, ["--kb", str(kb or home), "--as", "tester", *args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    assert invoke("init")[0] == 0
    invoke.home = home
    return invoke


def test_verify_after_add_edit_link_and_reimport_is_consistent(run, tmp_path):
    (tmp_path / "x.csv").write_text(CSV)
    run("import", str(tmp_path / "x.csv"))
    run("search", "filter")  # both index files written at this version
    run("add", "--type", "cue", "--text", "Haze after transfection means the complex sat too long")
    run("edit", "KB-000001", "--set", "site=CAM", "--reason", "wrong site")
    run("link", "KB-000001", "fixed_by", "KB-000002")
    code, out = run("verify")
    assert code == 0, out
    assert "all consistent" in out and "applied at next use" in out
    code, out = run("import", str(tmp_path / "x.csv"))  # unchanged file: adds nothing
    code, out = run("verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_verify_still_fails_on_a_real_inconsistency_behind_the_log(run, tmp_path):
    other = tmp_path / "other"
    (tmp_path / "x.csv").write_text(CSV + 'C1,cue,"Pump sounds different before a tube kinks",,,,\n')
    run("init", kb=other)
    run("import", str(tmp_path / "x.csv"), kb=other)  # 3 entries in one write
    run("search", "filter", kb=other)
    run("add", "--type", "cue", "--text", "Medium orange on day 5; fed early")
    run("add", "--type", "cue", "--text", "Haze after transfection means the complex sat too long")
    run("search", "haze")
    # A keyword index from another knowledge base, at an older version: behind, and wrong once caught up.
    for name in ("keywords.npz", "keywords.npz.json"):
        (run.home / name).write_bytes((other / name).read_bytes())
    code, out = run("verify", "--json")
    report = json.loads(out)
    assert code == 3 and report["ok"] is False
    state = report["keywords"]["state"]
    assert state.startswith("stale:") and "after applying 1 changes" in state


def test_mistyped_kb_is_refused_by_every_command_but_init(run, tmp_path):
    wrong = tmp_path / "kb-typo"
    for args in (("search", "filter"), ("stats",), ("import", "x.csv"), ("show", "KB-000001")):
        code, out = run(*args, kb=wrong)
        assert code == 1, args
        assert f"no knowledge base at {wrong}; run `tacitkb init`" in out
    assert not (wrong / "tacitkb.db").exists()
    code, out = run("init", kb=wrong)
    assert code == 0 and (wrong / "tacitkb.db").is_file()
    assert run("stats", kb=wrong)[0] == 0
