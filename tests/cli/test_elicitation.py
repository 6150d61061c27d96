"""Elicitation commands through the CLI: templates, capture, workshop, coverage."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import cli

ACTA = """
process: LVV
step: transfection
site: LEI
probes:
  noticing:
    aspect: A faint haze in the PEI/DNA complex bag after 20 minutes means it sat too long.
    cues: Hold the bag against the light; opalescent instead of clear.
"""


@pytest.fixture
def run(tmp_path, embedder):
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["--kb", str(tmp_path / "kb"), "--as", "fac", *args])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    assert invoke("init")[0] == 0
    return invoke


def test_templates_list_and_show(run):
    code, out = run("templates", "--json")
    ids = [t["id"] for t in json.loads(out)["templates"]]
    assert {
        "acta_knowledge_audit",
        "cdm_incident_interview",
        "quick_cue_log",
        "gmp_deviation_record",
        "troubleshooting_fix_note",
        "lessons_learned_aar",
        "step_state_card",
    } <= set(ids)
    code, out = run("templates", "show", "acta_knowledge_audit")
    assert code == 0 and "[noticing]" in out
    code, out = run("templates", "show", "nope")
    assert code == 1 and "unknown template 'nope'" in out


def test_capture_then_search_and_coverage(run, tmp_path):
    (tmp_path / "a.yaml").write_text(ACTA)
    code, out = run("capture", "acta_knowledge_audit", "--answers", str(tmp_path / "a.yaml"), "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "added"
    code, out = run("search", "complexes went cloudy", "--json", "-k", "1")
    assert json.loads(out)[0]["type"] == "know_how"
    code, out = run("coverage", "--json", "--process", "LVV")
    cell = next(c for c in json.loads(out)["steps"] if c["step"] == "transfection")
    assert cell["by_category"] == {"noticing": 1}
    code, out = run("coverage")
    assert "LVV/transfection" in out and "gaps" in out


def test_capture_with_invalid_answers_stores_nothing(run, tmp_path):
    (tmp_path / "bad.yaml").write_text("process: LVV\nprobes: {}\n")
    code, out = run("capture", "acta_knowledge_audit", "--answers", str(tmp_path / "bad.yaml"))
    assert code == 1 and "nothing was stored" in out
    code, out = run("stats", "--json")
    assert json.loads(out)["entries"] == 0
    code, out = run("capture", "acta_knowledge_audit", "--answers", str(tmp_path / "missing.yaml"))
    assert code == 1 and "missing.yaml: no such file" in out


def test_workshop_commands(run, tmp_path):
    (tmp_path / "a.yaml").write_text(ACTA)
    code, out = run(
        "workshop",
        "start",
        "acta_knowledge_audit",
        "--facilitator",
        "M. Rossi",
        "--participant",
        "J. de Vries:lead operator",
        "--site",
        "LEI",
        "--process",
        "LVV",
        "--step",
        "transfection",
        "--json",
    )
    ws = json.loads(out)["id"]
    code, out = run("workshop", "save", ws, "--answers", str(tmp_path / "a.yaml"))
    assert "ready to commit" in out
    code, out = run("workshop", "resume", ws, "--json")
    assert "noticing" not in json.loads(out)["unanswered_probes"]
    code, out = run("workshop", "commit", ws)
    assert code == 0 and "committed: KB-000001" in out
    code, out = run("workshop", "list")
    assert ws in out and "committed" in out
