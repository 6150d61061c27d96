"""Start-up: commands that read stored vectors never import torch; `search --stdin` answers line by line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli

REPO = Path(__file__).resolve().parents[2]

# Runs commands in one fresh interpreter and prints, after each, which heavy modules it has imported.
PROBE = """
import json, sys
from cli.main import cli
for args in json.loads(sys.argv[1]):
    try:
        cli(args, prog_name="tacitkb", standalone_mode=False)
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
    mods = {m: m in sys.modules for m in ("torch", "sentence_transformers", "transformers")}
    print("PROBE " + json.dumps({"args": args, **mods}), file=sys.stderr, flush=True)
"""


def _probe(home: Path, commands: list[list[str]]) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([["--kb", str(home), *c] for c in commands])],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line[6:]) for line in done.stderr.splitlines() if line.startswith("PROBE ")]


def test_commands_that_do_not_encode_never_import_torch(sample_kb_dir, tmp_path):
    home = tmp_path / "kb"
    shutil.copytree(sample_kb_dir, home)
    # The first clustering run may encode (once, cached) the texts of entries whose title differs from
    # their text (kb/analytics/quality.py): that is work with the model, so it runs in its own process.
    _probe(home, [["clusters"]])
    readers = [
        ["verify"],
        ["stats"],
        ["show", "KB-000001"],
        ["clusters", "--json"],  # the stored run
        ["drift"],
    ]
    probes = _probe(home, [*readers, ["search", "filter clogged"]])
    assert len(probes) == len(readers) + 1
    for probe in probes[:-1]:
        assert not (probe["torch"] or probe["sentence_transformers"] or probe["transformers"]), probe
    # The probe does see the model being loaded when a command encodes.
    assert probes[-1]["torch"] and probes[-1]["sentence_transformers"]


def test_search_stdin_answers_one_json_line_per_query(sample_kb_dir, tmp_path, embedder):
    home = tmp_path / "kb"
    shutil.copytree(sample_kb_dir, home)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # noqa: ANN202
        return runner.invoke(cli, ["--kb", str(home), *args], input=input)

    queries = ["depth filter clogged", "", "   ", "cells clumping after thaw"]
    result = invoke("search", "--stdin", "-k", "3", input="\n".join(queries) + "\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["line"], r["query"]) for r in lines] == [(1, queries[0]), (4, queries[3])]
    for record in lines:
        alone = invoke("search", record["query"], "-k", "3", "--json")
        assert record["hits"] == json.loads(alone.output) and len(record["hits"]) == 3

    both = invoke("search", "pump", "--stdin", input="x\n")
    assert both.exit_code == 1 and "not both" in both.output
    neither = invoke("search")
    assert neither.exit_code == 1 and "missing" in neither.output
