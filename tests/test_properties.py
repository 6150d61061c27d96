"""Property-based tests (hypothesis): importers, template answers and search queries either work or fail
with a clear KBError, and a failure leaves the knowledge base exactly as it was.

Inputs include FTS5 and SQL metacharacters, quotes, NUL, right-to-left marks, emoji, empty and
whitespace-only cells, cells over the 1,000,000-character limit and texts long enough to be chunked.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.importers import MAX_FIELD_CHARS, import_records
from ingest.templates import SHIPPED_TEMPLATES_DIR, fill_template, load_templates
from ingest.vocabulary import SHIPPED_VOCABULARY, load_vocabulary
from kb.governance.audit import verify_chain
from kb.knowledge_base import KnowledgeBase
from kb.models import ENTRY_TYPES, KBError
from kb.retrieval.search import SearchFilters
from tests.ingest.test_templates import ANSWERS, context_for

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
METACHARS = [
    '"',
    "'",
    '""',
    "'; DROP TABLE entries; --",
    "NEAR(filter pump, 2)",
    "filter* OR pump",
    "-filter",
    "^start",
    "text:haze",
    "(",
    ")",
    "AND",
    "OR NOT",
    "\\",
    "%_%",
    "\x00",
    "\u202e",
    "😀🧫",
    "NULL",
    "=1+1",
    "\r\n",
    "\t",
    "\ufeff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "Ünïcødé ñ 日本語 العربية",
    "{}",
    "[1,2",
]
meta = st.sampled_from(METACHARS)
words = st.lists(st.one_of(st.text(min_size=1, max_size=12), meta), max_size=8).map(" ".join)
sentence = st.lists(
    st.one_of(st.sampled_from(["haze", "filter", "pump", "Ünïcødé"]), meta), min_size=1, max_size=6
).map(" ".join)
huge = st.builds(
    lambda ch, extra: ch * (MAX_FIELD_CHARS + extra), st.sampled_from("aé;'\""), st.integers(1, 5)
)
long_text = st.builds(
    lambda w, n: (w + " ") * n, st.sampled_from(["filter", "Ünïcødé", "NEAR", '"q"']), st.integers(1400, 2000)
)
cell = st.one_of(
    words, words, words, meta, st.just(""), st.just("   "), st.text(max_size=80), long_text, huge
)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy, bad_share: int = 4) -> st.SearchStrategy:
    """Draw from `good`, and one time in `bad_share` from `bad` (one_of would flatten `bad`'s branches)."""
    return st.integers(0, bad_share - 1).flatmap(lambda i: bad if i == 0 else good)


def snapshot(kb: KnowledgeBase) -> tuple:
    """Return what a failed operation must not change."""
    conn = kb.store.conn
    return (
        kb.store.version(),
        conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM revisions").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM links").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0],
    )


def test_csv_import_with_random_cells_works_or_fails_cleanly(kb: KnowledgeBase, tmp_path: Path) -> None:
    counter = iter(range(10_000))
    added = [0]

    @SETTINGS
    @given(
        rows=st.lists(
            st.fixed_dictionaries(
                {
                    # Mostly plausible values, so that many rows are stored; the rest anything at all.
                    "type": mostly(st.sampled_from([*ENTRY_TYPES, "Deviation", " fix ", "CUE"]), cell),
                    "text": mostly(st.one_of(sentence, st.text(min_size=1, max_size=80)), cell, 3),
                    "process": mostly(st.sampled_from(["", "LVV", "CAR-T"]), cell),
                    "ext_id": st.one_of(st.just(""), st.text(max_size=8), meta),
                    "occurred_at": mostly(st.one_of(st.just(""), st.dates().map(str)), cell),
                    "severity": mostly(st.sampled_from(["", "minor", "MAJOR", "critical"]), cell),
                }
            ),
            min_size=1,
            max_size=4,
        ),
        extra_header=st.one_of(st.none(), meta, st.text(max_size=10)),
    )
    def check(rows: list[dict[str, str]], extra_header: str | None) -> None:
        path = tmp_path / f"in{next(counter)}.csv"
        header = ["type", "text", "process", "ext_id", "occurred_at", "severity"]
        if extra_header is not None:
            header.append(extra_header)
        with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in rows:
                writer.writerow([row.get(h, "x") for h in header])
        before = snapshot(kb)
        try:
            report = import_records(kb, path, author="hypothesis")
        except KBError:
            assert snapshot(kb) == before
            return
        assert report.added + report.updated + report.duplicates + report.rejected == report.rows
        assert len(report.errors) == report.rejected
        readable = all(len(str(v)) < csv.field_size_limit() for row in rows for v in row.values())
        texts = {row["text"].strip() for row in rows}
        for record in report.records:
            if record["status"] == "added":
                stored = kb.get(record["id"])
                assert stored.text.strip() and stored.type in ENTRY_TYPES
                assert len(stored.text) <= MAX_FIELD_CHARS
                # Every stored text is one of the file's text cells: nothing from inside a cell becomes a row.
                # (Cells over csv.field_size_limit() break that today: see test_a_cell_over_the_csv_field_limit...)
                assert stored.text in texts or not readable
        added[0] += report.added

    check()
    assert added[0] > 0  # the inputs were not all rejected: the success path was exercised too
    assert verify_chain(kb).ok
    kb.ensure_index()
    assert kb.verify()["ok"]


def test_a_cell_over_the_csv_field_limit_never_turns_into_rows(tmp_path: Path) -> None:
    from ingest.importers import read_records

    long_cell = "a" * 150_000 + "\ncue,row smuggled inside a cell\n" + "b" * 10
    path = tmp_path / "big_cell.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["type", "text"])
        writer.writerow(["cue", long_cell])  # long, but under MAX_FIELD_CHARS: one entry
        writer.writerow(["cue", "the real second row"])
        writer.writerow(["cue", "x" * (MAX_FIELD_CHARS + 1)])  # over the limit: rejected by name
        writer.writerow(["cue", "the row after the huge one"])
    parsed = read_records(path)
    assert [d.text for _, d in parsed.drafts] == [
        long_cell,
        "the real second row",
        "the row after the huge one",
    ]
    assert [(r.row, r.field) for r in parsed.rejects] == [(4, "text")]
    assert "over the limit of 1000000" in parsed.rejects[0].message


def test_random_bytes_as_record_files_work_or_fail_cleanly(kb: KnowledgeBase, tmp_path: Path) -> None:
    counter = iter(range(10_000))

    @SETTINGS
    @given(
        data=st.one_of(
            st.binary(max_size=400),
            st.lists(st.one_of(meta, st.text(max_size=30)), max_size=6).map(
                lambda p: "\n".join(p).encode("utf-8", "surrogatepass")
            ),
            st.builds(lambda body: b"type,text\n" + body, st.binary(max_size=200)),
            st.builds(lambda body: b'{"type": "cue", "text": ' + body + b"}\n", st.binary(max_size=60)),
        ),
        suffix=st.sampled_from([".csv", ".jsonl", ".ndjson"]),
    )
    def check(data: bytes, suffix: str) -> None:
        path = tmp_path / f"raw{next(counter)}{suffix}"
        path.write_bytes(data)
        before = snapshot(kb)
        try:
            report = import_records(kb, path, author="hypothesis", default_type="cue")
        except KBError:
            assert snapshot(kb) == before
            return
        assert report.added + report.updated + report.duplicates + report.rejected == report.rows

    check()
    assert verify_chain(kb).ok


TEMPLATES, _ = load_templates([SHIPPED_TEMPLATES_DIR], vocabulary=load_vocabulary([SHIPPED_VOCABULARY]))
VOCABULARY = load_vocabulary([SHIPPED_VOCABULARY])
value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    meta,
    st.dates().map(str),
    st.lists(st.one_of(st.text(max_size=10), meta), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.text(max_size=6), meta), max_size=2),
    long_text,
)


def test_template_answers_work_or_fail_cleanly(kb: KnowledgeBase) -> None:
    outcomes = {"filled": 0, "refused": 0}

    @SETTINGS
    @given(data=st.data())
    def check(data: Any) -> None:
        template_id = data.draw(st.sampled_from(sorted(ANSWERS)))
        template = TEMPLATES[template_id]
        names = [f.name for f in template.fields] + ["probes", "not_a_field"]
        overrides = data.draw(st.dictionaries(st.sampled_from(names), value, max_size=3))
        answers = copy.deepcopy(ANSWERS[template_id]) | overrides
        before = snapshot(kb)
        try:
            drafts = fill_template(template, answers, VOCABULARY, context_for(template_id))
        except KBError as exc:
            assert str(exc) and snapshot(kb) == before
            outcomes["refused"] += 1
            return
        outcomes["filled"] += 1
        try:
            result = kb.add_many(drafts, author="hypothesis")
        except KBError:
            assert snapshot(kb) == before
            return
        for kind, entry in result.outcomes:
            assert kind in ("added", "updated", "duplicate") and kb.get(entry.id).text == entry.text

    check()
    assert outcomes["filled"] and outcomes["refused"]  # both paths were exercised
    assert verify_chain(kb).ok


def test_search_queries_work_or_fail_cleanly(sample_kb: KnowledgeBase) -> None:
    sample_kb.ensure_index()

    @SETTINGS
    @given(
        query=st.one_of(words, meta, st.text(max_size=200), long_text),
        mode=st.sampled_from(["hybrid", "dense", "keyword", "fuzzy"]),
        k=st.integers(min_value=-2, max_value=60),
        site=st.one_of(st.none(), st.sampled_from(["LEI", "cam"]), meta, st.text(max_size=8)),
        since=st.one_of(st.none(), st.dates().map(str), meta, st.text(max_size=12)),
        types=st.lists(st.one_of(st.sampled_from(ENTRY_TYPES), meta), max_size=2),
    )
    def check(query: str, mode: str, k: int, site: str | None, since: str | None, types: list[str]) -> None:
        before = snapshot(sample_kb)
        try:
            hits = sample_kb.search(
                query, k=k, mode=mode, filters=SearchFilters(types=types, site=site, since=since)
            )
        except KBError as exc:
            assert str(exc)
        else:
            assert len(hits) <= k and [h.rank for h in hits] == list(range(1, len(hits) + 1))
            assert len({h.entry.id for h in hits}) == len(hits)
        assert snapshot(sample_kb) == before

    check()


def test_search_edge_queries_do_not_crash(sample_kb: KnowledgeBase) -> None:
    for bad in ("", "   ", "\x00", '"', "NEAR(", "*", "AND OR NOT", "'; DROP TABLE entries; --"):
        for mode in ("hybrid", "dense", "keyword"):
            assert isinstance(sample_kb.search(bad, k=5, mode=mode), list)
    assert sample_kb.store.count() > 0
