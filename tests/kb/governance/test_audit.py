"""The audit chain check names an edited or deleted event; the trail exports as readable CSV and HTML."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.governance.audit import event_hash, export_trail, trail_rows, verify_chain
from kb.models import Entry, KBError, Link
from kb.storage.factory import open_store
from kb.storage.sqlite import Store


@pytest.fixture
def store(store_target: str):
    """A store with three entries, an edit, a retirement and a link: 6 audit events."""
    s = open_store(store_target)
    s.insert(
        [
            Entry(type="deviation", text="Depth filter blocked after 30 L", ext_id="D1", process="LVV"),
            Entry(type="fix", text="Benzonase dosed 1 h before clarification", ext_id="F1", process="LVV"),
            Entry(type="cue", text='=HYPERLINK("http://evil") <script>alert(1)</script>', process="CAR-T"),
        ],
        author="olga",
        reason="import of x.csv",
    )
    s.update(
        "KB-000001",
        {"severity": "major", "text": "Depth filter blocked after 25 L"},
        author="erin",
        reason="typo in volume",
    )
    s.set_status("KB-000003", "retired", author="quinn", reason="not a real cue")
    s.add_link(Link("KB-000001", "fixed_by", "KB-000002", author="erin"))
    yield s
    s.close()


def test_an_untouched_chain_is_ok(store: Store) -> None:
    check = verify_chain(store)
    assert check.ok and check.first_bad_seq is None and check.reason == "ok"
    assert check.events == 6
    assert check.head_hash == store.audit_events()[-1]["hash"]


def test_an_edited_event_is_named(store: Store) -> None:
    store.conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 4")
    check = verify_chain(store)
    assert not check.ok and check.first_bad_seq == 4
    assert "event 4" in check.reason and "edited" in check.reason


def test_an_edited_and_rehashed_event_is_named(store: Store) -> None:
    seq, at, action, entry_id, details, prev = store.conn.execute(
        "SELECT seq, at, action, entry_id, details, prev_hash FROM audit_events WHERE seq = 2"
    ).fetchone()
    forged = event_hash(at, "mallory", action, entry_id, json.loads(details), prev)
    store.conn.execute("UPDATE audit_events SET actor = 'mallory', hash = ? WHERE seq = 2", (forged,))
    check = verify_chain(store)
    assert not check.ok and check.first_bad_seq == 2
    assert "re-hashed" in check.reason


def test_a_deleted_event_in_the_middle_is_named(store: Store) -> None:
    store.conn.execute("DELETE FROM audit_events WHERE seq = 3")
    check = verify_chain(store)
    assert not check.ok and check.first_bad_seq == 3
    assert check.reason.startswith("event 3 deleted")


def test_deleted_events_at_the_end_are_caught_by_the_issued_sequence(store: Store) -> None:
    store.conn.execute("DELETE FROM audit_events WHERE seq >= 5")
    check = verify_chain(store)
    assert not check.ok and check.first_bad_seq == 5
    assert "events 5 to 6 deleted from the end" in check.reason


def test_a_deleted_first_event_is_named(store: Store) -> None:
    store.conn.execute("DELETE FROM audit_events WHERE seq = 1")
    check = verify_chain(store)
    assert not check.ok and check.first_bad_seq == 1 and "deleted" in check.reason


def test_trail_rows_show_who_when_old_new_and_why(store: Store) -> None:
    rows = trail_rows(store, entry_id="kb-000001")
    edits = {r["field"]: r for r in rows if r["action"] == "edit"}
    assert edits["text"]["old_value"] == "Depth filter blocked after 30 L"
    assert edits["text"]["new_value"] == "Depth filter blocked after 25 L"
    assert edits["severity"]["old_value"] == "" and edits["severity"]["new_value"] == "major"
    assert edits["text"]["who"] == "erin" and edits["text"]["reason"] == "typo in volume"
    assert edits["text"]["when_utc"].endswith(" UTC") and edits["text"]["revision"] == 2
    assert any(r["action"] == "link" and r["new_value"] == "fixed_by KB-000002" for r in rows)
    # The link also shows up in the target's trail.
    assert any(r["action"] == "link" for r in trail_rows(store, entry_id="KB-000002"))


def test_trail_date_filters(store: Store) -> None:
    assert len(trail_rows(store, since="2000-01-01", until="2999-12-31")) == len(trail_rows(store))
    assert trail_rows(store, until="2000-01-01") == []
    today = store.audit_events()[0]["at"][:10]
    assert trail_rows(store, since=today, until=today)  # an end date covers its whole day
    with pytest.raises(KBError, match="--since"):
        trail_rows(store, since="last tuesday")


def test_csv_and_html_exports(store: Store, tmp_path: Path) -> None:
    result = export_trail(store, tmp_path / "trail.csv")
    assert result["chain"]["ok"] and result["rows"] > result["events"] > 0
    with (tmp_path / "trail.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0].keys() >= {
        "seq",
        "when_utc",
        "who",
        "action",
        "entry",
        "field",
        "old_value",
        "new_value",
        "reason",
    }
    retire = next(r for r in rows if r["action"] == "retire")
    assert (retire["old_value"], retire["new_value"], retire["who"]) == ("active", "retired", "quinn")
    formula = next(r for r in rows if r["new_value"].startswith("'=HYPERLINK"))
    assert formula["entry"] == "KB-000003"  # a spreadsheet shows it as text instead of running it

    export_trail(store, tmp_path / "trail.html", entry_id="KB-000003")
    page = (tmp_path / "trail.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "Hash chain: intact" in page and "KB-000003" in page and "not a real cue" in page

    with pytest.raises(KBError, match=r"\.csv or \.html"):
        export_trail(store, tmp_path / "trail.xlsx")


def test_cli_audit_verify_and_export(tmp_path: Path) -> None:
    home = tmp_path / "kb"
    s = Store(home / "tacitkb.db")
    s.insert([Entry(type="cue", text="medium turned orange on day 5")], author="olga")
    s.update("KB-000001", {"text": "medium turned orange on day 4"}, author="olga", reason="wrong day")
    s.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--kb", str(home), "audit", "verify"])
    assert result.exit_code == 0 and "intact: 2 events" in result.output
    out = tmp_path / "t.csv"
    result = runner.invoke(
        cli, ["--kb", str(home), "audit", "export", "--entry", "KB-000001", "--out", str(out)]
    )
    assert result.exit_code == 0 and out.exists() and "wrong day" in out.read_text(encoding="utf-8-sig")

    s = Store(home / "tacitkb.db")
    s.conn.execute("UPDATE audit_events SET details = '{\"revision\": 1}' WHERE seq = 2")
    s.close()
    result = runner.invoke(cli, ["--kb", str(home), "audit", "verify"])
    assert result.exit_code == 3 and "BROKEN" in result.output and "event 2" in result.output
    result = runner.invoke(cli, ["--kb", str(home), "audit", "verify", "--json"])
    assert result.exit_code == 3 and json.loads(result.output)["first_bad_seq"] == 2
