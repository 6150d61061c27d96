"""QA over a real knowledge base: clusters from stored vectors, the planted drift episode, the report."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.analytics.quality import (
    cluster_rows,
    current_clusters,
    deviation_map,
    drift_report,
    latest_clusters,
    run_clustering,
)
from kb.analytics.report import write_report
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError


@pytest.fixture
def qa_kb(sample_kb_dir, tmp_path, embedder):
    home = tmp_path / "kb"
    shutil.copytree(sample_kb_dir, home)
    base = KnowledgeBase(home, embedder=embedder)
    yield base
    base.close()


def test_planted_drift_episode_is_found(qa_kb):
    report = drift_report(qa_kb)
    rising = [s for s in report.signals if s.kind == "rising"]
    assert rising, "the planted rise in depth-filter blockages must signal"
    top = max(rising, key=lambda s: len(s.entry_ids))
    entries = [qa_kb.get(i) for i in top.entry_ids]
    assert Counter(e.step for e in entries).most_common(1)[0][0] == "clarification"
    assert sum(e.site == "LEI" for e in entries) / len(entries) >= 0.7
    assert "2025-02" <= top.start_period <= "2025-05"
    assert top.statistic > top.threshold
    assert report.false_alarm_rate["total_per_year"] == pytest.approx(1.0)


def test_clustering_is_deterministic_and_stored(qa_kb):
    from kb.analytics.clustering import cluster_deviations
    from kb.analytics.quality import cluster_input

    data = cluster_input(qa_kb)
    ids, texts = [e.id for e in data.entries], [e.search_text() for e in data.entries]
    a = cluster_deviations(ids, data.vectors, texts)
    b = cluster_deviations(ids[::-1], data.vectors[::-1], texts[::-1])
    assert [(c.id, c.member_ids) for c in a.clusters] == [(c.id, c.member_ids) for c in b.clusters]
    assert len(a.unclustered_ids) <= 0.15 * a.n_items

    first = run_clustering(qa_kb)
    stored = latest_clusters(qa_kb)
    assert stored.run_id == first.run_id and stored.fingerprint == qa_kb.embedder.fingerprint
    assert [(c.id, c.member_ids) for c in stored.clusters] == [(c.id, c.member_ids) for c in first.clusters]
    assert current_clusters(qa_kb).run_id == first.run_id, "an up-to-date run is reused"
    again = run_clustering(qa_kb)
    assert [c.id for c in again.clusters] == [c.id for c in first.clusters], "re-running keeps every id"


def test_cluster_ids_stay_stable_when_deviations_arrive(qa_kb):
    before = run_clustering(qa_kb)
    new = [
        {
            "type": "deviation",
            "process": "CAR-T",
            "step": "formulation",
            "site": "LEI",
            "occurred_at": f"2025-08-{d:02d}",
            "text": f"Label printer {what} during final bag labelling; labels reprinted and reconciled (case {d}).",
        }
        for d, what in zip(
            range(10, 18),
            [
                "jammed",
                "smeared ink",
                "skipped a label",
                "misfed",
                "jammed again",
                "printed blank labels",
                "lost its ribbon",
                "stalled",
            ],
            strict=True,
        )
    ]
    added = qa_kb.add_many(new, author="qa").added
    after = current_clusters(qa_kb)
    assert after.run_id != before.run_id
    old = {c.id: set(c.member_ids) for c in before.clusters}
    now = {c.id: set(c.member_ids) for c in after.clusters}
    # Established clusters (8+ members) keep their ids and most members; a small cluster may be absorbed.
    established = [cid for cid in old if len(old[cid]) >= 8]
    kept = [cid for cid in established if cid in now and len(old[cid] & now[cid]) >= 0.6 * len(old[cid])]
    assert len(established) >= 5 and len(kept) == len(established), "established clusters keep their ids"
    gone = set(old) - set(now)
    explained = {cid for e in after.events for cid in e.old_ids}
    assert gone <= explained, "a cluster that disappears is recorded as merged, split or vanished"
    placed = set().union(*now.values()) | set(after.unclustered_ids)
    assert {e.id for e in added} <= placed


def test_rows_map_and_report(qa_kb, tmp_path):
    result = current_clusters(qa_kb)
    rows = cluster_rows(qa_kb, result)
    assert sum(r["size"] for r in rows) + len(result.unclustered_ids) == result.n_items
    assert all(r["first_seen"] <= r["last_seen"] for r in rows)
    points = deviation_map(qa_kb, result)
    assert len(points) == result.n_items and points == deviation_map(qa_kb, result)
    html = write_report(qa_kb, tmp_path / "qa.html").read_text()
    assert "rising" in html and "data:image/png;base64," in html and "chance signal" in html
    md = write_report(qa_kb, tmp_path / "md" / "qa.md")
    assert "![C-" in md.read_text() and any((tmp_path / "md" / "qa_charts").iterdir())
    with pytest.raises(KBError, match="--out"):
        write_report(qa_kb, tmp_path / "qa.pdf")


def test_too_few_deviations_is_a_clear_error(kb):
    kb.add({"type": "deviation", "text": "one lonely deviation"}, author="a")
    with pytest.raises(KBError, match="at least 6"):
        run_clustering(kb)


def test_qa_commands(qa_kb, tmp_path):
    runner = CliRunner()
    base = ["--kb", str(qa_kb.home)]
    out = runner.invoke(cli, [*base, "clusters", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["clusters"] and {"id", "label", "size", "members", "first_seen", "last_seen", "sites"} <= set(
        data["clusters"][0]
    )
    out = runner.invoke(cli, [*base, "drift", "--json", "--period", "month"])
    assert out.exit_code == 0 and any(s["kind"] == "rising" for s in json.loads(out.output)["signals"])
    out = runner.invoke(cli, [*base, "drift"])
    assert "rose from" in out.output and "chance signals per year" in out.output
    out = runner.invoke(cli, [*base, "drift", "--json", "--known-gap", "2024-06"])
    assert "2024-06" in json.loads(out.output)["counts"]["gaps"]
    out = runner.invoke(cli, [*base, "drift", "--since", "soon"])
    assert out.exit_code == 1 and "--since" in out.output
    out = runner.invoke(cli, [*base, "report", "--out", str(tmp_path / "r.html")])
    assert out.exit_code == 0 and (tmp_path / "r.html").exists()
