"""Shared helpers for the benchmarks: real data loaders, machine facts, timing, tables, docs sections.

Real data is read from ../shared/data (relative to the project root) and never copied into the
repository; knowledge bases and caches built by the benchmarks live under /tmp/tacitkb-bench
(override with TACITKB_BENCH_DIR).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import platform
import re
import resource
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TACITKB_BENCH_DATA", REPO.parent / "shared" / "data"))
MAINTNET_CSV = SHARED_DATA / "maintnet" / "maintnet_aircraft_problem_action.csv"
FDA_CSV = SHARED_DATA / "fda_recalls" / "fda_drug_enforcement_reports_2012-2026.csv"
SAMPLES_DIR = REPO / "data" / "samples"
DOCS = REPO / "docs" / "benchmarks.md"
RESULTS = REPO / "bench" / "results"  # raw JSON, git-ignored
WORK = Path(os.environ.get("TACITKB_BENCH_DIR", "/tmp/tacitkb-bench"))


class MissingData(RuntimeError):
    """The shared real data is not where the benchmarks expect it."""


# -- real data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaintRecord:
    """One MaintNet logbook record."""

    ident: str
    problem: str
    action: str


@dataclass(frozen=True)
class FdaRecall:
    """One FDA recall event (deduplicated on Event ID)."""

    event_id: str
    reason: str
    classification: str
    firm: str
    initiated: str


def _require(path: Path) -> None:
    if not path.is_file():
        raise MissingData(f"{path} is missing: the benchmarks read real data from ../shared/data")


def load_maintnet() -> list[MaintRecord]:
    """Return the MaintNet records in file order (blank PROBLEM or ACTION rows dropped)."""
    _require(MAINTNET_CSV)
    with MAINTNET_CSV.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        problem, action = (r.get("PROBLEM") or "").strip(), (r.get("ACTION") or "").strip()
        if problem and action:
            out.append(MaintRecord(r["IDENT"].strip(), problem, action))
    return out


def load_fda() -> list[FdaRecall]:
    """Return one record per FDA recall event (first product row of each Event ID), in file order."""
    _require(FDA_CSV)
    seen: dict[str, FdaRecall] = {}
    with FDA_CSV.open(encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            event, reason = r["Event ID"].strip(), " ".join((r["Reason for Recall"] or "").split())
            if not event or not reason or event in seen:
                continue
            seen[event] = FdaRecall(
                event,
                reason,
                r.get("Classification", "").strip(),
                r.get("Recalling Firm", "").strip(),
                (r.get("Recall Initiation Date") or "").strip()[:10],
            )
    return list(seen.values())


def maint_text(r: MaintRecord) -> str:
    """Return a MaintNet record as one entry text: problem, then what was done."""
    return f"{r.problem} ACTION: {r.action}"


def real_records(n: int | None = None) -> list[dict[str, Any]]:
    """Return up to n entry dicts from real text: MaintNet records then FDA recall reasons, distinct texts.

    The two sources are interleaved (about 6:4) so that any prefix has both styles of text.
    """
    maint = [
        {"ext_id": f"MN-{r.ident}", "type": "fix", "text": maint_text(r), "tags": ["maintnet"]}
        for r in load_maintnet()
    ]
    fda = [
        {
            "ext_id": f"FDA-{r.event_id}",
            "type": "deviation",
            "text": r.reason,
            "occurred_at": r.initiated or None,
            "severity": {"Class I": "critical", "Class II": "major", "Class III": "minor"}.get(
                r.classification
            ),
            "fields": {"firm": r.firm},
            "tags": ["fda"],
        }
        for r in load_fda()
    ]
    out, seen = [], set()
    mi = fi = 0
    while mi < len(maint) or fi < len(fda):
        take_maint = fi >= len(fda) or (mi < len(maint) and mi * 4 <= fi * 6)
        rec = maint[mi] if take_maint else fda[fi]
        if take_maint:
            mi += 1
        else:
            fi += 1
        key = rec["text"].casefold()
        if key in seen:
            continue
        seen.add(key)
        out.append({k: v for k, v in rec.items() if v is not None})
        if n is not None and len(out) >= n:
            break
    return out


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> Path:
    """Write records as JSON lines and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def load_sample_entries() -> list[dict[str, Any]]:
    """Return data/samples/entries.jsonl as dicts."""
    path = SAMPLES_DIR / "entries.jsonl"
    _require(path)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- the model and cached vectors -----------------------------------------------------------------


def embedder():  # noqa: ANN201 - kb.embed types
    """Return the pinned, verified embedder (loaded once per process)."""
    from kb.retrieval.embed import load_embedder

    return load_embedder()


def cached_encode(texts: Sequence[str], emb: Any | None = None) -> np.ndarray:
    """Return vectors for texts, cached under WORK/cache by model fingerprint and text hash."""
    emb = emb or embedder()
    digest = hashlib.sha256(("\x00".join(texts) + "\x01" + emb.fingerprint).encode("utf-8")).hexdigest()
    path = WORK / "cache" / f"vec-{digest[:24]}.npy"
    if path.is_file():
        return np.load(path)
    vectors = emb.encode(list(texts))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


class TimingEmbedder:
    """Wraps the real embedder and adds up the time spent in encode (and the texts it saw)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fingerprint = inner.fingerprint
        self.dim = inner.dim
        self.seconds = 0.0
        self.texts = 0
        self.chars = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        t0 = time.perf_counter()
        out = self.inner.encode(texts)
        self.seconds += time.perf_counter() - t0
        self.texts += len(texts)
        self.chars += sum(len(t) for t in texts)
        return out


# -- machine facts, timing, memory -----------------------------------------------------------------


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    """Return total RAM in GiB from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def loadavg() -> str:
    """Return the 1/5/15-minute load averages as text."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine_info() -> dict[str, Any]:
    """Return the facts a benchmark result is meaningless without."""
    import faiss
    import torch

    try:
        import sentence_transformers

        st_version = sentence_transformers.__version__
    except Exception:  # pragma: no cover
        st_version = "n/a"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "ram_gib": round(ram_gib(), 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "numpy": np.__version__,
        "sentence_transformers": st_version,
        "sqlite": sqlite3.sqlite_version,
        "loadavg_start": loadavg(),
    }


def machine_line(info: dict[str, Any]) -> str:
    """Return the machine facts as one markdown paragraph."""
    return (
        f"Run {info['date']} on {info['nproc']} cores ({info['cpu']}), {info['ram_gib']} GiB RAM; "
        f"Python {info['python']}, torch {info['torch']} ({info['torch_threads']} threads), "
        f"faiss {info['faiss']}, numpy {info['numpy']}, sentence-transformers {info['sentence_transformers']}, "
        f"SQLite {info['sqlite']}. Load average at start {info['loadavg_start']}"
        + (f", at end {info['loadavg_end']}" if info.get("loadavg_end") else "")
        + " (other processes were running when the 1-minute value is above ~0.3)."
    )


def peak_rss_mib() -> float:
    """Return this process's peak resident set size in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Return this process's current resident set size in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Return (seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    """Return p50/p95/mean in milliseconds."""
    a = np.asarray(samples_s, dtype=float) * 1000
    return {
        "p50_ms": float(np.percentile(a, 50)),
        "p95_ms": float(np.percentile(a, 95)),
        "mean_ms": float(a.mean()),
        "n": int(len(a)),
    }


def dir_size_mib(path: Path) -> float:
    """Return the size of a file or a folder's files in MiB."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# -- output ---------------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    """Return a value formatted for a table cell."""
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Return a markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines)


_DOC_HEAD = """# Benchmarks

Speed, scale and retrieval quality of TacitKB, side by side with the alternatives. Every section is
written by its benchmark (`.venv/bin/python -m bench.<name>`) and says on which machine and when it ran;
`.venv/bin/python -m bench.smoke` runs all of them at a tiny size (no docs written). Benchmarks read real
data from `../shared/data` and build their knowledge bases under `/tmp/tacitkb-bench` (about 6 GB with
the 1M base, which takes ~50 min to build and is reused by later runs; `rm -rf /tmp/tacitkb-bench` frees it).
Optional comparison packages: `.venv/bin/pip install -r bench/requirements.txt`.

"""

SECTION_ORDER = (
    "summary",
    "findings",
    "ingest",
    "latency",
    "startup",
    "quality",
    "learning",
    "learning_latency",
    "compare",
    "cluster",
    "twoservers",
    "postgres",
    "postgres_import",
)


def write_section(name: str, body: str, *, docs: Path | None = None) -> Path:
    """Replace (or add) the section `name` of docs/benchmarks.md, keeping the other sections."""
    docs = docs or DOCS
    text = docs.read_text(encoding="utf-8") if docs.exists() else _DOC_HEAD
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        # Insert in the canonical order, before the first later section present.
        later = list(
            SECTION_ORDER[SECTION_ORDER.index(name) + 1 :] if name in SECTION_ORDER else SECTION_ORDER
        )
        pos = min(
            (text.index(f"<!-- bench:{s}:start -->") for s in later if f"<!-- bench:{s}:start -->" in text),
            default=None,
        )
        text = (
            text.rstrip() + "\n\n" + block + "\n" if pos is None else text[:pos] + block + "\n\n" + text[pos:]
        )
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text, encoding="utf-8")
    return docs


def save_result(name: str, data: dict[str, Any]) -> Path:
    """Write a benchmark's raw numbers to bench/results/<name>.json (git-ignored)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return path


def say(*parts: Any) -> None:
    """Print progress to stderr (tables go to stdout)."""
    print(*parts, file=sys.stderr, flush=True)


class CachingEmbedder:
    """An embedder that remembers vectors per text (SQLite under WORK/cache), for quality runs.

    Same fingerprint and dim as the real model, so knowledge bases built with it are identical to ones
    built without it; only the speed benchmarks must not use it.
    """

    def __init__(self, inner: Any | None = None, path: Path | None = None) -> None:
        self.inner = inner or embedder()
        self.fingerprint = self.inner.fingerprint
        self.dim = self.inner.dim
        path = path or WORK / "cache" / "vectors.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS v (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self.encoded = 0

    def _key(self, text: str) -> str:
        return hashlib.sha256((self.fingerprint + "\x00" + text).encode("utf-8")).hexdigest()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return vectors, encoding only texts not seen before."""
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self.conn.execute(f"SELECT key, vec FROM v WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype="<f4")
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        if todo:
            text_of = dict(zip(keys, texts, strict=True))
            vectors = self.inner.encode([text_of[k] for k in todo])
            self.encoded += len(todo)
            with self.conn:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO v(key, vec) VALUES (?, ?)",
                    [(k, np.asarray(v, dtype="<f4").tobytes()) for k, v in zip(todo, vectors, strict=True)],
                )
            found.update(zip(todo, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(np.vstack([found[k] for k in keys]), dtype=np.float32)
