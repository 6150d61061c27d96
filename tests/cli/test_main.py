"""The `tacitkb` CLI, driven through click's runner and once through the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ingest.templates import SHIPPED_TEMPLATES_DIR

CSV = (
    "ext_id,type,text,process,step,site,occurred_at,severity,shift\n"
    'D1,deviation,"Depth filter blocked after 30 L, dP 1.5 bar, clumps",LVV,clarification,LEI,2025-06-01,major,night\n'
    'F1,fix,"Benzonase 50 U/mL dosed 1 h before clarification; dP flat",LVV,clarification,LEI,2025-06-03,,day\n'
    'C1,cue,"Medium orange on day 5 in the G-Rex; fed early",CAR-T,expansion,CAM,2024-05-01,,day\n'
)


def test_import_search_show_edit_retire_round_trip(run, tmp_path):
    (tmp_path / "x.csv").write_text(CSV)
    code, out = run("import", str(tmp_path / "x.csv"), "--json")
    report = json.loads(out)
    assert code == 0 and report["added"] == 3 and report["rejected"] == 0
    assert [r["ext_id"] for r in report["records"]] == ["D1", "F1", "C1"]

    code, out = run("link", "KB-000001", "fixed_by", "KB-000002")
    assert code == 0 and "KB-000001 fixed_by KB-000002" in out

    code, out = run("search", "clarification filter clogging", "--json", "-k", "2")
    hits = json.loads(out)
    assert hits[0]["id"] == "KB-000001" and hits[0]["ext_id"] == "D1"
    assert {"id", "ext_id", "type", "title", "score", "step", "site", "occurred_at", "snippet"} <= set(
        hits[0]
    )

    code, out = run("search", "leukopak clogging", "--expand", "--json", "-k", "1")
    assert code == 0 and json.loads(out)
    code, out = run("search", "clogging", "--site", "CAM", "--json")
    assert [h["site"] for h in json.loads(out)] == ["CAM"]

    code, out = run("edit", "KB-000003", "--set", "site=LEI", "--reason", "logged at the wrong site")
    assert code == 0 and "revision 2" in out
    code, out = run("show", "KB-000003", "--json")
    shown = json.loads(out)
    assert shown["site"] == "LEI" and shown["history"][-1]["reason"] == "logged at the wrong site"
    code, out = run("show", "KB-000001")
    assert "fixed_by KB-000002" in out and "create by tester" in out

    code, out = run("retire", "KB-000003", "--reason", "duplicate")
    assert code == 0
    code, out = run("search", "orange medium", "--json")
    assert "KB-000003" not in [h["id"] for h in json.loads(out)]

    code, out = run("similar", "KB-000001", "--json", "-k", "1")
    assert json.loads(out)[0]["id"] == "KB-000002"

    code, out = run("stats", "--json")
    assert json.loads(out)["active"] == 2
    code, out = run("verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_search_expands_with_the_vocabulary_by_default(run, tmp_path):
    (tmp_path / "x.csv").write_text(CSV)
    assert run("import", str(tmp_path / "x.csv"))[0] == 0
    # "differential pressure" is in no entry; its vocabulary synonym dP is in D1 and F1.
    code, out = run("search", "differential pressure", "--mode", "keyword", "--json")
    assert code == 0 and sorted(h["ext_id"] for h in json.loads(out)) == ["D1", "F1"]
    code, out = run("search", "differential pressure", "--mode", "keyword", "--no-expand", "--json")
    assert code == 0 and json.loads(out) == []


def test_a_broken_vocabulary_file_warns_and_searches_the_words_as_typed(run, tmp_path, monkeypatch):
    (tmp_path / "x.csv").write_text(CSV)
    assert run("import", str(tmp_path / "x.csv"))[0] == 0
    monkeypatch.setenv("TACITKB_HOME", str(run.home))
    (run.home / "vocabulary.yaml").write_text("processes: [unclosed\n")
    code, out = run("search", "differential pressure", "--mode", "keyword")
    assert code == 0 and "warning: invalid vocabulary" in out and "vocabulary.yaml" in out
    assert "searching without vocabulary expansion" in out and "no matches" in out.lower()


def test_reimport_adds_nothing(run, tmp_path):
    (tmp_path / "x.csv").write_text(CSV)
    run("import", str(tmp_path / "x.csv"))
    code, out = run("import", str(tmp_path / "x.csv"), "--json")
    assert json.loads(out)["added"] == 0 and json.loads(out)["duplicates"] == 3


def test_map_and_default_type(run, tmp_path):
    (tmp_path / "m.csv").write_text("Problem,When,Where\nPump knocking before tubing kink,2025-01-02,LEI\n")
    code, out = run(
        "import",
        str(tmp_path / "m.csv"),
        "--type",
        "cue",
        "--map",
        "text=Problem",
        "--map",
        "occurred_at=When",
        "--map",
        "site=Where",
        "--json",
    )
    assert json.loads(out)["added"] == 1
    code, out = run("show", "KB-000001", "--json")
    entry = json.loads(out)
    assert (entry["type"], entry["site"], entry["occurred_at"]) == ("cue", "LEI", "2025-01-02")


def test_ignore_unmapped_dedupes_product_rows_of_one_event(run, tmp_path):
    (tmp_path / "fda.csv").write_text(
        "Event ID,Reason,Date,Product\n"
        "E1,Lack of assurance of sterility,2020-01-02,Vial A\n"
        "E1,Lack of assurance of sterility,2020-01-02,Vial B\n"
        "E2,Failed dissolution specification,2020-02-03,Tablet C\n"
    )
    code, out = run(
        "import",
        str(tmp_path / "fda.csv"),
        "--type",
        "deviation",
        "--map",
        "ext_id=Event ID",
        "--map",
        "text=Reason",
        "--map",
        "occurred_at=Date",
        "--ignore-unmapped",
        "--json",
    )
    report = json.loads(out)
    assert (report["added"], report["duplicates"], report["updated"]) == (2, 1, 0)
    code, out = run("show", "KB-000001", "--json")
    assert json.loads(out)["fields"] == {}


def test_add_from_stdin_and_errors_name_the_argument(run):
    code, out = run(
        "add",
        "--type",
        "cue",
        "--step",
        "harvest",
        "--field",
        "shift=night",
        input="Bag felt warm at harvest\n",
    )
    assert code == 0 and "added KB-000001" in out
    code, out = run("add", "--type", "cue", "--field", "oops", input="x")
    assert code == 1 and "--field" in out
    code, out = run("show", "KB-000404")
    assert code == 1 and "KB-000404" in out
    code, out = run("search", "x", "--since", "yesterday")
    assert code == 1 and "--since" in out
    code, out = run("import", "/nonexistent/file.csv")
    assert code == 1 and "/nonexistent/file.csv" in out
    code, out = run("edit", "KB-000001", "--set", "text=y")
    assert code == 2 and "--reason" in out


def test_verify_reports_and_reindex_repairs(run, tmp_path):
    (tmp_path / "x.csv").write_text(CSV)
    run("import", str(tmp_path / "x.csv"))
    run("search", "anything")
    (run.home / "index.faiss").unlink()
    (run.home / "keywords.npz").unlink()
    code, out = run("verify")
    assert code == 3 and "index file" in out and "missing" in out
    assert "keyword index" in out and "keywords.npz is missing" in out
    code, out = run("reindex", "--json")
    assert code == 0 and json.loads(out) == {"encoded": 0, "indexed": 3, "kind": "flat", "keywords": 3}
    code, _ = run("verify")
    assert code == 0


def test_console_script_entry_point(tmp_path):
    exe = shutil.which("tacitkb", path=str(Path(sys.executable).parent))
    assert exe, "the tacitkb console script is installed with the package"
    (tmp_path / "x.csv").write_text(CSV)
    env = {**os.environ, "TACITKB_HOME": str(tmp_path / "kb"), "TACITKB_USER": "script"}
    subprocess.run([exe, "init"], env=env, check=True, capture_output=True)
    subprocess.run([exe, "import", str(tmp_path / "x.csv")], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [exe, "search", "filter blocked", "--json", "-k", "1"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(done.stdout)[0]["ext_id"] == "D1"
    assert "Loading weights" not in done.stderr


def test_the_kb_folder_own_vocabulary_and_templates_are_used_not_tacitkb_home(run, tmp_path, monkeypatch):
    (tmp_path / "x.csv").write_text(CSV)
    assert run("import", str(tmp_path / "x.csv"))[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("TACITKB_HOME", str(elsewhere))  # another knowledge base, named by the environment
    (elsewhere / "vocabulary.yaml").write_text("processes: [unclosed\n")  # broken: must not be read
    # This knowledge base's own synonym: "squeezing" means differential pressure here.
    (run.home / "vocabulary.yaml").write_text("synonyms:\n  - [squeezing, differential pressure]\n")
    code, out = run("search", "squeezing", "--mode", "keyword", "--json")
    assert code == 0 and "warning" not in out and json.loads(out), out
    code, out = run("search", "squeezing", "--mode", "keyword", "--no-expand", "--json")
    assert code == 0 and json.loads(out) == [], "the hit came from the folder's synonym"
    shipped = SHIPPED_TEMPLATES_DIR / "quick_cue_log.yaml"
    (run.home / "templates").mkdir()
    (run.home / "templates" / "cue.yaml").write_text(
        shipped.read_text().replace("title: Quick cue log", "title: Cue log (this site)")
    )
    code, out = run("templates", "--json")
    assert code == 0 and {"Cue log (this site)"} <= {t["title"] for t in json.loads(out)["templates"]}
    code, out = run("templates", "show", "quick_cue_log", "--json")
    assert code == 0 and json.loads(out)["title"] == "Cue log (this site)"
