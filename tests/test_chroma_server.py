"""The same ingest and retrieval against a real `chroma run` server, via LVA_CHROMA_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.embeddings import MiniLMEmbeddings
from assistant.errors import IndexUnavailable
from assistant.factory import build_index
from assistant.index import connect_chroma
from assistant.retrieve import HybridRetriever
from conftest import CORPUS, free_port, make_settings
from ingest.pipeline import ingest


def test_ingest_and_search_on_a_chroma_server(chroma_server: str, data_dir: Path, embedder: MiniLMEmbeddings) -> None:
    settings = make_settings(data_dir, chroma_url=chroma_server, collection_prefix="srv")
    index = build_index(settings)
    assert type(index.client).__name__ != "PersistentClient"
    first = ingest(CORPUS, index=index, embedder=embedder, settings=settings)
    assert first.changed and index.count() > first.chunks
    again = ingest(CORPUS, index=index, embedder=embedder, settings=settings)
    assert not again.changed and again.embedded == 0
    assert not (data_dir / "chroma").exists(), "server mode must not create an embedded store"

    retriever = HybridRetriever(index, embedder, settings)
    top = retriever.search("Is the Better Care Fund causing distrust?", k=3)
    assert any("Better Care Fund" in p.text for p in top)
    assert top[0].source == "corpus/the-revolution-will-be-improvised.md"


def test_unreachable_server_error_names_the_url(data_dir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(IndexUnavailable, match=url.replace(".", r"\.")):
        connect_chroma(make_settings(data_dir, chroma_url=url))
