"""Every example command in README.md and docs/*.md runs against the sample knowledge base, and its output
matches what the document shows (issue 17, item 9).

The format, for any document: inside a fenced block, a line starting with `$ tacitkb ` is an example
(a trailing `\\` continues it on the next line; a trailing `# exit N` says it is expected to exit N, else 0).
As in a shell, `$ printf FORMAT ARGS | tacitkb ...` feeds standard input and `> FILE` writes the output to a
file; a trailing `# typed: a, b` gives what a user types at the command's prompts (hidden passwords), one
answer per comma. `$ sqlite3 DB "SQL"` runs the SQL on that database file (a direct edit, to show what the
product then reports); any other `$ ` line is another program's and is not run.
The lines after it, up to the next `$ ` line or the end of the block, are its output as shown. A shown line
must appear in the real output, in order; the real output may have more lines (a `...` line marks the
cut). Inside a line, `...` stands for any text. Timestamps, run ids, hex digests and today's date are masked on both
sides; a `postgresql://` URL runs against a new database on the test's own server. Each document runs its examples in order on its own copy of the sample knowledge base
(`TACITKB_HOME=.kb`, user `ana`), in a folder holding the input files of docs/examples/ and `../shared`
(the real data sets, as from the repository root).

`python -m tests.test_doc_examples README.md` prints the real output of each example, to paste.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from collections.abc import Callable
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
_TYPED = re.compile(r"\s#\s*typed:\s*([^#]*)")
_PIPE = re.compile(r"^(printf\s.*?)\s\|\s(tacitkb\s.*)$")
_SERVICE_URL = re.compile(r"postgresql://\S+")
_MASKS = [
    (re.compile(r"run-\d{8}T\d{6}-[0-9a-f]+"), "run-<ID>"),
    # A server the test starts itself: its address and database name differ from the document's.
    (re.compile(r"postgresql://\S+"), "<DB URL>"),
    (re.compile(r"database '[^']+' on [\w.-]+:\d+"), "database <DB>"),
    # Digests over time-stamped rows (audit heads, table checksums) differ from run to run.
    (re.compile(r"\b[0-9a-f]{16,64}\b"), "<HASH>"),
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

    def _tacitkb_words(self) -> list[str]:
        """Return the words of the `tacitkb` command (after any `printf ... |`), as a shell reads them."""
        piped = _PIPE.match(self.command)
        words = shlex.split(piped.group(2) if piped else self.command, comments=True)
        assert words[0] == "tacitkb", f"{self.doc}:{self.line}: an example starts with `$ tacitkb`"
        return words

    def args(self) -> list[str]:
        """Return the arguments after `tacitkb`, without an output redirection."""
        words = self._tacitkb_words()[1:]
        return words[:-2] if len(words) >= 2 and words[-2] == ">" else words

    def redirect(self) -> str | None:
        """Return the file named by a trailing `> FILE`, if any."""
        words = self._tacitkb_words()
        return words[-1] if len(words) >= 3 and words[-2] == ">" else None

    def stdin(self) -> str | None:
        """Return the standard input: what `printf` pipes in, or the answers after `# typed:`."""
        piped = _PIPE.match(self.command)
        if piped:
            return printf(shlex.split(piped.group(1))[1:])
        typed = _TYPED.search(self.command)
        if typed:
            return "".join(answer.strip() + "\n" for answer in typed.group(1).split(","))
        return None


def printf(words: list[str]) -> str:
    """Return what the shell's printf writes for a format with `%s` and backslash escapes (the format is
    reused until the arguments are used up, as the shell's is; arguments are written as they are)."""
    pieces = words[0].encode("latin-1", "backslashreplace").decode("unicode_escape").split("%s")
    values = words[1:]
    slots = len(pieces) - 1
    text = ""
    while True:
        taken, values = values[:slots], values[slots:]
        taken += [""] * (slots - len(taken))
        text += pieces[0] + "".join(value + piece for value, piece in zip(taken, pieces[1:], strict=True))
        if not values or not slots:
            return text


@dataclass
class SqlEdit:
    """A `$ sqlite3 DB "SQL"` line: a direct edit of a database file, behind the product's back."""

    doc: str
    line: int
    command: str

    def run(self) -> None:
        """Run the SQL on the file, as the sqlite3 shell would (committed at once)."""
        import sqlite3

        words = shlex.split(self.command, comments=True)
        assert len(words) == 3, f'{self.doc}:{self.line}: write `$ sqlite3 FILE "SQL"`'
        with sqlite3.connect(words[1]) as conn:
            conn.executescript(words[2])
        conn.close()


def steps(path: Path) -> list[Example | SqlEdit]:
    """Return the examples and direct edits of one document, in order."""
    found: list[Example | SqlEdit] = []
    in_block = False
    current: Example | None = None
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_block, current = not in_block, None
        elif in_block and (line.startswith("$ tacitkb") or _PIPE.match(line[2:])):
            start = i + 1
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            code = _EXIT.search(command)
            current = Example(path.name, start, command, [], int(code.group(1)) if code else 0)
            found.append(current)
        elif in_block and line.startswith("$ sqlite3 "):
            found.append(SqlEdit(path.name, i + 1, line[2:]))
            current = None
        elif in_block and line.startswith("$ "):
            current = None  # another program's command: not checked
        elif in_block and current is not None:
            current.shown.append(line)
        i += 1
    return found


def examples(path: Path) -> list[Example]:
    """Return the examples of one document, in order."""
    return [step for step in steps(path) if isinstance(step, Example)]


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


def run_example(example: Example, database: Callable[[], str] | None = None) -> tuple[int, str]:
    """Run one example in the current folder; return its exit code and output (stdout and stderr).

    A PostgreSQL URL in the command is replaced by a new database from `database` (the test's server).
    """
    args = example.args()
    if database is not None:
        args = [_SERVICE_URL.sub(lambda _: database(), a) for a in args]
    result = CliRunner().invoke(
        cli, args, input=example.stdin(), env={"TACITKB_HOME": ".kb", "TACITKB_USER": "ana"}
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    target = example.redirect()
    if target is not None:
        Path(target).write_text(result.stdout, encoding="utf-8")
        return result.exit_code, result.stderr
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


def test_pipes_typed_answers_redirects_and_sql_edits_are_read_as_a_shell_would(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text(
        "```\n$ printf '%s\\n' 'pw one' two | tacitkb --password-stdin users create q --role qa\n"
        "account q created\n$ tacitkb users create r --role qa   # typed: s3cret, s3cret  # exit 1\n"
        "$ tacitkb site-key show > lei.pub\n$ sqlite3 .kb/tacitkb.db \"UPDATE users SET role = 'admin'\"\n```\n"
    )
    piped, typed, redirected = examples(doc)
    assert piped.args() == ["--password-stdin", "users", "create", "q", "--role", "qa"]
    assert piped.stdin() == "pw one\ntwo\n" and piped.shown == ["account q created"]
    assert typed.stdin() == "s3cret\ns3cret\n" and typed.exit_code == 1
    assert typed.args() == ["users", "create", "r", "--role", "qa"]
    assert redirected.args() == ["site-key", "show"] and redirected.redirect() == "lei.pub"
    assert redirected.stdin() is None and redirected.shown == []
    edit = steps(doc)[3]
    assert isinstance(edit, SqlEdit) and edit.line == 6
    assert printf(["%s=%s;", "a", "1", "b"]) == "a=1;b=;" and printf(["x\\ty"]) == "x\ty"
    assert printf(["%s\\n", "back\\slash"]) == "back\\slash\n"  # arguments are not unescaped


@pytest.mark.parametrize("doc", [d for d in DOCS if examples(d)], ids=lambda d: d.name)
def test_document_examples_run_and_match(doc, sample_kb_dir, tmp_path, monkeypatch, request):
    found = examples(doc)
    if any("../shared/" in e.command for e in found) and not SHARED.is_dir():
        pytest.skip(f"{doc.name} uses ../shared/data, which is absent here")
    database = None
    if any(_SERVICE_URL.search(e.command) for e in found):
        database = request.getfixturevalue("pg_cluster").new_database
    workdir = tmp_path / "repo"
    prepare(workdir, sample_kb_dir)
    monkeypatch.chdir(workdir)
    for example in steps(doc):
        if isinstance(example, SqlEdit):
            example.run()
            continue
        code, output = run_example(example, database)
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
            for example in steps(REPO / name):
                if isinstance(example, SqlEdit):
                    example.run()
                    continue
                code, output = run_example(example)
                print(f"\n$ {example.command}    [exit {code}, {name}:{example.line}]\n{output}", end="")


if __name__ == "__main__":
    main(sys.argv[1:])
