"""CSV and JSONL import: every bad input named by file, row and field; valid rows kept; nothing half written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ingest.importers import import_links, import_records, parse_date, parse_mapping, read_records
from kb.models import KBError

GOOD = '"Depth filter blocked at 30 L, dP 1.4 bar",LVV,clarification,LEI,2025-06-01'


def write(tmp_path, name, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_bad_rows_are_rejected_by_row_and_field_and_good_rows_kept(kb, tmp_path):
    content = (
        "ext_id,type,text,process,step,site,occurred_at\n"
        f"A1,deviation,{GOOD}\n"
        "A2,cue,   ,LVV,tff,LEI,2025-06-02\n"
        "A3,cue,Foam on the bag,LVV,harvest,LEI,13/06/2025\n"
        "A4,banana,Pump noise,LVV,harvest,LEI,2025-06-01\n"
        "A5,cue,one too many,LVV,harvest,LEI,2025-06-01,extra\n"
    ).encode() + b"A6,fix,Bad \xff byte,LVV,tff,CAM,2025-01-01\n"
    path = write(tmp_path, "rows.csv", content)
    report = import_records(kb, path, author="ana", reports_dir=tmp_path / "out")
    assert (report.rows, report.added, report.rejected) == (6, 1, 5)
    assert report.errors == [
        "rows.csv, row 3, field 'text': empty or whitespace-only text",
        "rows.csv, row 4, field 'occurred_at': '13/06/2025' is not a date (use YYYY-MM-DD or ISO 8601)",
        "rows.csv, row 5, field 'type': unknown type 'banana' (expected one of cue, know_how, deviation, fix, lesson, document, doc_chunk)",
        "rows.csv, row 6: has 8 values, the header has 7 columns",
        "rows.csv, row 7, field 'text': invalid UTF-8 bytes",
    ]
    with open(report.rejects_file, newline="", encoding="utf-8", errors="surrogateescape") as fh:
        rejected = list(csv.DictReader(fh))
    assert [r["ext_id"] for r in rejected] == ["A2", "A3", "A4", "A5", "A6"]
    assert rejected[1]["occurred_at"] == "13/06/2025", "the rejected row is saved as it was"
    assert json.loads(Path(report.report_file).read_text())["rejected"] == 5
    assert kb.store.count() == 1


def test_ext_id_is_kept_and_returned_and_reimport_is_idempotent(kb, tmp_path):
    path = write(
        tmp_path, "r.csv", f"ext_id,type,text,process,step,site,occurred_at\nQMS-1,deviation,{GOOD}\n"
    )
    first = import_records(kb, path, author="ana", reports_dir=tmp_path)
    assert first.records == [
        {"row": 2, "id": "KB-000001", "ext_id": "QMS-1", "type": "deviation", "status": "added"}
    ]
    again = import_records(kb, path, author="ana", reports_dir=tmp_path)
    assert (again.added, again.duplicates) == (0, 1)
    changed = write(
        tmp_path,
        "r.csv",
        f"ext_id,type,text,process,step,site,occurred_at\nQMS-1,deviation,{GOOD.replace('30 L', '35 L')}\n",
    )
    third = import_records(kb, changed, author="ana", reports_dir=tmp_path)
    assert third.records[0]["status"] == "updated" and kb.get("KB-000001").revision == 2


def test_unmapped_columns_go_to_fields_and_tags_split(kb, tmp_path):
    path = write(
        tmp_path, "f.csv", "type,text,tags,Shift Lead\ncue,Haze after 20 min complexing,haze; PEI ,Ravi\n"
    )
    import_records(kb, path, author="ana", reports_dir=tmp_path)
    entry = kb.get("KB-000001")
    assert entry.tags == ["haze", "PEI"] and entry.fields == {"Shift Lead": "Ravi"}


def test_failure_pattern_becomes_a_tag(kb, tmp_path):
    line = json.dumps(
        {
            "type": "deviation",
            "text": "Transfected at 88 % viability",
            "fields": {"failure_pattern": "context"},
        }
    )
    import_records(kb, write(tmp_path, "p.jsonl", line + "\n"), author="a", reports_dir=tmp_path)
    assert kb.get("KB-000001").tags == ["failure:context"]


def test_jsonl_rejects_bad_lines_and_keeps_good_ones(kb, tmp_path):
    lines = [
        json.dumps({"type": "cue", "text": "Cells clumped after debead", "fields": {"probe": "noticing"}}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"type": "cue", "text": "x", "severity": "catastrophic"}),
        json.dumps({"type": "cue", "text": "y", "tags": "not, a list"}),
    ]
    path = write(tmp_path, "e.jsonl", "\n".join(lines) + "\n")
    report = import_records(kb, path, author="ana", reports_dir=tmp_path)
    assert report.added == 2 and report.rejected == 3
    assert report.errors[0].startswith("e.jsonl, row 2: not valid JSON")
    assert report.errors[1] == "e.jsonl, row 3: not a JSON object"
    assert "field 'severity'" in report.errors[2]
    assert kb.get("KB-000001").fields == {"probe": "noticing"}
    assert Path(report.rejects_file).read_text().count("\n") == 3


def test_file_level_errors_name_the_file(kb, tmp_path):
    with pytest.raises(KBError, match="unsupported record format '.xlsx'"):
        read_records(tmp_path / "a.xlsx")
    with pytest.raises(KBError, match="no such file"):
        read_records(tmp_path / "a.csv")
    with pytest.raises(KBError, match="empty"):
        read_records(write(tmp_path, "empty.csv", ""))
    with pytest.raises(KBError, match="column 'text' appears more than once"):
        read_records(write(tmp_path, "dup.csv", "text,text\na,b\n"))
    with pytest.raises(KBError, match="mapped column 'Body' is not in the file"):
        import_records(kb, write(tmp_path, "m.csv", "type,text\ncue,x\n"), mapping={"text": "Body"})


def test_missing_type_asks_for_type_option(tmp_path):
    # A file without a type column is refused as a whole (not row by row), naming the option.
    with pytest.raises(KBError, match=r"no type column \(columns: text\); pass --type TYPE"):
        read_records(write(tmp_path, "t.csv", "text\nsomething seen\n"))
    parsed = read_records(write(tmp_path, "t.csv", "text\nsomething seen\n"), check_columns=False)
    assert parsed.rejects[0].field == "type" and "--type" in parsed.rejects[0].message  # the app's preview
    parsed = read_records(write(tmp_path, "t.csv", "text\nsomething seen\n"), default_type="cue")
    assert parsed.drafts[0][1].type == "cue"


def test_a_batch_is_never_half_written(kb, tmp_path, monkeypatch):
    path = write(tmp_path, "b.csv", "type,text\ncue,one\ncue,two\ncue,three\n")
    original = kb.store.put_vectors

    def fail(*args, **kwargs):
        original(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(kb.store, "put_vectors", fail)
    with pytest.raises(OSError):
        import_records(kb, path, author="ana", reports_dir=tmp_path)
    assert kb.store.count(status=None) == 0
    assert kb.store.conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-06-01", "2025-06-01"),
        ("2025/06/01", "2025-06-01"),
        ("1 Jun 2025", "2025-06-01"),
        ("2025-06-01T10:30:00+02:00", "2025-06-01T08:30:00"),
        ("2025-06-01 10:30", "2025-06-01T10:30:00"),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_parse_mapping_names_bad_pairs():
    assert parse_mapping(["text=Problem"]) == {"text": "Problem"}
    with pytest.raises(KBError, match="--map"):
        parse_mapping(["textProblem"])
    with pytest.raises(KBError, match="unknown field 'colour'"):
        parse_mapping(["colour=X"])


def test_import_links_by_ext_id(kb, tmp_path):
    import_records(
        kb,
        write(tmp_path, "r.csv", "ext_id,type,text\nD1,deviation,filter blocked\nF1,fix,nuclease added\n"),
        author="a",
        reports_dir=tmp_path,
    )
    links = write(
        tmp_path, "l.csv", "source_ext_id,relation,target_ext_id\nD1,fixed_by,F1\nD1,fixed_by,NOPE\n"
    )
    result = import_links(kb, links, author="a")
    assert result["linked"] == 1
    assert result["errors"] == ["l.csv, row 3: no entry with id or ext_id 'NOPE'"]
