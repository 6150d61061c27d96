"""The CLI as a new QA user meets it (issue 17): verify after ordinary work, import defaults, paired
problem/action records, progress, a mistyped --kb and consistent outputs."""

from __future__ import annotations

import json

from cli.main import cli

CSV = (
    "ext_id,type,text,process,step,site,occurred_at\n"
    'D1,deviation,"Depth filter blocked after 30 L, dP 1.5 bar, clumps",LVV,clarification,LEI,2025-06-01\n'
    'F1,fix,"Benzonase 50 U/mL dosed 1 h before clarification; dP flat",LVV,clarification,LEI,2025-06-03\n'
)


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


PROBLEM_ACTION = (
    "IDENT,PROBLEM,ACTION\n"
    "100001,DEPTH FILTER BLOCKED AT 30 L; DP 1.5 BAR,DOSED BENZONASE 1 H BEFORE CLARIFICATION\n"
    "100002,MEDIUM TURNED ORANGE ON DAY 5,FED EARLY\n"
    "100003,PUMP NOISE BEFORE TUBE KINK,\n"
)


def test_site_process_step_are_defaults_for_rows_without_them(run, tmp_path):
    (tmp_path / "a.csv").write_text(
        "type,text,site\ncue,Haze after transfection,CAM\ncue,Medium orange on day 5,\n"
    )
    (tmp_path / "b.jsonl").write_text('{"type": "cue", "text": "Pump sounds different before a kink"}\n')
    for name in ("a.csv", "b.jsonl"):
        code, out = run(
            "import", str(tmp_path / name), "--site", "LEI", "--process", "LVV", "--step", "harvest"
        )
        assert code == 0, out
    code, out = run("search", "haze orange pump", "--json", "-k", "5")
    by_text = {h["title"]: h for h in json.loads(out)}
    assert by_text["Haze after transfection"]["site"] == "CAM"  # the row's own value wins
    assert by_text["Medium orange on day 5"]["site"] == "LEI"
    pump = by_text["Pump sounds different before a kink"]
    assert (pump["site"], pump["step"]) == ("LEI", "harvest")
    code, out = run("import", "--help")
    assert "--site" in out and "without one" in out


def test_fix_from_imports_each_row_as_a_deviation_and_its_linked_fix(run, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(PROBLEM_ACTION)
    args = ("import", str(path), "--map", "text=PROBLEM", "--map", "ext_id=IDENT", "--fix-from", "ACTION")
    code, out = run(*args, "--json")
    report = json.loads(out)
    assert code == 0 and report["added"] == 5 and report["linked"] == 2
    kinds = [(r["row"], r["ext_id"], r["type"]) for r in report["records"]]
    assert kinds == [
        (2, "100001", "deviation"),
        (2, "100001/fix", "fix"),
        (3, "100002", "deviation"),
        (3, "100002/fix", "fix"),
        (4, "100003", "deviation"),
    ]
    code, out = run("show", "100001", "--json")  # an ext_id where an id is expected
    shown = json.loads(out)
    assert shown["type"] == "deviation" and "ACTION" not in shown["fields"]
    fix_id = next(r["id"] for r in report["records"] if r["ext_id"] == "100001/fix")
    assert [(x["relation"], x["target"]) for x in shown["links"]] == [("fixed_by", fix_id)]
    # The action is searchable as a fix of its own.
    code, out = run("search", "benzonase dosing", "--type", "fix", "--json", "-k", "1")
    assert json.loads(out)[0]["ext_id"] == "100001/fix"
    # Re-importing the same file adds nothing.
    code, out = run(*args, "--json")
    again = json.loads(out)
    assert code == 0 and again["added"] == 0 and again["updated"] == 0 and again["duplicates"] == 5


def test_reimport_that_would_change_types_is_refused_unless_asked(run, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(PROBLEM_ACTION)
    run("import", str(path), "--map", "text=PROBLEM", "--map", "ext_id=IDENT", "--type", "deviation")
    second = ("import", str(path), "--map", "text=ACTION", "--map", "ext_id=IDENT", "--type", "fix")
    code, out = run(*second)
    assert code == 1
    assert "would change the type of existing entries" in out and "row 2: ext_id '100001' is KB-000001" in out
    assert "nothing was imported" in out
    assert json.loads(run("show", "KB-000001", "--json")[1])["type"] == "deviation"
    code, out = run(*second, "--allow-type-change", "--json")
    assert code == 0 and json.loads(out)["updated"] == 2
    assert json.loads(run("show", "KB-000001", "--json")[1])["type"] == "fix"


def test_import_errors_a_new_user_meets(run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("type,text,occurred_at\n" + "".join(f"cue,note {i},13/13/2025\n" for i in range(25)))
    code, out = run("import", str(bad))
    assert code == 1 and "every row was rejected; nothing was imported" in out
    assert out.count("  rejected: ") == 20 and "... and 5 more" in out
    (tmp_path / "log.csv").write_text(PROBLEM_ACTION)
    code, out = run("import", str(tmp_path / "log.csv"), "--type", "deviation")
    assert code == 1 and "no text column (columns: IDENT, PROBLEM, ACTION)" in out and "--map text=" in out
    code, out = run("import", str(tmp_path / "x.xlsx"))
    assert code == 1
    for suffix in (".csv", ".jsonl", ".md", ".txt", ".docx", ".pdf", ".zip"):
        assert suffix in out
    code, out = run("import", "--help")
    assert "occurred_at" in out and "root_cause" in out and "--fix-from" in out
    code, out = run("import", str(tmp_path / "log.csv"), "--fix-from", "ACTION")
    assert code == 1 and "no text column" in out
    (tmp_path / "n.md").write_text("# Note\n\nText.\n")
    code, out = run("import", str(tmp_path / "n.md"), "--fix-from", "ACTION")
    assert code == 1 and "argument '--fix-from'" in out and "not to a document" in out


def test_edit_show_link_lines_and_no_op_edit(run, tmp_path):
    (tmp_path / "x.csv").write_text(CSV)
    run("import", str(tmp_path / "x.csv"))
    code, out = run("link", "D1", "fixed_by", "F1")  # ext_ids accepted
    assert code == 0 and "KB-000001 fixed_by KB-000002" in out
    code, out = run("edit", "D1", "--set", "site=LEI", "--reason", "check")
    assert code == 0 and "unchanged" in out and "revision 1" in out
    assert len(json.loads(run("show", "D1", "--json")[1])["history"]) == 1
    code, out = run("edit", "D1", "--set", "site=CAM", "--reason", "wrong site")
    assert code == 0 and "revision 2" in out
    code, out = run("show", "D1")
    assert "fixed_by KB-000002  Benzonase 50 U/mL dosed 1 h before clarification; dP flat" in out
    code, out = run("search", "depth filter blocked", "-k", "1")
    assert "-> fixed_by KB-000002  Benzonase 50 U/mL" in out
    code, out = run("similar", "D1", "--json", "-k", "1")
    assert code == 0 and json.loads(out)[0]["id"] != "KB-000001"


def test_workshop_start_refuses_a_step_of_another_process(run):
    args = ("workshop", "start", "acta_knowledge_audit", "--facilitator", "M. Rossi", "--process", "LVV")
    code, out = run(*args, "--step", "expansion")
    assert (
        code == 1 and "argument '--step': 'expansion' is not a step of LVV" in out and "transfection" in out
    )
    code, out = run(*args[:-1], "LENTI", "--step", "harvest")
    assert code == 1 and "argument '--process': unknown process 'LENTI'" in out
    assert run("workshop", "list", "--json")[1].strip() == "[]"  # nothing was opened
    code, out = run(*args, "--step", "Transient transfection", "--json")
    assert code == 0 and json.loads(out)["step"] == "transfection"


def test_ctrl_c_during_import_says_nothing_was_imported(run, tmp_path, monkeypatch):
    from kb.knowledge_base import KnowledgeBase

    (tmp_path / "x.csv").write_text(CSV)
    real = KnowledgeBase.add_many

    def interrupted(self, *args, **kwargs):
        kwargs["progress"] = lambda n: (_ for _ in ()).throw(KeyboardInterrupt)  # Ctrl-C while encoding
        return real(self, *args, **kwargs)

    monkeypatch.setattr(KnowledgeBase, "add_many", interrupted)
    code, out = run("import", str(tmp_path / "x.csv"))
    assert code == 130 and "interrupted: nothing from" in out and "was imported" in out
    monkeypatch.undo()
    assert json.loads(run("stats", "--json")[1])["entries"] == 0


def test_matched_words_are_bold_on_a_terminal_and_marked_otherwise(run, tmp_path, monkeypatch):
    import click

    from cli import common

    (tmp_path / "x.csv").write_text(CSV)
    run("import", str(tmp_path / "x.csv"))
    code, out = run("search", "depth filter", "-k", "1")
    assert "**filter**" in out  # piped: the markers stay, as plain text
    monkeypatch.setattr(common.sys.stdout, "isatty", lambda: True, raising=False)
    shown = common.emphasise("Depth **filter** blocked")
    assert shown == f"Depth {click.style('filter', bold=True)} blocked" and "**" not in shown


def test_progress_bar_with_counts_on_a_terminal_only(run, tmp_path, monkeypatch):
    from cli import common

    (tmp_path / "x.csv").write_text(CSV)
    code, out = run("import", str(tmp_path / "x.csv"))
    assert "entry/s" not in out and "2/2" not in out  # not a terminal: no bar
    (tmp_path / "y.csv").write_text(CSV.replace("D1", "D2").replace("F1", "F2").replace("30 L", "40 L"))
    monkeypatch.setattr(common, "interactive", lambda: True)
    code, out = run("import", str(tmp_path / "y.csv"))
    assert code == 0 and "y.csv: 100%" in out and "2/2" in out and "entry/s" in out


def test_sample_loading_says_what_it_does_on_a_terminal(kb, tmp_path, monkeypatch, capsys):
    from cli import common

    samples = tmp_path / "samples"
    samples.mkdir()
    rows = [{"type": "cue", "text": f"Sample cue number {i} about the harvest"} for i in range(3)]
    (samples / "entries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setattr(common, "interactive", lambda: True)
    assert common.load_samples(kb, "tester", quiet=False, samples_dir=samples)["added"] == 3
    err = capsys.readouterr().err
    assert "loading 3 sample records into" in err and "samples: 100%" in err and "3/3" in err


def test_every_command_takes_json():
    import click

    def leaves(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
        if isinstance(command, click.Group):
            found = [(path, command)] if command.invoke_without_command else []
            return found + [x for n, c in command.commands.items() for x in leaves(c, f"{path} {n}")]
        return [(path, command)]

    missing = [
        path
        for path, command in leaves(cli, "tacitkb")
        if "--json" not in {o for p in command.params for o in getattr(p, "opts", [])}
    ]
    assert missing == []


def test_drift_refuses_a_period_that_does_not_exist_at_once(run):
    for bad in ("2025-13", "2025-W54", "March"):
        code, out = run("drift", "--known-gap", bad)
        assert code == 1 and f"argument '--known-gap': '{bad}' is not a period" in out
    code, out = run("drift", "--known-gap", "2025-03", "--known-gap", "2025-W09")
    assert "is not a period" not in out  # a valid period passes (this empty base has nothing to cluster)


def test_cusum_statistic_and_threshold_read_as_different():
    from kb.analytics.drift import _above

    assert _above(0.64, 0.55) == "0.64 > 0.55"
    assert _above(10.83, 2.8) == "10.8 > 2.8"
    assert _above(0.6004, 0.6001) == "0.6, at the threshold 0.6"  # never "0.600 > 0.600"


def test_limit_imports_only_the_first_rows(run, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(PROBLEM_ACTION)
    args = ("import", str(path), "--map", "text=PROBLEM", "--map", "ext_id=IDENT", "--fix-from", "ACTION")
    code, out = run(*args, "--limit", "2", "--json")
    report = json.loads(out)
    assert code == 0 and report["rows"] == 2 and report["added"] == 4 and report["linked"] == 2
    code, out = run(*args, "--json")
    assert json.loads(out)["added"] == 1  # the third row; the first two are duplicates
    code, out = run(*args, "--limit", "0")
    assert code == 2 and "--limit" in out
