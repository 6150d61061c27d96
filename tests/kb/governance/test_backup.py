"""Backup (online, consistent while another process writes) and restore (checked, index rebuilt)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.governance.audit import verify_chain
from kb.governance.backup import backup, check_backup, manifest_path, restore
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError

REPO = Path(__file__).resolve().parents[3]
RECORDS = [
    {
        "type": "deviation",
        "text": "Depth filter blocked after 30 L, dP 1.5 bar",
        "process": "LVV",
        "ext_id": "D1",
    },
    {
        "type": "fix",
        "text": "Benzonase 50 U/mL dosed 1 h before clarification",
        "process": "LVV",
        "ext_id": "F1",
    },
    {"type": "cue", "text": "Medium orange on day 5 in the G-Rex; fed early", "process": "CAR-T"},
]

# A store-level writer: transactions of 5 entries, each with a (random, unit) vector of the real model's
# fingerprint, so a restore needs no encoding. It prints the number of committed transactions as it goes.
WRITER = r"""
import sys, time, numpy as np
from kb.storage.sqlite import Store
from kb.models import Entry
path, fingerprint, dim, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = Store(path)
rng = np.random.default_rng(0)
for r in range(rounds):
    with store.transaction():
        batch = store.insert([Entry(type="cue", text=f"writer cue {r}-{i}") for i in range(5)], author="writer")
        vectors = rng.normal(size=(5, dim)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.put_vectors(zip(batch, vectors), fingerprint)
    print(r + 1, flush=True)
    time.sleep(0.01)
"""


@pytest.fixture
def filled(kb: KnowledgeBase) -> KnowledgeBase:
    kb.add_many(RECORDS, author="olga")
    kb.link("KB-000001", "fixed_by", "KB-000002", author="erin")
    kb.edit("KB-000003", {"severity": "minor"}, author="erin", reason="classified")
    kb.ensure_index()
    return kb


def test_backup_and_restore_round_trip(filled: KnowledgeBase, tmp_path: Path, embedder) -> None:
    out = tmp_path / "backups" / "kb.sqlite"
    manifest = backup(filled, out, by="alice")
    assert out.is_file() and manifest_path(out).is_file()
    on_disk = json.loads(manifest_path(out).read_text())
    assert on_disk["sha256"] == manifest["sha256"] and on_disk["integrity_check"] == "ok"
    assert on_disk["counts"]["entries"] == 3 and on_disk["counts"]["links"] == 1 and on_disk["audit"]["ok"]
    assert filled.store.audit_events()[-1]["action"] == "backup"
    with pytest.raises(KBError, match="already exists"):
        backup(filled, out)

    home = tmp_path / "restored"
    result = restore(out, home, embedder=embedder, by="alice")
    assert result["manifest_checked"] and result["verify"]["ok"], result["verify"]
    assert result["index"]["encoded"] == 0 and result["index"]["indexed"] == 3  # rebuilt from stored vectors
    with KnowledgeBase(home, embedder=embedder) as again:
        assert again.store.count() == 3 and again.links("KB-000001")
        assert [r.revision for r in again.history("KB-000003")] == [1, 2]
        assert again.search("filter clogging", k=1)[0].entry.ext_id == "D1"
        assert again.store.audit_events()[-1]["action"] == "restore_backup"
        assert verify_chain(again).ok


def test_restore_refuses_a_non_empty_folder_unless_forced(
    filled: KnowledgeBase, tmp_path: Path, embedder
) -> None:
    out = tmp_path / "kb.bak"
    backup(filled, out)
    with pytest.raises(KBError, match="not empty"):
        restore(out, filled.home, embedder=embedder)
    target = tmp_path / "other"
    with KnowledgeBase(target, embedder=embedder) as other:
        other.add({"type": "cue", "text": "something else entirely"}, author="x")
    result = restore(out, target, force=True, embedder=embedder)
    moved = Path(result["moved_aside"])
    assert (moved / "tacitkb.db").is_file()  # the replaced database is kept, not deleted
    assert result["verify"]["ok"] and result["counts"]["entries"] == 3


def test_a_changed_or_damaged_backup_is_refused(filled: KnowledgeBase, tmp_path: Path, embedder) -> None:
    out = tmp_path / "kb.bak"
    backup(filled, out)
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    with pytest.raises(KBError, match="does not match its manifest"):
        restore(out, tmp_path / "r1", embedder=embedder)
    assert not (tmp_path / "r1").exists()

    manifest_path(out).unlink()  # without a manifest the file itself is checked
    garbage = tmp_path / "garbage.bak"
    garbage.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    with pytest.raises(KBError, match="not a readable SQLite database|integrity_check"):
        check_backup(garbage)
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(KBError, match="not a TacitKB database"):
        check_backup(plain)


def test_backup_while_another_process_writes(filled: KnowledgeBase, tmp_path: Path, embedder) -> None:
    rounds = 150
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(filled.store.path),
            embedder.fingerprint,
            str(embedder.dim),
            str(rounds),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        writer.stdout.readline()  # the writer has committed at least once
        copies = []
        for n in range(3):
            copies.append(backup(filled, tmp_path / f"live-{n}.bak"))
            time.sleep(0.3)
        assert writer.wait(timeout=120) == 0
    finally:
        writer.kill()
    seen = [c["counts"]["entries"] for c in copies]
    for earlier_backups, manifest in enumerate(copies):
        counts = manifest["counts"]
        assert manifest["integrity_check"] == "ok" and manifest["audit"]["ok"]
        # Whole transactions only: every entry has its revisions, vector and audit event, batches of 5.
        assert (counts["entries"] - 3) % 5 == 0 and counts["vectors"] == counts["entries"]
        # One audit event per revision, plus the link and the backups taken before this one.
        assert counts["audit_events"] == counts["revisions"] + 1 + earlier_backups
    print("entries in backups taken during the writes:", seen)
    assert seen == sorted(seen) and 3 < seen[0] < 3 + 5 * rounds  # taken mid-stream

    result = restore(tmp_path / "live-2.bak", tmp_path / "restored", embedder=embedder)
    assert result["verify"]["ok"] and result["index"]["encoded"] == 0
    assert result["verify"]["active_entries"] == seen[-1]


def test_cli_backup_and_restore(filled: KnowledgeBase, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli.bak"
    result = runner.invoke(
        cli, ["--kb", str(filled.home), "--as", "alice", "backup", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["entries"] == 3
    target = tmp_path / "cli-restored"
    result = runner.invoke(cli, ["--kb", str(target), "--as", "alice", "restore", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 entries" in result.output and "verify: ok" in result.output
    result = runner.invoke(cli, ["--kb", str(target), "restore", str(out)])
    assert result.exit_code == 1 and "not empty" in result.output
