"""Load and faults: parallel importers, store write rate, SIGKILL mid-import and mid-index-save, full disk,
read-only database, bad uploads. Each test checks that nothing committed is lost and nothing half-written stays.

Disk full and read-only use a real tmpfs mount (`mount -t tmpfs -o size=...`, then `remount,ro`) when the
tests run as root with CAP_SYS_ADMIN; otherwise they fall back to SQLite's max_page_count (the same
SQLITE_FULL error a full disk gives) plus an ENOSPC raised by the index writer, and to chmod 444/555.
Each test prints which one it used.
"""

from __future__ import annotations

import csv
import errno
import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kb.governance.audit import verify_chain
from kb.governance.integrity import verify_knowledge_base
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError
from kb.retrieval.vector_index import VectorIndex
from kb.storage.sqlite import Store

REPO = Path(__file__).resolve().parent.parent
PROCESSES = 3
ROWS_PER_PROCESS = 40


def write_csv(path: Path, prefix: str, rows: int) -> Path:
    """Write a CSV of unique deviation/cue rows with ext_ids PREFIX-0..PREFIX-(rows-1)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["ext_id", "type", "text", "process", "step", "site"])
        for i in range(rows):
            writer.writerow(
                [
                    f"{prefix}-{i}",
                    "deviation" if i % 2 else "cue",
                    f"{prefix} observation {i}: depth filter pressure {i % 7 + 1}.{i % 10} bar after {20 + i} L",
                    "LVV",
                    "clarification",
                    "LEI",
                ]
            )
    return path


def committed_state(home: Path) -> dict:
    """Open the database read-only and return counts and checks (no KnowledgeBase, no repair)."""
    conn = sqlite3.connect(f"file:{home / 'tacitkb.db'}?mode=ro", uri=True)
    try:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "integrity": one("PRAGMA integrity_check"),
            "entries": one("SELECT COUNT(*) FROM entries"),
            "revisions": one("SELECT COUNT(*) FROM revisions"),
            "creates": one("SELECT COUNT(*) FROM audit_events WHERE action = 'create'"),
            "vectors": one("SELECT COUNT(*) FROM vectors"),
            "ext_ids": {r[0] for r in conn.execute("SELECT ext_id FROM entries")},
        }
    finally:
        conn.close()


# --- several processes importing at once ---------------------------------------------------------------


def _import_worker(home: str, csv_path: str) -> dict:
    """One process: its own KnowledgeBase (and model), load the index, import a CSV, search."""
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = (
        "1"  # 3 models on 2 cores: no oversubscription
    )
    from ingest.importers import import_records

    with KnowledgeBase(home) as kb:
        kb.ensure_index()
        report = import_records(kb, Path(csv_path), author=f"proc-{os.getpid()}")
        hits = kb.search("depth filter pressure", k=3)
        return {"added": report.added, "rejected": report.rejected, "hits": len(hits)}


def test_parallel_imports_keep_every_row(tmp_path: Path, embedder) -> None:
    home = tmp_path / "kb"
    files = [write_csv(tmp_path / f"p{n}.csv", f"P{n}", ROWS_PER_PROCESS) for n in range(PROCESSES)]
    ctx = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    pool = ctx.Pool(PROCESSES)
    try:
        results = pool.starmap(_import_worker, [(str(home), str(f)) for f in files])
    finally:
        pool.close()
        pool.join()
    seconds = time.perf_counter() - start
    assert [r["added"] for r in results] == [ROWS_PER_PROCESS] * PROCESSES
    assert all(r["rejected"] == 0 and r["hits"] == 3 for r in results)

    state = committed_state(home)
    expected = {f"P{n}-{i}" for n in range(PROCESSES) for i in range(ROWS_PER_PROCESS)}
    assert state["ext_ids"] == expected and state["entries"] == len(expected)
    assert state["revisions"] == state["creates"] == state["vectors"] == len(expected)
    with KnowledgeBase(home, embedder=embedder) as kb:
        before = verify_knowledge_base(
            kb
        )  # the index file may be one save behind: a cache, caught up on open
        assert before["database"] == "ok" and before["audit_chain"] == "ok" and before["missing_vectors"] == 0
        kb.ensure_index()
        after = verify_knowledge_base(kb)
        assert after["ok"], after
        assert after["index"]["count"] == len(expected)
    print(f"\n{PROCESSES} processes imported {len(expected)} rows in {seconds:.1f} s (incl. model loads)")


# --- write rate of the store with several processes ---------------------------------------------------


STORE_WRITER = r"""
import os, sys, time
from pathlib import Path
from kb.models import Entry
from kb.storage.sqlite import Store

path, go = sys.argv[1], Path(sys.argv[2])
phases = [tuple(map(int, p.split("x"))) for p in sys.argv[3:]]  # WRITESxBATCH
store = Store(path)
for number, (writes, batch) in enumerate(phases):
    print("READY", flush=True)
    flag = go.with_name(f"{go.name}-{number}")
    while not flag.exists():  # all writers start each phase together
        time.sleep(0.001)
    start = time.time()
    for n in range(writes // batch):
        entries = [Entry(type="cue", text=f"{os.getpid()} cue {number}-{n}-{i} medium orange") for i in range(batch)]
        store.insert(entries, author=f"w{os.getpid()}")
    print("DONE", start, time.time(), writes, flush=True)
"""


def measure_store_writes(path: Path, processes: int, phases: list[tuple[int, int]]) -> list[float]:
    """Return entries written per second by `processes` writers for each (writes, batch size) phase."""
    go = path.with_name(f"go-{uuid.uuid4().hex}")
    args = [sys.executable, "-c", STORE_WRITER, str(path), str(go), *(f"{w}x{b}" for w, b in phases)]
    workers = [subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    rates = []
    try:
        for number in range(len(phases)):
            for w in workers:
                assert w.stdout is not None and w.stdout.readline().strip() == "READY"
            go.with_name(f"{go.name}-{number}").touch()
            spans = []
            for w in workers:
                assert w.stdout is not None
                _, start, end, count = w.stdout.readline().split()
                spans.append((float(start), float(end), int(count)))
            rates.append(sum(s[2] for s in spans) / (max(s[1] for s in spans) - min(s[0] for s in spans)))
        for w in workers:
            assert w.wait(timeout=60) == 0
    finally:
        for w in workers:
            w.kill()
    return rates


def test_store_write_rate_with_several_processes(tmp_path: Path) -> None:
    path = tmp_path / "kb" / "tacitkb.db"
    Store(path).close()
    single, batched = measure_store_writes(path, 4, [(150, 1), (1000, 100)])
    state = committed_state(path.parent)
    assert state["entries"] == 4 * 150 + 4 * 1000 == state["revisions"] == state["creates"]
    assert state["integrity"] == "ok"
    store = Store(path)
    assert verify_chain(store).ok
    store.close()
    report = {
        "processes": 4,
        "one_entry_per_transaction": round(single),
        "100_entries_per_transaction": round(batched),
    }
    print(f"\nstore writes/s: {json.dumps(report)}")
    assert single > 20 and batched > 200  # far below what was measured; catches a lock or fsync regression


# --- a process killed in the middle of an import ----------------------------------------------------------

KILL_IMPORT = r"""
import sys, time
from pathlib import Path
from kb.knowledge_base import KnowledgeBase
from ingest.importers import import_records

home, files, hang_at = Path(sys.argv[1]), sys.argv[2:-1], int(sys.argv[-1])
kb = KnowledgeBase(home)
kb.ensure_index()
original = kb.store.put_vectors
for number, name in enumerate(files):
    if number == hang_at:
        def hang(items, fingerprint):
            original(items, fingerprint)  # entries, revisions, audit events, vectors: written, not committed
            print("IN-TRANSACTION", flush=True)
            time.sleep(600)
        kb.store.put_vectors = hang
    report = import_records(kb, Path(name), author="importer")
    print("COMMITTED", number, report.added, flush=True)
"""


def run_until(args: list[str], marker: str, timeout: float = 240) -> tuple[subprocess.Popen, list[str]]:
    """Start a Python child and return it once it prints `marker` (the lines before it too)."""
    child = subprocess.Popen([sys.executable, "-c", *args], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            child.kill()
            pytest.fail(f"child ended before '{marker}': {lines}")
        lines.append(line.strip())
        if line.startswith(marker):
            return child, lines
    child.kill()
    pytest.fail(f"no '{marker}' within {timeout} s")


def test_sigkill_in_the_middle_of_an_import_loses_nothing_committed(tmp_path: Path, embedder) -> None:
    home = tmp_path / "kb"
    files = [str(write_csv(tmp_path / f"f{n}.csv", f"F{n}", 30)) for n in range(3)]
    child, lines = run_until([KILL_IMPORT, str(home), *files, "2"], "IN-TRANSACTION")
    wal = home / "tacitkb.db-wal"
    assert wal.exists() and wal.stat().st_size > 0  # the open transaction has written pages
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert lines[:2] == ["COMMITTED 0 30", "COMMITTED 1 30"]

    with KnowledgeBase(home, embedder=embedder) as kb:
        report = verify_knowledge_base(kb)
        assert report["database"] == "ok" and report["audit_chain"] == "ok" and report["missing_vectors"] == 0
        state = committed_state(home)
        committed = {f"F{n}-{i}" for n in range(2) for i in range(30)}
        assert state["ext_ids"] == committed  # both committed files whole, nothing of the killed one
        assert state["entries"] == state["revisions"] == state["creates"] == state["vectors"] == 60
        kb.ensure_index()
        assert kb.verify()["ok"] and kb.index.meta.count == 60
        assert kb.search("F1 observation 7", k=1, mode="keyword")[0].entry.ext_id == "F1-7"
        # The killed import can simply be run again: it adds exactly the missing rows.
        from ingest.importers import import_records

        again = import_records(kb, Path(files[2]), author="importer")
        assert again.added == 30 and kb.store.count() == 90 and kb.verify()["ok"]


# --- a process killed in the middle of saving the index -----------------------------------------------

KILL_SAVE = r"""
import os, sys, time
from pathlib import Path
import kb.files as files_module
from kb.knowledge_base import KnowledgeBase

class StoredVectorsOnly:
    # The real model's fingerprint and size: catching the index up only reads stored vectors.
    def __init__(self, fingerprint, dim):
        self.fingerprint, self.dim = fingerprint, dim
    def encode(self, texts):
        raise SystemExit("encode() must not be needed to repair or catch up the index")

home, fingerprint, dim = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
real_write = files_module.atomic_write
def torn(path, data, **kw):
    if path.name == "index.faiss.json":  # index.faiss is already replaced; its meta is half-written
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data[: len(data) // 2])
        print("IN-SAVE", flush=True)
        time.sleep(600)
    real_write(path, data, **kw)
files_module.atomic_write = torn
KnowledgeBase(home, embedder=StoredVectorsOnly(fingerprint, dim)).ensure_index()
"""


def test_sigkill_in_the_middle_of_an_index_save_is_repaired_from_stored_vectors(
    tmp_path: Path, embedder
) -> None:
    home = tmp_path / "kb"
    with KnowledgeBase(home, embedder=embedder) as kb:
        kb.add_many(
            [{"type": "cue", "text": f"first batch cue {i} about the G-Rex"} for i in range(10)], author="a"
        )
        kb.ensure_index()
    with KnowledgeBase(home, embedder=embedder) as kb:  # index not loaded: the file falls behind
        kb.add_many(
            [{"type": "fix", "text": f"second batch fix {i} for PEI haze"} for i in range(5)], author="a"
        )
    child, _ = run_until([KILL_SAVE, str(home), embedder.fingerprint, str(embedder.dim)], "IN-SAVE")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)

    with KnowledgeBase(home, embedder=embedder) as kb:
        report = kb.verify()
        assert report["database"] == "ok" and report["active_entries"] == 15
        assert report["index"]["state"].startswith("broken") and not report["ok"]  # found, not hidden
        kb.ensure_index()
        assert kb.last_index_repair and "meta says" in kb.last_index_repair
        assert kb.verify()["ok"] and kb.index.meta.count == 15
        assert kb.search("PEI haze fix", k=1)[0].entry.type == "fix"
    # A torn index file (half of it on disk) is found and repaired the same way.
    data = (home / "index.faiss").read_bytes()
    (home / "index.faiss").write_bytes(data[: len(data) // 2])
    with KnowledgeBase(home, embedder=embedder) as kb:
        assert kb.verify()["index"]["state"].startswith("broken")
        assert kb.reindex()["encoded"] == 0  # rebuilt from stored vectors, nothing re-encoded
        assert kb.verify()["ok"]


# --- a full disk ---------------------------------------------------------------------------------------


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None and sys.platform.startswith("linux")


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[bool]:
    """Mount a tmpfs of `size` at path and yield True, or yield False when mounting is not possible."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = False
    if _can_mount():
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        )
        mounted = done.returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(scope="module")
def disk_full(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[dict]:
    """Fill a knowledge base's disk with imports, then try to save the index; report what happened."""
    mount = tmp_path_factory.mktemp("disk") / "mnt"
    with small_disk(mount, "1536k") as real:
        home = mount / "kb"
        kb = KnowledgeBase(home, embedder=embedder)
        if not real:  # SQLITE_FULL without root: the same error code a full disk gives
            pages = kb.store.conn.execute("PRAGMA page_count").fetchone()[0]
            kb.store.conn.execute(f"PRAGMA max_page_count = {pages + 200}")
        committed, error = 0, None
        for batch in range(300):
            records = [
                {
                    "type": "cue",
                    "text": f"batch {batch} cue {i} " + uuid.uuid4().hex * 40,
                    "ext_id": f"B{batch}-{i}",
                }
                for i in range(10)
            ]
            try:
                kb.add_many(records, author="filler")
            except Exception as exc:  # noqa: BLE001 - what the user gets is what the tests check
                error = exc
                break
            committed += 10
        index_error = None
        if real:
            try:
                kb.reindex()
            except Exception as exc:  # noqa: BLE001
                index_error = exc
        else:
            import kb.retrieval.vector_index as index_module

            def no_space(path, data, **kw):
                raise OSError(errno.ENOSPC, "No space left on device", str(path))

            saved, index_module.atomic_write = index_module.atomic_write, no_space
            try:
                kb.reindex()
            except Exception as exc:  # noqa: BLE001
                index_error = exc
            finally:
                index_module.atomic_write = saved
        kb.close()
        state = committed_state(home)
        index_file = home / "index.faiss"
        index_loads = None
        if index_file.exists():
            try:
                VectorIndex.load(index_file)
                index_loads = True
            except KBError:
                index_loads = False
        print(
            f"\ndisk full simulated with {'a 1.5 MB tmpfs' if real else 'max_page_count + ENOSPC'}: {error!r}"
        )
        yield {
            "real": real,
            "error": error,
            "index_error": index_error,
            "committed": committed,
            "state": state,
            "index_loads": index_loads,
            "home": home,
        }


def test_disk_full_keeps_every_committed_entry_and_no_corruption(disk_full: dict) -> None:
    assert disk_full["error"] is not None and disk_full["committed"] > 0
    state = disk_full["state"]
    assert state["integrity"] == "ok"
    assert state["entries"] == disk_full["committed"]  # the failed batch left nothing behind
    assert state["entries"] == state["revisions"] == state["creates"] == state["vectors"]
    assert disk_full["index_error"] is not None
    assert disk_full["index_loads"] in (None, True)  # no torn index file: absent or whole


def test_disk_full_gives_a_clear_error(disk_full: dict) -> None:
    assert isinstance(disk_full["error"], KBError) and "disk is full" in str(disk_full["error"])


def test_disk_full_while_saving_the_index_gives_a_clear_error(disk_full: dict) -> None:
    error = disk_full["index_error"]
    assert isinstance(error, KBError) and "index" in str(error) and "space" in str(error).lower()


# --- a read-only database ------------------------------------------------------------------------------


def read_only_scenario(tmp_path: Path, embedder) -> dict:
    """Make a 3-entry knowledge base read-only (remount ro, or chmod), try to write, make it writable again."""
    mount = tmp_path / "ro"
    with small_disk(mount, "20m") as real:
        home = mount / "kb"
        with KnowledgeBase(home, embedder=embedder) as kb:
            kb.add_many([{"type": "cue", "text": f"read-only test cue {i}"} for i in range(3)], author="a")
            kb.ensure_index()
        if real:
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        elif os.geteuid() != 0:
            for p in home.iterdir():
                p.chmod(0o444)
            home.chmod(0o555)
        else:
            pytest.skip("root without mount: file modes cannot make a file read-only for root")
        print(
            f"\nread-only simulated with {'a tmpfs remounted ro' if real else 'chmod 444 file, 555 folder'}"
        )
        error = None
        try:
            with KnowledgeBase(home, embedder=embedder) as kb:
                kb.add({"type": "cue", "text": "this must not be stored"}, author="a")
        except Exception as exc:  # noqa: BLE001 - what the user gets is what the tests check
            error = exc
        finally:
            if real:
                subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)
            else:
                home.chmod(0o755)
                for p in home.iterdir():
                    p.chmod(0o644)
        return {"error": error, "state": committed_state(home)}


def test_read_only_database_refuses_writes_without_damage(tmp_path: Path, embedder) -> None:
    outcome = read_only_scenario(tmp_path, embedder)
    assert outcome["error"] is not None
    assert outcome["state"]["integrity"] == "ok" and outcome["state"]["entries"] == 3


def test_read_only_database_gives_a_clear_error(tmp_path: Path, embedder) -> None:
    error = read_only_scenario(tmp_path, embedder)["error"]
    assert isinstance(error, KBError) and "read-only" in str(error)


# --- uploads: wrong extensions, huge files, path-like names ---------------------------------------------


def test_wrong_extensions_and_missing_files_are_rejected_clearly(kb: KnowledgeBase, tmp_path: Path) -> None:
    from ingest.document_import import import_document
    from ingest.importers import import_records

    for name in ("data.exe", "data.csv.exe", "data", "data.xlsx", "passwd"):
        path = tmp_path / name
        path.write_text("type,text\ncue,hello\n")
        with pytest.raises(KBError, match="unsupported record format"):
            import_records(kb, path, author="a")
        with pytest.raises(KBError, match="unsupported file type"):
            import_document(kb, path, author="a")
    for name in ("../../etc/passwd.csv", "/etc/passwd.csv", "../../../../../../etc/shadow.jsonl"):
        with pytest.raises(KBError, match="no such file"):
            import_records(kb, Path(name), author="a")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(KBError, match="no such file"):
        import_records(kb, tmp_path / "folder.csv", author="a")
    # A link disguised as a CSV: read like any CSV, and /etc/passwd has no 'text' column: refused as a whole.
    (tmp_path / "link.csv").symlink_to("/etc/passwd")
    with pytest.raises(KBError, match="no text column"):
        import_records(kb, tmp_path / "link.csv", author="a", default_type="cue")
    assert kb.store.count(status=None) == 0


def test_huge_documents_are_rejected_clearly(kb: KnowledgeBase, tmp_path: Path) -> None:
    from ingest.document_import import import_document
    from ingest.documents import MAX_FILE_BYTES

    big = tmp_path / "big.md"
    with big.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: huge on paper, no disk used
    with pytest.raises(KBError, match="larger than the"):
        import_document(kb, big, author="a")
    assert kb.store.count(status=None) == 0


def test_huge_record_files_are_rejected_clearly(kb: KnowledgeBase, tmp_path: Path, monkeypatch) -> None:
    import ingest.importers as importers

    monkeypatch.setattr(importers, "MAX_RECORD_FILE_BYTES", 1024 * 1024)
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.write(b"type,text\n")
        fh.truncate(2 * 1024 * 1024)
    with pytest.raises(KBError, match="larger than the"):
        importers.import_records(kb, big, author="a")
    assert kb.store.count(status=None) == 0


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.csv",
        "/etc/passwd.csv",
        "..\\..\\win.csv",
        "a/b.csv",
        "..",
        "",
        "x.csv\x00.exe",
        "x.exe",
    ],
)
def test_path_like_upload_names_are_rejected_clearly(name: str) -> None:
    from ingest.importers import safe_upload_name

    assert safe_upload_name("deviations 2024.csv") == "deviations 2024.csv"
    with pytest.raises(KBError, match="plain file name|unsupported file type"):
        safe_upload_name(name)
