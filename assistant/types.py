"""Shared pydantic types that flow between the stages: corpus → ingest → index → retrieve → answer → API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ChunkKind = Literal["narrative", "quote", "list"]
BlockKind = Literal["heading", "paragraph", "quote", "list"]
SECTION_SEPARATOR = " › "


class DocumentMeta(BaseModel):
    """Bibliographic facts recorded once per document (front matter or file properties)."""

    title: str = ""
    author: str = ""
    publisher: str = ""


class Block(BaseModel):
    """A structural unit found by a parser: a heading, a paragraph, a block quote or a list."""

    kind: BlockKind
    start: int = Field(description="Offset of the block's content in the document text.")
    end: int
    level: int = Field(0, description="Heading level (1 = title); 0 for non-headings.")
    items: list[tuple[int, int]] = Field(default_factory=list, description="(start, end) of each list item.")


class ParsedDocument(BaseModel):
    """A document's full text plus its structure; every offset points into `text`."""

    source: str = Field(description="Path relative to the project root (or absolute when outside it).")
    text: str
    meta: DocumentMeta
    blocks: list[Block]
    file_hash: str = Field(description="sha256 of the file's bytes.")


class Chunk(BaseModel):
    """One retrievable unit: a paragraph, an enabler quote or a list (item), with exact offsets."""

    id: str = Field(description="Stable id derived from a content hash.")
    source: str
    section: str = Field(description="Section path, e.g. `The hurdles › It's a system, not a poker game`.")
    kind: ChunkKind
    order: int = Field(description="Position of the chunk within its document.")
    start: int = Field(description="`document_text[start:end] == text`.")
    end: int
    text: str
    title: str = ""
    author: str = ""
    publisher: str = ""
    file_hash: str = ""


class SearchFilters(BaseModel):
    """Optional restrictions on what retrieval may return."""

    kind: ChunkKind | None = None
    section: str | None = Field(None, description="Keep chunks whose section path starts with this.")


class Passage(Chunk):
    """A retrieved chunk with its fused score and the ranks that produced it."""

    score: float = Field(description="Reciprocal-rank-fusion score.")
    dense_rank: int | None = None
    bm25_rank: int | None = None
    dense_score: float | None = Field(None, description="Cosine similarity to the query, when dense found it.")


class SearchResult(BaseModel):
    """The JSON line `lva search --json` prints; evaluators depend on these field names."""

    query: str
    results: list[dict]


class IngestReport(BaseModel):
    """What an ingest did."""

    files: int
    chunks: int
    embedded: int = Field(description="Chunks whose text had to be embedded.")
    reused: int = Field(description="Chunks whose embeddings were carried over unchanged.")
    removed: int = Field(description="Chunks dropped since the previous index.")
    collection: str
    changed: bool
