"""Embedding backends behind LangChain's `Embeddings`: the packaged MiniLM on torch or ONNX Runtime, or a server
speaking OpenAI's `/v1/embeddings`. Every backend names its model, which the index records."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from assistant.embeddings.local import (
    MODEL_NAME,
    TUNED_POINTER,
    TUNED_PREFIX,
    Backend,
    MiniLMEmbeddings,
    is_tuned,
    packaged_model_path,
    tuned_encoder_path,
)
from assistant.embeddings.remote import RemoteEmbeddings

__all__ = [
    "MODEL_NAME",
    "TUNED_POINTER",
    "TUNED_PREFIX",
    "is_tuned",
    "tuned_encoder_path",
    "Backend",
    "MiniLMEmbeddings",
    "RemoteEmbeddings",
    "embedding_dimension",
    "embedding_model_name",
    "packaged_model_path",
]


def embedding_model_name(embedder: Embeddings) -> str:
    """The model an embedder runs, as recorded in the index (its class name when it does not say)."""
    return str(getattr(embedder, "model_name", None) or type(embedder).__name__)


def embedding_dimension(embedder: Embeddings) -> int:
    """Length of the embedder's vectors (loads a local model; asks a server once)."""
    dimension = getattr(embedder, "dimension", None)
    return int(dimension) if dimension else len(embedder.embed_query("dimension probe"))
