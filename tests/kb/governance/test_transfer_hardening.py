"""Issue 16 items 1, 5 and 6: package paths stay inside transfers/, manifests are signed, members are bounded."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.packages import export_package
from kb.governance import package_reader, site_keys, transfer
from kb.governance.transfer import import_package
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError

RECORDS = [
    {
        "type": "deviation",
        "text": "Depth filter blocked after 30 L, dP 1.5 bar",
        "process": "LVV",
        "ext_id": "D1",
    },
    {"type": "fix", "text": "Benzonase 50 U/mL dosed before clarification", "process": "LVV", "ext_id": "F1"},
]


@pytest.fixture
def sender(tmp_path: Path, embedder):
    with KnowledgeBase(tmp_path / "a", embedder=embedder) as kb:
        kb.add_many(RECORDS, author="olga")
        kb.edit("KB-000001", {"severity": "major"}, author="erin", reason="classified")
        yield kb


@pytest.fixture
def receiver(tmp_path: Path, embedder, sender):
    with KnowledgeBase(tmp_path / "b", embedder=embedder) as kb:
        site_keys.register(kb, "LEI", site_keys.public_key(sender.home), by=None)
        yield kb


@pytest.fixture
def package(sender, tmp_path: Path) -> Path:
    out = tmp_path / "lvv.zip"
    export_package(sender, "LVV", out=out, site="LEI")
    return out


def repack(
    package: Path,
    out: Path,
    *,
    parts: Callable[[dict[str, bytes]], dict[str, bytes]] = lambda p: p,
    manifest: Callable[[dict], dict] = lambda m: m,
    sign_with: Path | None = None,
    keep_signature: bool = True,
) -> Path:
    """Rewrite a package: change parts, re-hash them in the manifest, change the manifest, (re)sign it."""
    with zipfile.ZipFile(package) as src:
        data = {n: src.read(n) for n in src.namelist()}
    signature = data.pop("manifest.sig")
    meta = json.loads(data.pop("manifest.json"))
    data = parts(data)
    meta["parts"] = {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for n, d in sorted(data.items())
    }
    meta = manifest(meta)
    manifest_bytes = json.dumps(meta, indent=2, sort_keys=True).encode()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("manifest.json", manifest_bytes)
        if sign_with is not None:
            dst.writestr("manifest.sig", site_keys.sign_manifest(sign_with, manifest_bytes))
        elif keep_signature:
            dst.writestr("manifest.sig", signature)
        for name, blob in data.items():
            dst.writestr(name, blob)
    return out


def unchanged(kb: KnowledgeBase) -> tuple[int, int]:
    return kb.store.count(status=None), len(kb.store.audit_events())


@pytest.mark.parametrize("package_id", ["..", "/tmp/tacitkb-attack", "0123\x00abc", "../../x" + "0" * 26])
def test_a_package_id_that_is_a_path_is_refused_before_anything_is_written(
    sender, receiver, package: Path, tmp_path: Path, package_id: str
) -> None:
    # Signed with the sender's real key: even a trusted site cannot write outside transfers/.
    bad = repack(
        package,
        tmp_path / "bad.zip",
        manifest=lambda m: m | {"package_id": package_id},
        sign_with=sender.home,
    )
    before = unchanged(receiver)
    with pytest.raises(KBError, match="is not a package id"):
        import_package(receiver, bad, author="bea")
    assert unchanged(receiver) == before
    assert not (receiver.home / "vocabulary.yaml").exists() and not (receiver.home / "templates").exists()
    assert not Path("/tmp/tacitkb-attack").exists()


def test_templates_and_vocabulary_are_kept_for_review_never_activated(receiver, package: Path) -> None:
    result = import_package(receiver, package, author="bea")
    kept = Path(result["reference_files"])
    assert kept.parent == (receiver.home / "transfers").resolve() and (kept / "vocabulary.yaml").is_file()
    # Active vocabulary and organisation templates live at home/vocabulary.yaml and home/templates.
    assert not (receiver.home / "vocabulary.yaml").exists() and not (receiver.home / "templates").exists()


def test_reference_parts_are_written_only_inside_their_package_folder(receiver, tmp_path: Path) -> None:
    manifest = {"package_id": "0" * 32}
    with pytest.raises(KBError, match="points outside"):
        transfer._keep_reference_parts(receiver, manifest, {"vocabulary/../../../escape.yaml": b"x"})
    assert not (receiver.home / "escape.yaml").exists()


def test_unsigned_unknown_key_wrong_site_and_rehashed_packages_are_refused(
    sender, receiver, package: Path, tmp_path: Path, embedder
) -> None:
    before = unchanged(receiver)
    unsigned = repack(package, tmp_path / "unsigned.zip", keep_signature=False)
    with pytest.raises(KBError, match="not signed"):
        import_package(receiver, unsigned, author="bea")
    # The forgery: an edited part, re-hashed in the manifest (the old signature kept).
    rehashed = repack(
        package,
        tmp_path / "rehashed.zip",
        parts=lambda p: p | {"entries.jsonl": p["entries.jsonl"].replace(b"30 L", b"300 L")},
    )
    with pytest.raises(KBError, match="does not verify"):
        import_package(receiver, rehashed, author="bea")
    with KnowledgeBase(tmp_path / "stranger", embedder=embedder) as stranger:
        foreign = repack(package, tmp_path / "foreign.zip", sign_with=stranger.home)
        with pytest.raises(KBError, match="not registered here"):
            import_package(receiver, foreign, author="bea")
        site_keys.register(receiver, "CAM", site_keys.public_key(stranger.home), by=None)
        with pytest.raises(KBError, match="registered for site 'CAM'"):
            import_package(receiver, foreign, author="bea")  # CAM's key signing as LEI
    assert unchanged(receiver)[0] == before[0]
    # An explicit choice lets an unsigned package in (and the import event says it was unsigned).
    result = import_package(receiver, unsigned, author="bea", allow_unsigned=True)
    assert result["added"] == 2
    event = [e for e in receiver.store.audit_events() if e["action"] == "transfer_import"][-1]
    assert event["details"]["signed_by_key"] is None


def test_a_forged_revision_number_is_refused(sender, receiver, package: Path, tmp_path: Path) -> None:
    def forge(parts: dict[str, bytes]) -> dict[str, bytes]:
        lines = [json.loads(x) for x in parts["entries.jsonl"].splitlines()]
        lines[0]["entry"]["revision"] = 99
        return parts | {"entries.jsonl": b"".join(json.dumps(x).encode() + b"\n" for x in lines)}

    forged = repack(package, tmp_path / "forged.zip", parts=forge, sign_with=sender.home)
    with pytest.raises(KBError, match=r"field 'revision': 99, but the history shows 2 revisions"):
        import_package(receiver, forged, author="bea")
    # The genuine package still imports, and a genuine later revision still applies.
    assert import_package(receiver, package, author="bea")["added"] == 2
    sender.edit("KB-000001", {"text": "Depth filter blocked after 32 L"}, author="erin", reason="corrected")
    export_package(sender, "LVV", out=tmp_path / "v3.zip", site="LEI")
    assert import_package(receiver, tmp_path / "v3.zip", author="bea")["updated"] == 1


def test_an_unsigned_bomb_is_refused_before_any_part_is_read(
    receiver, package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = repack(
        package,
        tmp_path / "bomb.zip",
        parts=lambda p: p | {"entries.jsonl": b"{}\n" * 2_000_000},
        keep_signature=False,
    )
    assert bomb.stat().st_size < 100_000  # 6 MB of `{}` lines compress to a few KB

    def no_reading(*args: object) -> str:
        raise AssertionError("a part was hashed before the signature was checked")

    monkeypatch.setattr(transfer.Package, "digest", no_reading)
    with pytest.raises(KBError, match="not signed"):
        import_package(receiver, bomb, author="bea")


def test_members_are_read_with_line_and_size_limits(
    sender, receiver, package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = repack(
        package, tmp_path / "many.zip", parts=lambda p: p | {"links.jsonl": b"\n" * 50}, sign_with=sender.home
    )
    monkeypatch.setattr(package_reader, "MAX_LINES", 20)
    with pytest.raises(KBError, match="links.jsonl: more than 20 lines"):
        import_package(receiver, many, author="bea")
    monkeypatch.setattr(package_reader, "MAX_LINES", 200_000)
    monkeypatch.setattr(package_reader, "MAX_LINE_BYTES", 64)
    with pytest.raises(KBError, match="entries.jsonl line 1: longer than"):
        import_package(receiver, package, author="bea")
    monkeypatch.setattr(package_reader, "MAX_LINE_BYTES", 4 * 1024 * 1024)

    def lie_about_size(meta: dict) -> dict:
        meta["parts"]["entries.jsonl"]["bytes"] = 10
        return meta

    liar = repack(package, tmp_path / "liar.zip", manifest=lie_about_size, sign_with=sender.home)
    with pytest.raises(KBError, match="entries.jsonl' does not match"):
        import_package(receiver, liar, author="bea")
    deep = repack(
        package,
        tmp_path / "deep.zip",
        parts=lambda p: p | {"links.jsonl": b"[" * 100_000 + b"]" * 100_000 + b"\n"},
        sign_with=sender.home,
    )
    with pytest.raises(KBError, match="links.jsonl line 1: nested too deeply"):
        import_package(receiver, deep, author="bea")
    title = repack(
        package,
        tmp_path / "title.zip",
        parts=lambda p: (
            p
            | {"entries.jsonl": p["entries.jsonl"].replace(b'"title": "Depth', b'"title": 7, "x": "Depth', 1)}
        ),
        sign_with=sender.home,
    )
    with pytest.raises(KBError, match="field 'title': must be text, not int"):
        import_package(receiver, title, author="bea")
    assert receiver.store.count(status=None) == 0
