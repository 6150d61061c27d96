"""The CLI as a user runs it: `run(*args)` invokes `tacitkb --kb HOME --as tester ...` in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli


@pytest.fixture
def run(tmp_path, embedder):
    """Invoke the CLI against a knowledge base created with `init`; returns (exit_code, output).

    `kb=` points one call at another folder; `run.home` is the knowledge base's folder.
    """
    runner = CliRunner()
    home = tmp_path / "kb"

    def invoke(*args: str, input: str | None = None, kb: Path | None = None) -> tuple[int, str]:
        result = runner.invoke(cli, ["--kb", str(kb or home), "--as", "tester", *args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    assert invoke("init")[0] == 0  # every command but init refuses a folder without a knowledge base
    invoke.home = home
    return invoke
