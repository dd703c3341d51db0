"""Incremental, atomic ingest: unchanged files embed nothing, changes embed only their chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.embeddings import MiniLMEmbeddings
from assistant.errors import IngestBusy, IngestError
from assistant.factory import build_index
from conftest import make_settings
from ingest.pipeline import ingest

ALPHA = (
    "---\ntitle: Alpha\n---\n\n## Budgets\n\nPooled budgets need trust. Trust takes time.\n\n"
    "> “We shared our baseline spend at last.”\n"
)
BETA = "## Housing\n\nHousing and health teams now meet weekly to plan discharge.\n"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "alpha.md").write_text(ALPHA)
    (folder / "beta.md").write_text(BETA)
    return folder


def test_incremental_ingest_counts_embedding_calls(corpus: Path, data_dir: Path, embedder: MiniLMEmbeddings) -> None:
    settings = make_settings(data_dir, project_root=corpus.parent)
    index = build_index(settings)

    def run(**kw: bool):  # type: ignore[no-untyped-def]
        before = embedder.texts_embedded
        report = ingest(corpus, index=index, embedder=embedder, settings=settings, **kw)
        return report, embedder.texts_embedded - before

    first, calls = run()
    assert first.changed and first.chunks == 3 and first.embedded == 3 and calls == 5  # 3 chunks + 2 sentences
    assert index.count() == 5

    again, calls = run()
    assert not again.changed and calls == 0 and again.collection == first.collection

    (corpus / "beta.md").write_text(BETA + "\nA second paragraph about shared records and consent.\n")
    changed, calls = run()
    assert changed.changed and changed.embedded == 1 and changed.reused == 3 and calls == 1
    assert index.active_name() == changed.collection != first.collection

    (corpus / "alpha.md").unlink()
    removed, calls = run()
    assert removed.removed == 2 and removed.chunks == 2 and calls == 0
    assert {c.source for c in index.all_chunks()} == {"docs/beta.md"}

    rebuilt, calls = run(rebuild=True)
    assert rebuilt.embedded == 2 and calls == 2
    # only the published generation and the one before it are kept
    names = {c.name for c in index.client.list_collections() if c.name.startswith("lva-chunks-")}
    assert names == {rebuilt.collection, removed.collection}


def test_a_bad_file_fails_the_ingest_before_anything_is_written(
    corpus: Path, data_dir: Path, embedder: MiniLMEmbeddings
) -> None:
    settings = make_settings(data_dir, project_root=corpus.parent)
    index = build_index(settings)
    ingest(corpus, index=index, embedder=embedder, settings=settings)
    published = index.active_name()
    (corpus / "zz-broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(IngestError, match="zz-broken.pdf"):
        ingest(corpus, index=index, embedder=embedder, settings=settings)
    assert index.active_name() == published


def test_a_second_concurrent_ingest_is_refused(corpus: Path, data_dir: Path, embedder: MiniLMEmbeddings) -> None:
    from filelock import FileLock

    settings = make_settings(data_dir, project_root=corpus.parent)
    with FileLock(str(data_dir / "ingest.lock")), pytest.raises(IngestBusy, match="another ingest is running"):
        ingest(corpus, index=build_index(settings), embedder=embedder, settings=settings)
