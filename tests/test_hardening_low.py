"""Issue 16 items 6, 7 (report) and 9: clear errors instead of tracebacks, one validation path, safe files."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from cli.main import cli
from ingest.importers import import_links, import_records, read_records
from kb.analytics import report
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError


def test_add_edit_and_import_share_one_validation(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(KBError, match="field 'severity': 'catastrophic' is not one of"):
        kb.add({"type": "deviation", "text": "Filter blocked", "severity": "catastrophic"})
    entry = kb.add({"type": "deviation", "text": "Filter blocked at 30 L"})
    with pytest.raises(KBError, match="field 'occurred_at': '9999-99-99' is not a date"):
        kb.edit(entry.id, {"occurred_at": "9999-99-99"}, author="erin", reason="date")
    with pytest.raises(KBError, match="field 'severity'"):
        kb.edit(entry.id, {"severity": "apocalyptic"}, author="erin", reason="sev")
    with pytest.raises(KBError, match="field 'text': contains a NUL byte"):
        kb.add({"type": "cue", "text": "Haze\x00after PEI"})
    with pytest.raises(KBError, match="field 'title': must be text, not int"):
        kb.add({"type": "cue", "text": "Haze after PEI", "title": 7})
    assert kb.get(entry.id).revision == 1 and kb.store.count() == 1


def test_deep_jsonl_nesting_is_a_reject_and_the_valid_line_imports(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(f"{deep}\n" + json.dumps({"type": "cue", "text": "Faint haze after PEI"}) + "\n")
    result = import_records(kb, path, author="erin")
    assert (result.added, result.rejected) == (1, 1)
    assert "nested too deeply" in result.errors[0]


def test_a_wide_csv_header_is_refused_by_a_limit_and_duplicates_are_found_linearly(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(40_000)) + "\ncue\n")
    with pytest.raises(KBError, match="40000 columns, more than 2000"):
        read_records(wide)
    dupes = tmp_path / "dupes.csv"
    dupes.write_text(",".join([*(f"c{i}" for i in range(1500)), "type", "c7"]) + "\n")
    with pytest.raises(KBError, match="column 'c7' appears more than once"):
        read_records(dupes)


def test_the_rejects_csv_neutralises_formulas(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text('type,text,root_cause\ngossip,=HYPERLINK("http://x/"),@SUM(A1)\ncue,fine text,-5\n')
    result = import_records(kb, path, author="erin", reports_dir=tmp_path / "out")
    with open(result.rejects_file, newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["text"] == '\'=HYPERLINK("http://x/")' and row["root_cause"] == "'@SUM(A1)"


def test_links_from_a_folder_or_a_device_are_clear_errors(kb: KnowledgeBase, tmp_path: Path) -> None:
    for bad in (tmp_path, Path("/dev/zero")):
        with pytest.raises(KBError, match="not a regular file"):
            import_links(kb, bad)


def test_cli_kb_that_is_a_file_and_export_to_a_device(tmp_path: Path, embedder) -> None:
    result = CliRunner().invoke(cli, ["--kb", "/etc/passwd", "stats"])
    assert result.exit_code == 1 and "is not a folder" in result.output
    with KnowledgeBase(tmp_path / "kb", embedder=embedder) as kb:
        kb.add({"type": "cue", "text": "Faint haze after PEI", "process": "LVV"})
    result = CliRunner().invoke(
        cli, ["--kb", str(tmp_path / "kb"), "export", "--process", "LVV", "--out", "/dev/zero"]
    )
    assert result.exit_code == 1 and "/dev/zero already exists" in result.output


def test_the_markdown_report_escapes_labels_sites_and_messages(tmp_path: Path) -> None:
    signal = SimpleNamespace(
        kind="rising",
        cluster_id="C1",
        site="[evil](http://127.0.0.9/s)",
        start_period="2025-01",
        message="![x](http://127.0.0.9/p.png) rose",
        entry_ids=["KB-000001"],
    )
    data = {
        "result": SimpleNamespace(
            run_id="run-1", fingerprint="f", n_items=1, clusters=[1], unclustered_ids=[]
        ),
        "drift": SimpleNamespace(
            signals=[signal],
            false_alarm_rate={"total_per_year": 1},
            notes=["<img src=x>"],
            counts=SimpleNamespace(by_cluster={"C1": {}}),
            params={},
        ),
        "rows": [
            {
                "id": "C1",
                "label": "![l](http://127.0.0.9/l.png) | x",
                "title": "![l](http://127.0.0.9/l.png) | x",
                "family": "[f](http://127.0.0.9/f)",
                "size": 1,
                "first_seen": "a",
                "last_seen": "b",
                "sites": {"LEI": 1},
            }
        ],
    }
    text = report._markdown(SimpleNamespace(home=tmp_path), data, {})
    # No unescaped link/image opener and no raw HTML tag is left.
    assert not re.search(r"(?<!\\)\]\(", text) and not re.search(r"(?<!\\)<img", text), text
    assert (
        "\\!\\[x\\]\\(http\u2060\\://127\\.0\\.0\\.9/p\\.png\\)" in text
        and r"\[evil\]" in text
        and r"\| x" in text
    )
