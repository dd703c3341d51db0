"""Shared pydantic types that flow between the stages: corpus → ingest → index → retrieve → answer → API."""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

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

    model_config = ConfigDict(extra="forbid", strict=True)
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


# --- answering ----------------------------------------------------------------------------------------

# Published in the OpenAPI schema so clients (and fuzzers) know: no control characters, not blank.
TEXT_PATTERN = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
)


def _integral(value: object) -> object:
    """JSON Schema counts 3.0 as an integer, so the API does too; 3.5 and "3" still fail strict validation."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def count(low: int, high: int) -> object:
    """A whole number in [low, high] that also accepts 3.0; bounds first, so the JSON schema shows them."""
    return Annotated[int, Ge(low), Le(high), BeforeValidator(_integral)]


def _tidy(value: str) -> str:
    """Trim surrounding whitespace. What may be sent is decided by TEXT_PATTERN alone (no control characters,
    not blank), so the published schema and the server never disagree."""
    return value.strip() or value


# Questions and queries: the pattern is checked on the text as sent, then it is trimmed.
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=TEXT_PATTERN), AfterValidator(_tidy)]


class Turn(BaseModel):
    """One earlier message of the conversation."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "3" is not a number: what the schema says, no more
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    """A question, optionally with the conversation so far."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "3" is not a number: what the schema says, no more
    question: Text = Field(description="1–2000 characters.")
    history: list[Turn] = Field(default_factory=list, max_length=20, description="At most 20 earlier turns.")
    k: count(1, 20) | None = Field(None, description="Passages to read (default LVA_ANSWER_PASSAGES).")  # type: ignore[valid-type]
    filters: SearchFilters | None = None


class Citation(BaseModel):
    """What `[n]` in an answer points at: an exact span of a source document."""

    n: int
    chunk_id: str
    source: str
    section: str
    kind: ChunkKind
    quote: str = Field(description="Verbatim text: `document_text[start:end] == quote`.")
    start: int
    end: int


class ClosestPassage(BaseModel):
    """A passage suggested when the assistant refuses."""

    chunk_id: str
    source: str
    section: str
    kind: ChunkKind
    text: str
    start: int
    end: int
    score: float


Coverage = Literal["answered", "partial", "not_covered"]


class Answer(BaseModel):
    """The response of /v1/ask and `lva ask --json`."""

    answer: str
    answerable: bool = Field(description="True when the report answers the question fully or partly.")
    coverage: Coverage = Field(
        "answered",
        description="answered: the report addresses the question; partial: it touches on it (the answer's first "
        "line says so); not_covered: the fixed refusal, with `closest` passages to explore.",
    )
    citations: list[Citation] = Field(default_factory=list)
    closest: list[ClosestPassage] = Field(default_factory=list)
    standalone_question: str
    answering: str | None = Field(
        None, description="The question as answered, when a follow-up was rewritten meaningfully; else null."
    )
    suggestions: list[str] = Field(
        default_factory=list, description="Two or three follow-up questions built from the cited passages."
    )
    engine: str = Field(description="The engine that produced this answer (after any fallback).")
    timings_ms: dict[str, float] = Field(default_factory=dict)


class SearchRequest(BaseModel):
    """Body of /v1/search."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "3" is not a number: what the schema says, no more
    query: Text
    k: count(1, 50) = Field(5)  # type: ignore[valid-type]
    filters: SearchFilters | None = None


class SearchResponse(BaseModel):
    """The retriever's results."""

    query: str
    results: list[Passage]


class SectionSegment(BaseModel):
    """Where a chunk sits inside `SourceView.section_text`, to map document offsets onto it."""

    chunk_id: str
    section_offset: int
    start: int
    end: int


class SourceView(BaseModel):
    """Everything a source viewer needs to show a chunk in its section and highlight a quote."""

    chunk: Chunk
    section_text: str
    segments: list[SectionSegment]
    highlight_start: int = Field(description="Offset of the highlighted span within `section_text`.")
    highlight_end: int


class FeedbackRequest(BaseModel):
    """A rating of one answer."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "3" is not a number: what the schema says, no more
    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(min_length=1, max_length=20_000)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


class FeedbackUpdate(BaseModel):
    """A change to a stored rating: the thumbs flipped, or a comment added after the click."""

    model_config = ConfigDict(extra="forbid", strict=True)
    rating: Literal["up", "down"] | None = None
    comment: str | None = Field(None, max_length=2000)


class FeedbackReceipt(BaseModel):
    """The stored feedback's id."""

    id: int


class ErrorBody(BaseModel):
    """Every 4xx/5xx body."""

    error: str
    detail: str | list | dict | None = None


class Readiness(BaseModel):
    """Body of /readyz."""

    ready: bool
    chunks: int
    model: str
    engine: str
    index: str | None = None
    detail: str | None = None


class SectionEntry(BaseModel):
    """One section of a document, in reading order, for a table of contents."""

    source: str
    title: str
    section: str
    first_chunk_id: str
    chunks: int


CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class ConversationTurn(BaseModel):
    """One saved message of a chat: what was said and, for the assistant, the answer object it showed."""

    model_config = ConfigDict(extra="forbid", strict=True)
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)
    answer: dict | None = Field(None, description="The Answer JSON object an assistant turn showed; else null.")


class ConversationSave(BaseModel):
    """Body of `PUT /v1/conversations/{id}`: the whole conversation, which replaces what was stored."""

    model_config = ConfigDict(extra="forbid", strict=True)
    turns: list[ConversationTurn] = Field(max_length=100, description="At most 100 turns, oldest first.")


class Conversation(BaseModel):
    """A saved conversation."""

    id: str
    turns: list[ConversationTurn]
    updated_at: float = Field(description="When it was last saved (Unix seconds).")
