"""Every example command in README.md and docs/*.md runs against the sample knowledge base, and its output
matches what the document shows (issue 17, item 9).

The format, for any document: inside a fenced block, a line starting with `$ tacitkb ` is an example
(a trailing `\\` continues it on the next line; a trailing `# exit N` says it is expected to exit N, else 0).
The lines after it, up to the next `$ ` line or the end of the block, are its output as shown. A shown line
must appear in the real output, in order; the real output may have more lines (a `...` line marks the
cut). Inside a line, `...` stands for any text. Timestamps, run ids and today's date are masked on both
sides. Each document runs its examples in order on its own copy of the sample knowledge base
(`TACITKB_HOME=.kb`, user `ana`), in a folder holding the input files of docs/examples/ and `../shared`
(the real data sets, as from the repository root).

`python -m tests.test_doc_examples README.md` prints the real output of each example, to paste.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
EXAMPLE_INPUTS = REPO / "docs" / "examples"
SHARED = REPO.parent / "shared"
_FENCE = re.compile(r"^\s*(```|~~~)")
_EXIT = re.compile(r"\s#\s*exit\s+(\d+)\s*$")
_MASKS = [
    (re.compile(r"run-\d{8}T\d{6}-[0-9a-f]+"), "run-<ID>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?"), "<TIME>"),
    (re.compile(r"\d{8}T\d{6,12}Z"), "<TIME>"),
]


@dataclass
class Example:
    """One `$ tacitkb ...` line of a document, with the output shown under it."""

    doc: str
    line: int
    command: str
    shown: list[str]
    exit_code: int = 0

    def args(self) -> list[str]:
        """Return the arguments after `tacitkb` (shell quoting and comments as a shell reads them)."""
        words = shlex.split(self.command, comments=True)
        assert words[0] == "tacitkb", f"{self.doc}:{self.line}: an example starts with `$ tacitkb`"
        return words[1:]


def examples(path: Path) -> list[Example]:
    """Return the examples of one document, in order."""
    found: list[Example] = []
    in_block = False
    current: Example | None = None
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_block, current = not in_block, None
        elif in_block and line.startswith("$ tacitkb"):
            start = i + 1
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            code = _EXIT.search(command)
            current = Example(path.name, start, command, [], int(code.group(1)) if code else 0)
            found.append(current)
        elif in_block and line.startswith("$ "):
            current = None  # another program's command: not checked
        elif in_block and current is not None:
            current.shown.append(line)
        i += 1
    return found


def mask(text: str) -> str:
    """Return a line with run-specific values (timestamps, run ids, today's date) masked."""
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text.replace(date.today().isoformat(), "<TODAY>").rstrip()


def mismatch(shown: list[str], output: str) -> str | None:
    """Return the first shown line not found (in order) in the output, or None when all are."""
    actual = [mask(line) for line in output.splitlines()]
    position = 0
    for line in shown:
        wanted = mask(line)
        if not wanted.strip() or wanted.strip() == "...":
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in wanted.split("...")) + r"\Z")
        while position < len(actual) and not pattern.match(actual[position]):
            position += 1
        if position == len(actual):
            return line
        position += 1
    return None


def prepare(workdir: Path, sample_home: Path) -> None:
    """Make a folder to run one document's examples in: a sample base copy, inputs, ../shared."""
    workdir.mkdir(parents=True)
    shutil.copytree(sample_home, workdir / ".kb")
    if EXAMPLE_INPUTS.is_dir():
        for item in EXAMPLE_INPUTS.iterdir():
            shutil.copy(item, workdir / item.name)
    if SHARED.is_dir():
        (workdir.parent / "shared").symlink_to(SHARED)


def run_example(example: Example) -> tuple[int, str]:
    """Run one example in the current folder; return its exit code and output (stdout and stderr)."""
    result = CliRunner().invoke(cli, example.args(), env={"TACITKB_HOME": ".kb", "TACITKB_USER": "ana"})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_the_example_format_is_read_as_documented(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text(
        "text\n```console\n$ tacitkb stats   # counts\nline one\n...\nsecond ... line\n"
        '$ tacitkb workshop start t --facilitator "M. R" \\\n    --site LEI\n$ ls\nnot shown\n'
        "$ tacitkb verify  # exit 3\n```\n$ tacitkb outside a block\n"
    )
    found = examples(doc)
    assert [(e.line, e.args(), e.shown, e.exit_code) for e in found] == [
        (3, ["stats"], ["line one", "...", "second ... line"], 0),
        (7, ["workshop", "start", "t", "--facilitator", "M. R", "--site", "LEI"], [], 0),
        (11, ["verify"], [], 3),
    ]
    assert mismatch(found[0].shown, "line one\nx\nsecond to last line\n") is None
    assert mismatch(found[0].shown, "second to last line\nline one\n") == "second ... line"
    assert (
        mismatch(
            ["at 2026-11-22T03:27:05.078018Z in run-20261122T033341-ce1430f0"],
            "at 2027-01-01T00:00:00Z in run-20270101T000000-0a",
        )
        is None
    )


@pytest.mark.parametrize("doc", [d for d in DOCS if examples(d)], ids=lambda d: d.name)
def test_document_examples_run_and_match(doc, sample_kb_dir, tmp_path, monkeypatch):
    found = examples(doc)
    if any("../shared/" in e.command for e in found) and not SHARED.is_dir():
        pytest.skip(f"{doc.name} uses ../shared/data, which is absent here")
    workdir = tmp_path / "repo"
    prepare(workdir, sample_kb_dir)
    monkeypatch.chdir(workdir)
    for example in found:
        code, output = run_example(example)
        where = f"{doc.name}:{example.line}: $ {example.command}"
        assert code == example.exit_code, f"{where}\nexit {code}, expected {example.exit_code}:\n{output}"
        missing = mismatch(example.shown, output)
        assert missing is None, f"{where}\nshown line not in the output: {missing!r}\noutput:\n{output}"


def main(argv: list[str]) -> None:
    """Print the real output of each example of the documents named (to paste into them)."""
    import tempfile

    from cli.common import load_samples
    from kb.knowledge_base import KnowledgeBase

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "samples"
        with KnowledgeBase(home) as base:
            load_samples(base, "sample-loader")
            base.ensure_index()
        import os

        for name in argv:
            workdir = Path(tmp) / Path(name).stem / "repo"
            prepare(workdir, home)
            os.chdir(workdir)
            for example in examples(REPO / name):
                code, output = run_example(example)
                print(f"\n$ {example.command}    [exit {code}, {name}:{example.line}]\n{output}", end="")


if __name__ == "__main__":
    main(sys.argv[1:])
