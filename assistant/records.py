"""What the vector store holds for each chunk, as records: the chunk itself, each of its sentences, and each
question a leader might ask that the chunk answers (its *passage questions*, see ingest/questions.py).

A chunk scores the best of its records in dense retrieval, so a leader's wording ("we keep blaming each other")
can meet a passage through a question written in the same register, not only through the report's own prose.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.textnorm import split_sentences
from assistant.types import SECTION_SEPARATOR, Chunk

CHUNK_UNIT = {"unit": "chunk"}
QUESTION_UNIT = {"unit": "question"}
META_FIELDS = (
    "source",
    "section",
    "kind",
    "order",
    "start",
    "end",
    "title",
    "author",
    "publisher",
    "file_hash",
)


@dataclass(frozen=True)
class AnchoredQuestion:
    """A question a chunk answers, tied to the span of the chunk's text (`text[start:end]`) that answers it."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class VectorRecord:
    """One vector in the store: a whole chunk, one sentence of a multi-sentence chunk, or one passage question."""

    id: str
    chunk: Chunk
    text: str
    unit: str
    anchor: tuple[int, int] | None = None  # for a question: the answering span, as offsets into the chunk's text


def question_id(chunk: Chunk, question: str) -> str:
    """A record id that changes with the question's words, so an edited question is embedded afresh."""
    return f"{chunk.id}#q{hashlib.sha1(question.encode()).hexdigest()[:10]}"


def vector_records(
    chunk: Chunk, sentences: bool = True, questions: Sequence[AnchoredQuestion] = ()
) -> list[VectorRecord]:
    """The records embedded for a chunk. Sentence vectors let a long paragraph match a question about one
    of its sentences; question vectors let a leader's phrasing match the passage that answers it."""
    records = [VectorRecord(chunk.id, chunk, chunk.text, "chunk")]
    spans = split_sentences(chunk.text) if sentences else []
    if len(spans) > 1:
        records += [
            VectorRecord(f"{chunk.id}#s{n}", chunk, chunk.text[a:b], "sentence") for n, (a, b) in enumerate(spans)
        ]
    records += [
        VectorRecord(question_id(chunk, q.text), chunk, q.text, "question", (q.start, q.end))
        for q in dict.fromkeys(questions)
    ]
    return records


def record_metadata(record: VectorRecord) -> dict[str, Any]:
    """Chroma metadata for a record: its chunk's fields, `top_section` (so a filter can name a whole top-level
    section), the chunk id, the unit, and a question's anchor."""
    chunk = record.chunk
    meta: dict[str, Any] = {field: getattr(chunk, field) for field in META_FIELDS}
    meta["top_section"] = chunk.section.split(SECTION_SEPARATOR)[0]
    meta["chunk_id"] = chunk.id
    meta["unit"] = record.unit
    if record.anchor is not None:
        meta["anchor_start"], meta["anchor_end"] = record.anchor
    return meta


def chunk_from_record(chunk_id: str, document: str, meta: dict[str, Any]) -> Chunk:
    """Rebuild a `Chunk` from what Chroma stored."""
    return Chunk(id=chunk_id, text=document, **{f: meta[f] for f in META_FIELDS if f in meta})
