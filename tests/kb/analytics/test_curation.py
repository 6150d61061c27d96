"""QA curation of clusters: rename, merge, split; audited, kept across re-clustering; clear errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import cli
from kb.analytics import curation
from kb.analytics.clustering import ClusterResult, DeviationCluster
from kb.analytics.quality import cluster_input, curate, current_clusters, run_clustering
from kb.knowledge_base import KnowledgeBase
from kb.models import KBError


@pytest.fixture
def qa_kb(sample_kb_dir, tmp_path, embedder):
    home = tmp_path / "kb"
    shutil.copytree(sample_kb_dir, home)
    base = KnowledgeBase(home, embedder=embedder)
    yield base
    base.close()


def _tiny() -> tuple[ClusterResult, curation.Items]:
    ids = [f"KB-{i:06d}" for i in range(1, 6)]
    vecs = np.eye(5, dtype=np.float32)
    clusters = [
        DeviationCluster("C-001", ["a"], 3, ids[:3], ids[:1], vecs[:3].mean(axis=0)),
        DeviationCluster("C-002", ["b"], 1, ids[3:4], ids[3:4], vecs[3]),
    ]
    result = ClusterResult(clusters, ids[4:], {}, {}, {}, last_id_number=2, run_id="run-x")
    return result, curation.Items(ids, vecs, ["pump leak", "pump leak seal", "pump seal", "label", "x"])


def test_bad_curation_requests_are_refused_with_the_reason():
    result, items = _tiny()
    with pytest.raises(curation.CurationError, match="unknown cluster id 'C-009'.*C-001, C-002"):
        curation.rename(result, "C-009", "Pump leaks")
    with pytest.raises(curation.CurationError, match="with itself"):
        curation.merge(result, "C-001", ["C-001"], items)
    with pytest.raises(curation.CurationError, match="unknown cluster id 'C-007'"):
        curation.merge(result, "C-001", ["C-007"], items)
    with pytest.raises(curation.CurationError, match="1 member.*at least two"):
        curation.split(result, "C-002", items)
    with pytest.raises(curation.CurationError, match="empty"):
        curation.rename(result, "C-001", "   ")
    # Nothing was changed by the refused requests.
    assert [c.id for c in result.clusters] == ["C-001", "C-002"] and result.clusters[0].name is None


def test_merge_and_split_keep_every_member_once():
    result, items = _tiny()
    merged = curation.merge(result, "C-001", ["C-002"], items)
    assert [c.id for c in merged.clusters] == ["C-001"] and merged.clusters[0].size == 4
    assert merged.events[0].kind == "merge" and merged.diagnostics["curated"] == ["C-001"]
    parts = curation.split(merged, "C-001", items)
    assert sorted(c.id for c in parts.clusters) == ["C-001", "C-003"] and parts.last_id_number == 3
    members = [m for c in parts.clusters for m in c.member_ids]
    assert sorted(members) == sorted(merged.clusters[0].member_ids)


def test_curation_is_audited_and_survives_reclustering(qa_kb):
    first = current_clusters(qa_kb)
    big, second, third = first.clusters[0], first.clusters[1], first.clusters[2]
    curate(qa_kb, "rename", big.id, name="Depth filter blockage", actor="qa.lead")
    curate(qa_kb, "merge", second.id, others=(third.id,), actor="qa.lead")
    split = curate(qa_kb, "split", big.id, actor="qa.lead")
    part = split.events[0].new_ids
    new_id = next(i for i in part if i != big.id)
    kept = {c.id: set(c.member_ids) for c in split.clusters if c.id in (big.id, second.id, new_id)}

    actions = [e["action"] for e in qa_kb.store.audit_events() if e["action"].startswith("cluster_")]
    assert actions == ["cluster_rename", "cluster_merge", "cluster_split", "cluster_split_part"]
    assert all(
        e["actor"] == "qa.lead" for e in qa_kb.store.audit_events() if e["action"].startswith("cluster_")
    )

    # New deviations arrive, one a near copy of a member of the renamed cluster; QA clusters again.
    donor = qa_kb.get(sorted(kept[big.id])[0])
    added = qa_kb.add(
        {"type": "deviation", "text": donor.text + " Seen again.", "occurred_at": "2025-06-01"}, author="op"
    )
    again = run_clustering(qa_kb)
    by_id = {c.id: c for c in again.clusters}
    assert by_id[big.id].name == "Depth filter blockage"
    assert third.id not in by_id, "a merged-away cluster does not come back"
    for cid, members in kept.items():
        assert members <= set(by_id[cid].member_ids), f"{cid} lost members on re-clustering"
    assert added.id in by_id[big.id].member_ids
    # And the stored run says the same after a reload.
    reloaded = current_clusters(qa_kb)
    assert reloaded.get(big.id).name == "Depth filter blockage" and reloaded.run_id == again.run_id


def test_curation_errors_change_nothing(qa_kb):
    before = current_clusters(qa_kb)
    with pytest.raises(KBError, match="unknown cluster id 'C-999'"):
        curate(qa_kb, "rename", "C-999", name="x")
    with pytest.raises(KBError, match="with itself"):
        curate(qa_kb, "merge", before.clusters[0].id, others=(before.clusters[0].id,))
    assert current_clusters(qa_kb).run_id == before.run_id
    assert not [e for e in qa_kb.store.audit_events() if e["action"].startswith("cluster_")]


def test_clusters_subcommands(qa_kb):
    runner = CliRunner()
    base = ["--kb", str(qa_kb.home)]
    first = current_clusters(qa_kb).clusters[0].id
    out = runner.invoke(cli, [*base, "clusters", "rename", first, "Filter blockage"])
    assert out.exit_code == 0 and "Filter blockage" in out.output, out.output
    out = runner.invoke(cli, [*base, "clusters"])
    assert out.exit_code == 0 and f"{first}  Filter blockage" in out.output
    out = runner.invoke(cli, [*base, "clusters", "merge", first, first])
    assert out.exit_code == 1 and "error: cannot merge cluster" in out.output
    out = runner.invoke(cli, [*base, "clusters", "split", "C-999"])
    assert out.exit_code == 1 and "error: unknown cluster id 'C-999'" in out.output
    out = runner.invoke(cli, [*base, "clusters", "--json"])
    data = json.loads(out.output)
    assert data["families"] is not None and any(c["name"] == "Filter blockage" for c in data["clusters"])


def test_a_title_that_names_a_product_does_not_decide_clusters(kb):
    """The rule: clusters come from the text alone; a product-name title changes nothing."""
    problems = [
        "Filter clogged during clarification, transmembrane pressure rose above the limit",
        "Depth filter blocked at clarification, pressure alarm and flow dropped",
        "Clarification filter fouled early, high differential pressure",
        "Pump tubing kinked and flow stopped during media exchange",
        "Peristaltic pump tubing cracked and leaked at the pump head",
        "Tubing occlusion at the pump, flow alarm during the transfer",
    ]
    products = ["Vector LVV-12 lot A", "Vector LVV-12 lot B", "Plasmid PX-3 lot C"] * 2
    kb.add_many(
        [{"type": "deviation", "text": t, "ext_id": f"a{i}"} for i, t in enumerate(problems)]
        + [
            {"type": "deviation", "text": t, "title": p, "ext_id": f"b{i}"}
            for i, (t, p) in enumerate(zip(problems, products, strict=True))
        ],
        author="t",
    )
    data = cluster_input(kb)
    vec = {e.ext_id: v for e, v in zip(data.entries, data.vectors, strict=True)}
    for i in range(len(problems)):
        assert np.allclose(vec[f"a{i}"], vec[f"b{i}"], atol=1e-5), (
            "the title leaked into the clustering vector"
        )
    titled = [e for e in kb.store.iter_entries(type="deviation") if e.ext_id.startswith("b")]
    assert all(e.search_text() != e.text for e in titled), "search still sees the title"
