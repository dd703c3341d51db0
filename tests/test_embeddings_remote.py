"""Embedding on a server: the real `openai` client against a fake `/v1/embeddings` over real HTTP, real Chroma."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embeddings import MiniLMEmbeddings, RemoteEmbeddings
from assistant.errors import EmbeddingModelMismatch, EmbeddingsUnavailable
from assistant.factory import build_embedder, build_index
from assistant.index import EmbeddingRecord, check_embedding_model
from assistant.retrieve import HybridRetriever
from conftest import CORPUS, VENV_BIN, free_port, make_settings, with_settings
from ingest.pipeline import ingest
from tests.fake_embeddings import FakeEmbeddings

PARAGRAPHS = [
    "Pooled budgets need trust, and trust takes time to build between partners.",
    "Housing and health teams now meet weekly to plan hospital discharge together.",
    "Leaders who admit setbacks early keep the goodwill of the people doing the work.",
]


@pytest.fixture
def fake() -> Iterator[FakeEmbeddings]:
    with FakeEmbeddings() as server:
        yield server


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "alpha.md").write_text("## Budgets\n\n" + "\n\n".join(PARAGRAPHS) + "\n")
    return folder


def remote_settings(data_dir: Path, fake: FakeEmbeddings, project_root: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "embeddings_url": fake.url,
        "embeddings_model": "fake-embed",
        "embeddings_api_key": "sk-test",
        "embed_batch_size": 16,
        "embeddings_max_retries": 2,
        "project_root": project_root,
    }
    values.update(overrides)
    return make_settings(data_dir, **values)


def test_ingest_and_search_through_an_embeddings_server(fake: FakeEmbeddings, data_dir: Path) -> None:
    settings = remote_settings(data_dir, fake, CORPUS.parent)
    embedder = build_embedder(settings)
    index = build_index(settings)
    assert isinstance(embedder, RemoteEmbeddings)

    report = ingest(CORPUS, index=index, embedder=embedder, settings=settings)

    assert report.changed and report.embedded == report.chunks > 100
    assert index.embedding_record() == EmbeddingRecord("fake-embed", 64)
    batches = [len(body["input"]) for body in fake.requests]
    assert len(batches) > 10 and max(batches) <= 16  # batched, never more than LVA_EMBED_BATCH_SIZE per request
    assert {body["model"] for body in fake.requests} == {"fake-embed"}
    assert {h["authorization"] for h in fake.headers} == {"Bearer sk-test"}
    # Every vector in the index is the server's (the fake's vectors are reproducible), in the right order.
    chunks = index.all_chunks()
    stored = index.embeddings_for([c.id for c in chunks[:20]])
    expected = np.asarray(embedder.embed_documents([c.text for c in chunks[:20]]))
    assert np.allclose(np.asarray([stored[c.id] for c in chunks[:20]]), expected, atol=1e-6)

    retriever = HybridRetriever(index, embedder, settings)
    target = chunks[len(chunks) // 2]
    dense = index.dense_query(retriever.embed_query(target.text), 3, model="fake-embed")
    assert dense[0][0].id == target.id  # its own vector is the nearest
    passages = retriever.search("What is the Better Care Fund?", 5)
    assert passages and any(p.dense_rank for p in passages)
    assert fake.requests[-1]["input"] == ["What is the Better Care Fund?"]


def test_a_503_mid_ingest_retries_then_fails_cleanly_leaving_the_served_index(
    fake: FakeEmbeddings, docs: Path, data_dir: Path
) -> None:
    settings = remote_settings(data_dir, fake, docs.parent, embed_batch_size=2, embeddings_concurrency=1)
    embedder = build_embedder(settings)
    index = build_index(settings)
    ingest(docs, index=index, embedder=embedder, settings=settings)
    served, count = index.active_name(), index.count()
    retriever = HybridRetriever(index, embedder, settings)
    before = [p.id for p in retriever.search("pooled budgets and trust")]
    (docs / "beta.md").write_text("## Housing\n\n" + "\n\n".join(f"Paragraph {i} on discharge." for i in range(8)))
    first_new = len(fake.requests) + 1
    fake.script = lambda n: 503 if n > first_new else None  # the first new batch succeeds, then the server fails

    with pytest.raises(EmbeddingsUnavailable, match=r"answered HTTP 503, 3 attempts"):
        ingest(docs, index=index, embedder=embedder, settings=settings)

    assert fake.failed == [503, 503, 503]  # one batch: the first try and two retries, then nothing more was sent
    assert len(fake.requests) == first_new + 3
    assert (index.active_name(), index.count()) == (served, count)
    assert [p.id for p in retriever.search("pooled budgets and trust")] == before

    fake.script = lambda n: None  # the server recovers: the next ingest publishes and drops the half-written one
    report = ingest(docs, index=index, embedder=embedder, settings=settings)
    assert report.changed and index.active_name() != served
    names = {c if isinstance(c, str) else c.name for c in index.client.list_collections()}
    assert names == {index.pointer_name, index.active_name(), served}


def test_429_and_5xx_are_retried_until_the_server_answers(fake: FakeEmbeddings, docs: Path, data_dir: Path) -> None:
    settings = remote_settings(data_dir, fake, docs.parent, embeddings_max_retries=3)
    statuses = {1: 429, 2: 502, 3: 503}  # the first request is the dimension probe
    fake.script = statuses.get
    report = ingest(docs, index=build_index(settings), embedder=build_embedder(settings), settings=settings)
    assert report.changed and report.embedded == report.chunks
    assert fake.failed == [429, 502, 503]


def test_a_hung_server_times_out(fake: FakeEmbeddings) -> None:
    fake.delay = 3.0
    embedder = RemoteEmbeddings(fake.url, "fake-embed", timeout_s=0.5, max_retries=1, backoff_s=0.05)
    with pytest.raises(EmbeddingsUnavailable, match=r"APITimeoutError, 2 attempts"):
        embedder.embed_query("anyone there?")


def test_a_query_is_retried_once_at_most(fake: FakeEmbeddings) -> None:
    fake.script = lambda n: 503
    embedder = RemoteEmbeddings(fake.url, "fake-embed", max_retries=4, backoff_s=0.01)
    with pytest.raises(EmbeddingsUnavailable, match=r"HTTP 503, 2 attempts"):
        embedder.embed_query("is anyone waiting?")
    assert len(fake.requests) == 2  # someone is waiting for a query; a batch of documents would be tried 5 times


def test_cli_exits_2_with_one_line_when_the_server_is_unreachable(docs: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith("LVA_")}
    env.update(
        LVA_DATA_DIR=str(tmp_path / "data"),
        LVA_PROJECT_ROOT=str(tmp_path),
        LVA_EMBEDDINGS_URL=url,
        LVA_EMBEDDINGS_MAX_RETRIES="1",
        LVA_EMBED_PROGRESS="false",
    )
    done = subprocess.run([str(VENV_BIN / "lva"), "ingest", str(docs)], env=env, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lva: error: cannot reach the embeddings server at {url}")
    assert "2 attempts" in lines[0] and "unset LVA_EMBEDDINGS_URL" in lines[0]


def test_another_model_is_refused_for_queries_and_ingests(
    fake: FakeEmbeddings, docs: Path, data_dir: Path, embedder: MiniLMEmbeddings
) -> None:
    settings = remote_settings(data_dir, fake, docs.parent, embeddings_model="fake-embed-a")
    index = build_index(settings)
    ingest(docs, index=index, embedder=build_embedder(settings), settings=settings)
    served = index.active_name()
    other = with_settings(settings, embeddings_model="fake-embed-b")
    embedder_b = build_embedder(other)

    with pytest.raises(EmbeddingModelMismatch) as query:
        HybridRetriever(index, embedder_b, other).search("pooled budgets")
    with pytest.raises(EmbeddingModelMismatch) as local_query:  # the local model: another name, another length
        HybridRetriever(index, embedder, settings).search("pooled budgets")
    with pytest.raises(EmbeddingModelMismatch) as ingest_b:
        ingest(docs, index=index, embedder=embedder_b, settings=other)

    for refusal in (query, ingest_b):
        assert "fake-embed-a (64 dimensions)" in str(refusal.value) and "fake-embed-b" in str(refusal.value)
    assert "all-MiniLM-L6-v2 (384 dimensions)" in str(local_query.value)
    assert index.active_name() == served and index.embedding_record() == EmbeddingRecord("fake-embed-a", 64)

    ingest(docs, index=index, embedder=embedder_b, settings=other, rebuild=True)  # re-embedding it all is allowed
    assert index.embedding_record() == EmbeddingRecord("fake-embed-b", 64)
    assert HybridRetriever(index, embedder_b, other).search("pooled budgets")


def test_one_model_under_a_servers_name_is_the_same_model() -> None:
    recorded = EmbeddingRecord("sentence-transformers/all-MiniLM-L6-v2", 384)
    check_embedding_model(recorded, "all-MiniLM-L6-v2", 384)  # TEI's or vLLM's name for the packaged model
    with pytest.raises(EmbeddingModelMismatch, match="384 dimensions.*768 dimensions"):
        check_embedding_model(recorded, "all-MiniLM-L6-v2", 768)
    with pytest.raises(EmbeddingModelMismatch, match="BAAI/bge-small-en-v1.5"):
        check_embedding_model(recorded, "BAAI/bge-small-en-v1.5", 384)


def test_a_url_without_a_path_gets_v1_and_a_bad_one_is_refused() -> None:
    assert RemoteEmbeddings("http://gpu-box:8080", "m").url == "http://gpu-box:8080/v1"
    assert RemoteEmbeddings("http://gpu-box:8000/v1/", "m").url == "http://gpu-box:8000/v1"
    with pytest.raises(EmbeddingsUnavailable, match="LVA_EMBEDDINGS_URL"):
        RemoteEmbeddings("gpu-box:8080", "m")
