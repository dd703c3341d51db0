"""Builds the heavy objects once (embedding model, Chroma client, retriever) for the API and the CLI alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from assistant.answer import ExtractiveEngine
from assistant.config import Settings
from assistant.embeddings import MiniLMEmbeddings
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
    embedder: MiniLMEmbeddings
    index: ChunkIndex
    retriever: HybridRetriever
    engine: Engine


def build_embedder(settings: Settings) -> MiniLMEmbeddings:
    """The embedding model wrapper (the weights load on first use); ingest draws its own progress bar."""
    return MiniLMEmbeddings(settings.embedding_model, settings.embed_batch_size, progress=False)


def build_index(settings: Settings) -> ChunkIndex:
    """The chunk index on the configured Chroma (embedded or server)."""
    return ChunkIndex(connect_chroma(settings), settings.collection_prefix, settings.index_refresh_s)


def build_engine(settings: Settings, retriever: HybridRetriever) -> Engine:
    """The engine `LVA_LLM` names; LLM engines keep the extractive engine as their fallback."""
    extractive = ExtractiveEngine(retriever, settings)
    if settings.llm == "extractive":
        return extractive
    from assistant.llm import LLMEngine, build_chat_model

    return LLMEngine(build_chat_model(settings), settings.llm, extractive, settings)


def build_resources(settings: Settings) -> Resources:
    """All heavy objects, wired together."""
    embedder = build_embedder(settings)
    index = build_index(settings)
    retriever = HybridRetriever(index, embedder, settings)
    return Resources(settings, embedder, index, retriever, build_engine(settings, retriever))
