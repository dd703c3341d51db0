"""Builds the heavy objects once (embedding model, Chroma client, retriever) for the API and the CLI alike."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from langchain_core.embeddings import Embeddings

from assistant.answering.coverage_model import load_coverage_model
from assistant.answering.pipeline import AnswerPipeline
from assistant.config import Settings
from assistant.embeddings import MiniLMEmbeddings, RemoteEmbeddings, tuned_encoder_path
from assistant.index import ChunkIndex, connect_chroma
from assistant.retrieve import HybridRetriever
from assistant.types import Answer, AskRequest


class Engine(Protocol):
    """What every answer engine offers."""

    name: str

    def answer(self, request: AskRequest) -> Answer: ...

    def stream(self, request: AskRequest) -> Iterator[tuple[str, dict]]: ...


@dataclass
class Resources:
    """Everything a request needs, built once per process."""

    settings: Settings
    embedder: Embeddings
    index: ChunkIndex
    retriever: HybridRetriever
    engine: Engine


def build_embedder(settings: Settings) -> Embeddings:
    """A server's embeddings when `LVA_EMBEDDINGS_URL` is set, else the local model on `LVA_EMBEDDING_BACKEND`
    (loaded on first use; ingest draws its own progress bar)."""
    if settings.embeddings_url:
        return RemoteEmbeddings(
            settings.embeddings_url,
            settings.embeddings_model,
            settings.embeddings_api_key.get_secret_value(),
            batch_size=settings.embed_batch_size,
            timeout_s=settings.embeddings_timeout_s,
            max_retries=settings.embeddings_max_retries,
            concurrency=settings.embeddings_concurrency,
        )
    models_dir = settings.resolved_data_dir() / "models"
    model_path = settings.embedding_model
    if model_path is None and settings.tuned_encoder:
        model_path = tuned_encoder_path(models_dir)  # None until `lva tune` has built one: the packaged model
    return MiniLMEmbeddings(
        model_path,
        settings.embed_batch_size,
        progress=False,
        backend=settings.embedding_backend,
        models_dir=models_dir,
        # Several workers on few cores: each gets its share, instead of all fighting for all.
        threads=max(1, (os.cpu_count() or 1) // max(1, settings.workers)),
    )


def build_index(settings: Settings) -> ChunkIndex:
    """The chunk index on the configured Chroma (embedded or server)."""
    return ChunkIndex(connect_chroma(settings), settings.collection_prefix, settings.index_refresh_s)


def build_engine(settings: Settings, retriever: HybridRetriever) -> Engine:
    """The engine `LVA_LLM` names; LLM engines keep the extractive engine as their fallback."""
    coverage_model = None
    if settings.coverage_model:
        coverage_model = load_coverage_model(settings.resolved_data_dir() / "models")
    extractive = AnswerPipeline(retriever, settings, coverage_model=coverage_model)
    if settings.llm == "extractive":
        return extractive
    from assistant.answering.writers.llm import LLMEngine
    from assistant.llm import build_chat_model

    return LLMEngine(build_chat_model(settings), settings.llm, extractive, settings)


def build_resources(settings: Settings) -> Resources:
    """All heavy objects, wired together."""
    embedder = build_embedder(settings)
    index = build_index(settings)
    retriever = HybridRetriever(index, embedder, settings)
    return Resources(settings, embedder, index, retriever, build_engine(settings, retriever))
