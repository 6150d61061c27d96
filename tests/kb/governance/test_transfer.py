"""Transfer packages between two knowledge bases: round trip, provenance, idempotent re-import, tampering refused."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ingest.packages import export_package
from kb.governance import site_keys
from kb.governance.transfer import import_package, is_package, origin_history, read_package
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError

RECORDS = [
    {
        "type": "deviation",
        "text": "Depth filter blocked after 30 L, dP 1.5 bar",
        "process": "LVV",
        "step": "clarification",
        "ext_id": "D1",
        "author": "m.jansen",
    },
    {
        "type": "fix",
        "text": "Benzonase 50 U/mL dosed 1 h before clarification; dP flat",
        "process": "LVV",
        "step": "clarification",
        "ext_id": "F1",
    },
    {
        "type": "cue",
        "text": "Faint haze after PEI complex addition: complex sat too long",
        "process": "LVV",
        "step": "transfection",
    },
    {
        "type": "cue",
        "text": "Medium orange on day 5 in the G-Rex; fed early",
        "process": "CAR-T",
        "step": "expansion",
    },
]


@pytest.fixture
def site_a(tmp_path: Path, embedder):
    with KnowledgeBase(tmp_path / "a", embedder=embedder) as kb:
        kb.add_many(RECORDS, author="olga")
        kb.link("KB-000001", "fixed_by", "KB-000002", author="erin")
        kb.link("KB-000001", "related", "KB-000004", author="erin")  # crosses processes: not exported
        kb.edit("KB-000001", {"severity": "major"}, author="erin", reason="classified")
        yield kb


@pytest.fixture
def site_b(tmp_path: Path, embedder, site_a, backend: str, request: pytest.FixtureRequest):
    # The receiving site on either store: its own SQLite folder, or a PostgreSQL database.
    db = request.getfixturevalue("pg_cluster").new_database() if backend == "postgres" else None
    with KnowledgeBase(tmp_path / "b", embedder=embedder, db=db) as kb:
        # Each site's admin registers the other's signing key (no accounts here: single-user mode).
        site_keys.register(kb, "LEI", site_keys.public_key(site_a.home), by=None)
        site_keys.register(site_a, "CAM", site_keys.public_key(kb.home), by=None)
        kb.add(
            {
                "type": "deviation",
                "text": "Local deviation that happens to be called D1 too",
                "ext_id": "D1",
                "process": "LVV",
            },
            author="bea",
        )
        yield kb


def test_round_trip_keeps_provenance_history_and_links(site_a, site_b, tmp_path: Path) -> None:
    package = tmp_path / "lvv.zip"
    manifest = export_package(site_a, "LVV", out=package, site="LEI", by="erin")
    assert is_package(package)
    assert manifest["counts"] == {
        "entries": 3,
        "revisions": 4,
        "links": 1,
        "templates": manifest["counts"]["templates"],
    }
    assert (
        manifest["counts"]["templates"] >= 7
        and manifest["model"]["fingerprint"] == site_a.embedder.fingerprint
    )
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
    assert {"manifest.json", "entries.jsonl", "links.jsonl", "vocabulary.yaml"} <= names
    assert set(manifest["parts"]) == names - {"manifest.json", "manifest.sig"}

    result = import_package(site_b, package, author="bea")
    assert (result["added"], result["unchanged"], result["links_added"]) == (3, 0, 1)
    assert result["same_model"] and result["from_site"] == "LEI"
    imported = {e.fields["origin_id"]: e for e in site_b.store.iter_entries() if "origin_id" in e.fields}
    d1 = imported["KB-000001"]
    assert d1.fields["origin_site"] == "LEI" and d1.fields["origin_ext_id"] == "D1" and d1.ext_id == "LEI:D1"
    assert d1.author == "m.jansen" and d1.severity == "major"  # original author and current content
    assert [r["action"] for r in origin_history(site_b, d1.id)] == ["create", "edit"]
    assert site_b.history(d1.id)[0].author == "bea" and "LEI" in site_b.history(d1.id)[0].reason
    (link,) = [x for x in site_b.links(d1.id) if x.relation == "fixed_by"]
    assert link.target == imported["KB-000002"].id
    # The receiving site's own "D1" was not touched.
    assert (
        site_b.get("KB-000001").text.startswith("Local deviation") and site_b.get("KB-000001").revision == 1
    )
    assert site_b.verify()["ok"]
    assert site_b.search("depth filter clogged", k=1)[0].entry.id == d1.id
    assert Path(result["reference_files"], "templates").is_dir()


def test_re_import_is_idempotent_and_origin_edits_become_revisions(site_a, site_b, tmp_path: Path) -> None:
    export_package(site_a, "LVV", out=tmp_path / "p1.zip", site="LEI")
    import_package(site_b, tmp_path / "p1.zip", author="bea")
    before = site_b.store.count()
    again = import_package(site_b, tmp_path / "p1.zip", author="bea")
    assert (again["added"], again["updated"], again["unchanged"], again["links_added"]) == (0, 0, 3, 0)
    assert site_b.store.count() == before

    site_a.edit(
        "KB-000003", {"text": "Faint haze after PEI: complex sat over 20 min"}, author="erin", reason="detail"
    )
    export_package(site_a, "LVV", out=tmp_path / "p2.zip", site="LEI")
    newer = import_package(site_b, tmp_path / "p2.zip", author="bea")
    assert (newer["added"], newer["updated"], newer["unchanged"]) == (0, 1, 2)
    changed = next(e for e in site_b.store.iter_entries() if e.fields.get("origin_id") == "KB-000003")
    assert changed.revision == 2 and "over 20 min" in changed.text
    # The older package again does not roll the newer origin version back.
    older = import_package(site_b, tmp_path / "p1.zip", author="bea")
    assert older["kept_local_edit"] == 1 and site_b.get(changed.id).revision == 2
    assert site_b.store.count() == before and site_b.verify()["ok"]


def test_a_package_sent_back_adds_nothing_to_its_origin(site_a, site_b, tmp_path: Path) -> None:
    export_package(site_a, "LVV", out=tmp_path / "a.zip", site="LEI")
    import_package(site_b, tmp_path / "a.zip", author="bea")
    export_package(site_b, "LVV", out=tmp_path / "b.zip", site="CAM")
    before = site_a.store.count()
    result = import_package(site_a, tmp_path / "b.zip", author="olga")
    assert result["own_records"] == 3 and result["added"] == 1  # only B's local deviation is new
    assert site_a.store.count() == before + 1


def _rewrite(package: Path, out: Path, change) -> Path:
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(out, "w") as dst:
        parts = {n: src.read(n) for n in src.namelist()}
        for name, data in change(parts).items():
            dst.writestr(name, data)
    return out


def test_tampered_packages_are_refused_naming_the_part(site_a, site_b, tmp_path: Path) -> None:
    package = tmp_path / "p.zip"
    export_package(site_a, "LVV", out=package, site="LEI")
    before = site_b.store.count()
    events = len(site_b.store.audit_events())

    def edit_entries(parts):
        parts["entries.jsonl"] = parts["entries.jsonl"].replace(b"30 L", b"300 L")
        return parts

    cases = {
        "entries.jsonl' does not match the sha256": edit_entries,
        "links.jsonl' listed in the manifest is missing": lambda p: {
            k: v for k, v in p.items() if k != "links.jsonl"
        },
        "'extra.sh' is not listed": lambda p: p | {"extra.sh": b"rm -rf /"},
        "'../../etc/passwd' is not a plain relative path": lambda p: p | {"../../etc/passwd": b"x"},
        "manifest.json is not valid JSON": lambda p: p | {"manifest.json": b"{"},
        "no manifest.json": lambda p: {k: v for k, v in p.items() if k != "manifest.json"},
    }
    for i, (message, change) in enumerate(cases.items()):
        bad = _rewrite(package, tmp_path / f"bad{i}.zip", change)
        with pytest.raises(KBError, match=message.replace(".", r"\.")):
            import_package(site_b, bad, author="bea")
    not_zip = tmp_path / "notzip.zip"
    not_zip.write_bytes(b"PK not really")
    with pytest.raises(KBError, match="not a zip file"):
        import_package(site_b, not_zip, author="bea")
    assert site_b.store.count() == before and len(site_b.store.audit_events()) == events


def test_folder_packages_and_step_filter(site_a, site_b, tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    manifest = export_package(site_a, "LVV", step="clarification", out=folder, site="LEI")
    assert manifest["counts"]["entries"] == 2 and (folder / "manifest.json").is_file()
    read_package(folder)
    (folder / "entries.jsonl").write_text((folder / "entries.jsonl").read_text().replace("dP", "dp"))
    with pytest.raises(KBError, match="entries.jsonl"):
        import_package(site_b, folder, author="bea")
    with pytest.raises(KBError, match="no entries for process 'XYZ'"):
        export_package(site_a, "XYZ", out=tmp_path / "none.zip")
    with pytest.raises(KBError, match="already exists"):
        export_package(site_a, "LVV", out=folder)


def test_cli_export(site_a, tmp_path: Path) -> None:
    out = tmp_path / "cli.zip"
    result = CliRunner().invoke(
        cli,
        [
            "--kb",
            str(site_a.home),
            "--as",
            "erin",
            "export",
            "--process",
            "LVV",
            "--out",
            str(out),
            "--site",
            "LEI",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (
        data["counts"]["entries"] == 3 and data["created_by"] == "erin" and len(data["manifest_sha256"]) == 64
    )
