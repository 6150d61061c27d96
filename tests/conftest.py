"""Shared fixtures: the real model is loaded once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from argon2 import PasswordHasher  # noqa: E402

from kb.governance import users  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.retrieval.embed import SentenceTransformerEmbedder, load_embedder  # noqa: E402
from tests.pg import pg_cluster  # noqa: E402, F401  (the session's PostgreSQL server, started on first use)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
SHARED_DATA = REPO.parent / "shared" / "data"
# argon2id with tiny cost settings: the same code path, milliseconds instead of a second per hash.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with FAST_HASHER for the test."""
    monkeypatch.setattr(users, "HASHER", FAST_HASHER)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The pinned all-MiniLM-L6-v2, verified and loaded once for the whole session."""
    return load_embedder()


@pytest.fixture
def kb(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[KnowledgeBase]:
    """An empty knowledge base in a temporary folder, sharing the session's model."""
    base = KnowledgeBase(tmp_path / "kb", embedder=embedder)
    yield base
    base.close()


@pytest.fixture(scope="session")
def sample_kb_dir(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """A knowledge base folder loaded once with data/samples (tests copy or only read it)."""
    from cli.common import load_samples

    home = tmp_path_factory.mktemp("samples") / "kb"
    with KnowledgeBase(home, embedder=embedder) as base:
        load_samples(base, "sample-loader")
        base.ensure_index()
    return home


@pytest.fixture
def sample_kb(sample_kb_dir: Path, embedder: SentenceTransformerEmbedder) -> Iterator[KnowledgeBase]:
    """The shared sample knowledge base, opened read-mostly (tests must not write to it)."""
    base = KnowledgeBase(sample_kb_dir, embedder=embedder)
    yield base
    base.close()


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    """The store a backend-parametrised test runs on this time (storage contract, governance)."""
    return request.param
