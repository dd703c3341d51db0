"""The events an answer streams, as typed models; `ui/client.py` reads the same names and fields.

`meta` comes first (coverage, citations so far, the question being answered), then `delta`s of answer text,
then `done` with the whole `Answer`, or `error`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.types import Answer, Citation, ClosestPassage, Coverage


class Meta(BaseModel):
    """What is known before the text: whether and how the report covers the question, and what is cited."""

    name: Literal["meta"] = "meta"
    answerable: bool
    coverage: Coverage
    standalone_question: str
    answering: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    closest: list[ClosestPassage] = Field(default_factory=list)
    engine: str


class Delta(BaseModel):
    """A piece of answer text; `replace` means: discard what came before (an LLM answer replaced by a fallback)."""

    name: Literal["delta"] = "delta"
    text: str
    replace: bool = False


class Done(BaseModel):
    """The final answer, exactly what /v1/ask would return."""

    name: Literal["done"] = "done"
    answer: Answer


class ErrorEvent(BaseModel):
    """A failure mid-stream, with the status /v1/ask would have answered."""

    name: Literal["error"] = "error"
    error: str
    detail: str
    status: int


Event = Meta | Delta | Done | ErrorEvent


def meta_of(answer: Answer) -> Meta:
    """The `meta` event that announces an answer."""
    return Meta(
        answerable=answer.answerable,
        coverage=answer.coverage,
        standalone_question=answer.standalone_question,
        answering=answer.answering,
        citations=answer.citations,
        closest=answer.closest,
        engine=answer.engine,
    )


def as_sse(event: Event) -> tuple[str, dict[str, Any]]:
    """(event name, JSON data) as the API sends it: `done` carries the Answer's fields at top level."""
    if isinstance(event, Done):
        return "done", event.answer.model_dump()
    data = event.model_dump(exclude={"name"})
    if isinstance(event, Delta) and not event.replace:
        data.pop("replace")
    return event.name, data
