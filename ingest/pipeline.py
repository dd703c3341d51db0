"""Corpus path → published index generation: parse, chunk, embed only what changed, publish atomically."""

from __future__ import annotations

import logging
from pathlib import Path

from filelock import FileLock, Timeout
from langchain_core.embeddings import Embeddings
from tqdm import tqdm

from assistant.config import Settings
from assistant.embeddings import embedding_dimension, embedding_model_name, is_tuned
from assistant.errors import IngestBusy, IngestError
from assistant.index import ChunkIndex, EmbeddingRecord, check_embedding_model, ensure_writable_dir, same_model
from assistant.records import AnchoredQuestion, VectorRecord, record_metadata, vector_records
from assistant.types import Chunk, IngestReport
from ingest.chunk import chunk_document
from ingest.parse import SUPPORTED_SUFFIXES, parse_file
from ingest.questions import anchor_questions, questions_file, read_questions

log = logging.getLogger(__name__)
ADD_BATCH = 512


def discover(path: Path) -> list[Path]:
    """The supported files at `path` (a file, or a folder searched recursively), in a stable order."""
    if not path.exists():
        raise IngestError(f"no such file or folder: {path}")
    if path.is_file():
        return [path]
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not any(x.startswith(".") for x in p.parts)
    )
    if not files:
        raise IngestError(f"no {', '.join(SUPPORTED_SUFFIXES)} files in {path}")
    return files


def load_chunks(path: Path, project_root: Path) -> list[Chunk]:
    """Parse and chunk every document at `path`; any unusable file fails the whole load before anything is written."""
    return load_documents(path, project_root)[0]


def load_documents(path: Path, project_root: Path) -> tuple[list[Chunk], dict[str, list[AnchoredQuestion]]]:
    """Every chunk at `path`, and the passage questions of each chunk (from files beside the documents)."""
    chunks: list[Chunk] = []
    questions: dict[str, list[AnchoredQuestion]] = {}
    for file in discover(path):
        document_chunks = chunk_document(parse_file(file, project_root))
        chunks.extend(document_chunks)
        questions.update(anchor_questions(document_chunks, read_questions(questions_file(file))))
    return chunks, questions


def ingest(
    path: Path, *, index: ChunkIndex, embedder: Embeddings, settings: Settings, rebuild: bool = False
) -> IngestReport:
    """Make the published index mirror the documents at `path`, embedding only new or changed chunks."""
    chunks, questions = load_documents(path, settings.project_root)
    if not settings.passage_questions:
        questions = {}
    lock_dir = settings.resolved_data_dir()
    ensure_writable_dir(lock_dir)
    lock = FileLock(str(lock_dir / "ingest.lock"), timeout=settings.ingest_lock_timeout_s)
    try:
        lock.acquire()
    except Timeout:
        raise IngestBusy(f"another ingest is running (lock {lock.lock_file}); wait for it and retry") from None
    try:
        records = [r for c in chunks for r in vector_records(c, settings.sentence_vectors, questions.get(c.id, ()))]
        return _ingest_locked(chunks, records, index, embedder, rebuild, settings.embed_progress)
    finally:
        lock.release()


def _ingest_locked(
    chunks: list[Chunk],
    records: list[VectorRecord],
    index: ChunkIndex,
    embedder: Embeddings,
    rebuild: bool,
    progress: bool,
) -> IngestReport:
    index.collect_garbage()  # generations left behind by a killed ingest
    model = embedding_model_name(embedder)
    recorded = None if rebuild else index.embedding_record()
    if recorded and not same_model(recorded.model, model) and (is_tuned(model) or is_tuned(recorded.model)):
        rebuild, recorded = True, None  # the tuned encoder was (re)built or switched off: re-embed everything
    check_embedding_model(recorded, model, None)  # by name first: it costs nothing, loads no model
    published = set() if rebuild else index.active_record_ids()
    wanted = {r.id for r in records}
    files = len({c.source for c in chunks})
    if published and published == wanted:
        name = index.active_name() or ""
        return IngestReport(
            files=files, chunks=len(chunks), embedded=0, reused=len(chunks), removed=0, collection=name, changed=False
        )
    embedding = EmbeddingRecord(model, embedding_dimension(embedder))
    check_embedding_model(recorded, model, embedding.dimension)
    # Written batch by batch into an unpublished collection: a crash here leaves the served one untouched.
    collection = index.new_generation(embedding)
    fresh_chunks: set[str] = set()
    with tqdm(total=len(records), desc="indexing", unit="vec", disable=not progress) as bar:
        for i in range(0, len(records), ADD_BATCH):
            batch = records[i : i + ADD_BATCH]
            vectors = index.embeddings_for([r.id for r in batch if r.id in published])
            fresh = [r for r in batch if r.id not in vectors]
            for record, vector in zip(fresh, embedder.embed_documents([r.text for r in fresh]), strict=True):
                vectors[record.id] = vector
            fresh_chunks.update(r.chunk.id for r in fresh)
            collection.add(
                ids=[r.id for r in batch],
                embeddings=[vectors[r.id] for r in batch],
                documents=[r.text for r in batch],
                metadatas=[record_metadata(r) for r in batch],
            )
            bar.update(len(batch))
    index.publish(collection.name)
    index.collect_garbage()
    return IngestReport(
        files=files,
        chunks=len(chunks),
        embedded=len(fresh_chunks),
        reused=len(chunks) - len(fresh_chunks),
        removed=len({rid for rid in published if "#" not in rid} - {c.id for c in chunks}),
        collection=collection.name,
        changed=True,
    )
