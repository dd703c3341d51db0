"""Builds the heavy objects once (embedding model, Chroma client, retriever) for the API and the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.config import Settings
from assistant.embeddings import MiniLMEmbeddings
from assistant.index import ChunkIndex, connect_chroma
from assistant.retrieve import HybridRetriever


@dataclass
class Resources:
    """Everything a request needs, built once per process."""

    settings: Settings
    embedder: MiniLMEmbeddings
    index: ChunkIndex
    retriever: HybridRetriever


def build_embedder(settings: Settings) -> MiniLMEmbeddings:
    """The embedding model wrapper (the weights load on first use); ingest draws its own progress bar."""
    return MiniLMEmbeddings(settings.embedding_model, settings.embed_batch_size, progress=False)


def build_index(settings: Settings) -> ChunkIndex:
    """The chunk index on the configured Chroma (embedded or server)."""
    return ChunkIndex(connect_chroma(settings), settings.collection_prefix)


def build_resources(settings: Settings) -> Resources:
    """All heavy objects, wired together."""
    embedder = build_embedder(settings)
    index = build_index(settings)
    return Resources(settings, embedder, index, HybridRetriever(index, embedder, settings))
