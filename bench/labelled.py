"""The labelled retrieval sets (samples, cgt_dev, MaintNet), their knowledge bases and the metrics.

The knowledge bases search as the CLI and the app do: with the vocabulary's query expansion.

- samples: bench/queries_samples.jsonl over data/samples (written together with the product).
- cgt_dev: ../shared/data/cgt_dev (written independently; graded 2/1/0, see its README).
- MaintNet: problem -> fix over ../shared/data/maintnet (derived labels, see `maintnet_set`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO, SHARED_DATA, WORK, MissingData, load_maintnet
from ingest.vocabulary import QueryExpander

QUERIES_SAMPLES = REPO / "bench" / "queries_samples.jsonl"
CGT_DIR = SHARED_DATA / "cgt_dev"


@dataclass
class Query:
    """One labelled query: `relevant` are the answers (grade 2 on graded sets), `grades` all graded ids."""

    id: str
    text: str
    relevant: set[str]
    notes: str = ""
    grades: dict[str, int] = field(default_factory=dict)

    def gain(self, ext_id: str) -> int:
        """Return the graded gain of an entry for this query (binary sets: 1 for relevant)."""
        if self.grades:
            return self.grades.get(ext_id, 0)
        return 1 if ext_id in self.relevant else 0


@dataclass
class LabelledSet:
    """A knowledge base, its labelled queries and the records it was built from (for txtai)."""

    name: str
    kb: Any
    queries: list[Query]
    records: list[dict[str, Any]]


# -- metrics --------------------------------------------------------------------------------------


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10, query: Query | None = None) -> float:
    """nDCG@k with linear gains (the query's grades if it has them, else 1 for each relevant id)."""
    gains = (
        sorted(query.grades.values(), reverse=True)
        if query is not None and query.grades
        else [1] * len(relevant)
    )

    def gain(doc: str) -> int:
        return query.gain(doc) if query is not None else int(doc in relevant)

    dcg = sum(gain(doc) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Recall@k, capped: found / min(k, |relevant|), so a query with 30 relevant entries can reach 1."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / min(k, len(relevant))


def evaluate(rankings: dict[str, list[str]], queries: Sequence[Query], k: int = 10) -> dict[str, float]:
    """Return mean nDCG@k and recall@k over queries."""
    nd = [ndcg_at(rankings[q.id], q.relevant, k, q) for q in queries]
    rc = [recall_at(rankings[q.id], q.relevant, k) for q in queries]
    return {"ndcg@10": float(np.mean(nd)), "recall@10": float(np.mean(rc)), "n": len(queries)}


def per_query_ndcg(rankings: dict[str, list[str]], queries: Sequence[Query]) -> np.ndarray:
    """Return nDCG@10 per query, in query order."""
    return np.array([ndcg_at(rankings[q.id], q.relevant, 10, q) for q in queries])


def paired(a: np.ndarray, b: np.ndarray, seed: int = 0, n: int = 2000) -> dict[str, Any]:
    """Return b - a per query: better/worse/same counts, the mean and a paired-bootstrap 95% interval."""
    diff = b - a
    rng = np.random.default_rng(seed)
    boot = diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1) if len(diff) else np.zeros(1)
    return {
        "better": int((diff > 1e-9).sum()),
        "worse": int((diff < -1e-9).sum()),
        "same": int((np.abs(diff) <= 1e-9).sum()),
        "mean_diff": float(diff.mean()) if len(diff) else 0.0,
        "ci95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))],
    }


# -- labelled sets ---------------------------------------------------------------------------------


def norm(text: str) -> str:
    """Normalise a MaintNet field: upper case, punctuation to spaces, single spaces."""
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", text.upper()).split())


def maintnet_set(
    max_queries: int = 0, seed: int = 0, corpus_limit: int | None = None
) -> tuple[list[dict[str, Any]], list[Query]]:
    """Return (fix entries, queries) for MaintNet problem -> fix retrieval.

    Corpus: one `fix` entry per logbook record whose text is the ACTION only (what was done).
    Queries: each distinct normalised PROBLEM that occurs in at least two records.
    Relevant: the records logged against that same normalised PROBLEM (the fixes actually tried for it).
    """
    records = load_maintnet()
    entries = [{"ext_id": f"MN-{r.ident}", "type": "fix", "text": r.action} for r in records]
    by_problem: dict[str, list[str]] = defaultdict(list)
    first_text: dict[str, str] = {}
    for r in records:
        key = norm(r.problem)
        by_problem[key].append(f"MN-{r.ident}")
        first_text.setdefault(key, r.problem)
    keys = sorted(k for k, ids in by_problem.items() if len(ids) >= 2)
    if max_queries and max_queries < len(keys):
        keys = sorted(random.Random(seed).sample(keys, max_queries))
    queries = [Query(f"M{i:04d}", first_text[k], set(by_problem[k])) for i, k in enumerate(keys, 1)]
    if corpus_limit:  # smoke runs: the queries' relevant records plus the first others
        keep = {r for q in queries for r in q.relevant}
        entries = [e for i, e in enumerate(entries) if e["ext_id"] in keep or i < corpus_limit]
    return entries, queries


def samples_set(path: Path = QUERIES_SAMPLES) -> list[Query]:
    """Return the hand-written queries over data/samples."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Query(d["id"], d["query"], set(d["relevant"]), d.get("notes", "")))
    return out


def cgt_set(folder: Path = CGT_DIR) -> tuple[list[dict[str, Any]], list[Query]]:
    """Return (entries, graded queries) of the cgt_dev set (grade 2 = relevant, 1 = partially relevant)."""
    corpus, queries_csv = folder / "corpus.csv", folder / "queries.csv"
    for path in (corpus, queries_csv):
        if not path.is_file():
            raise MissingData(f"{path} is missing: the benchmarks read real data from ../shared/data")
    with corpus.open(encoding="utf-8", newline="") as fh:
        entries = [{k: v for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(fh)]
    queries = []
    with queries_csv.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rel = [x for x in row["relevant"].split(";") if x]
            part = [x for x in (row.get("partially_relevant") or "").split(";") if x]
            grades = {**{x: 1 for x in part}, **{x: 2 for x in rel}}
            queries.append(Query(row["qid"], row["query"], set(rel), grades=grades))
    return entries, queries


def samples_records() -> list[dict[str, Any]]:
    """Return data/samples/entries.jsonl as dicts."""
    path = REPO / "data" / "samples" / "entries.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


# -- knowledge bases -------------------------------------------------------------------------------


def samples_kb(emb: Any, *, rebuild: bool = False, limit: int | None = None):  # noqa: ANN201
    """Return a knowledge base loaded with data/samples (entries and links), built once under WORK.

    `limit` keeps only the first entries (for the smoke run).
    """
    from cli.common import load_samples
    from kb.knowledge_base import KnowledgeBase

    home = WORK / "quality" / f"samples{'-' + str(limit) if limit else ''}"
    stamp = home / "source.txt"
    src = (REPO / "data" / "samples" / "entries.jsonl").read_bytes()
    digest = hashlib.sha256(src).hexdigest()
    if rebuild or not stamp.is_file() or stamp.read_text() != digest:
        shutil.rmtree(home, ignore_errors=True)
        with KnowledgeBase(home, embedder=emb) as kb:
            if limit:
                from ingest.importers import import_records

                lines = src.decode("utf-8").splitlines()[:limit]
                part = home / "part.jsonl"
                part.write_text("\n".join(lines) + "\n", encoding="utf-8")
                import_records(kb, part, author="bench", reports_dir=home / "imports")
            else:
                load_samples(kb, "bench")
            kb.ensure_index()
        stamp.write_text(digest)
    kb = KnowledgeBase(home, embedder=emb, query_expander=QueryExpander())
    kb.ensure_index()
    return kb


def records_kb(emb: Any, name: str, entries: list[dict[str, Any]], *, rebuild: bool = False):  # noqa: ANN201
    """Return a knowledge base holding these entries, built once under WORK/quality/NAME."""
    from kb.knowledge_base import KnowledgeBase

    home = WORK / "quality" / name
    stamp = home / "source.txt"
    digest = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
    if rebuild or not stamp.is_file() or stamp.read_text() != digest:
        shutil.rmtree(home, ignore_errors=True)
        with KnowledgeBase(home, embedder=emb) as kb:
            kb.add_many(entries, author="bench")
            kb.ensure_index()
        stamp.write_text(digest)
    kb = KnowledgeBase(home, embedder=emb, query_expander=QueryExpander())
    kb.ensure_index()
    return kb


def check_labels(kb: Any, queries: Sequence[Query]) -> list[str]:
    """Return labelled ext_ids that are not in the knowledge base (labels out of date)."""
    wanted = sorted({r for q in queries for r in (q.grades or q.relevant)})
    return [r for r in wanted if kb.store.find_by_ext_id(r) is None]


def ext_ids(kb: Any) -> dict[int, str]:
    """Return ext_id (or id) per entry seq of a knowledge base."""
    return {int(e.id[3:]): e.ext_id or e.id for e in kb.store.iter_entries()}


def load_sets(
    emb: Any,
    *,
    max_maint: int = 0,
    rebuild: bool = False,
    sample_limit: int | None = None,
    maint_corpus_limit: int | None = None,
) -> list[LabelledSet]:
    """Return the three labelled sets with their knowledge bases (built once, reused by later runs)."""
    skb = samples_kb(emb, rebuild=rebuild, limit=sample_limit)
    squeries = samples_set()
    srecords = samples_records()
    if sample_limit:  # smoke: keep queries answerable inside the subset
        known = set(ext_ids(skb).values())
        squeries = [Query(q.id, q.text, q.relevant & known, q.notes) for q in squeries if q.relevant & known]
        srecords = srecords[:sample_limit]
    centries, cqueries = cgt_set()
    ckb = records_kb(emb, "cgt_dev", centries, rebuild=rebuild)
    mentries, mqueries = maintnet_set(max_maint, corpus_limit=maint_corpus_limit)
    mkb = records_kb(emb, "maintnet", mentries, rebuild=rebuild)
    return [
        LabelledSet("samples", skb, squeries, srecords),
        LabelledSet("cgt_dev", ckb, cqueries, centries),
        LabelledSet("MaintNet", mkb, mqueries, mentries),
    ]


def copy_kb(kb: Any, name: str, emb: Any) -> Any:
    """Return a fresh copy of a knowledge base under WORK/quality/NAME (for runs that write to it)."""
    from kb.knowledge_base import KnowledgeBase

    home = WORK / "quality" / name
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(kb.home, home)
    return KnowledgeBase(home, embedder=emb, query_expander=kb.query_expander)


__all__ = [
    "LabelledSet",
    "Query",
    "cgt_set",
    "evaluate",
    "load_sets",
    "maintnet_set",
    "ndcg_at",
    "paired",
    "recall_at",
    "samples_set",
]
