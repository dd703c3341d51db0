"""The extractive writer: the lead line and the chosen units as quoted, cited points. No LLM; deterministic.

It is also what every LLM writer falls back to."""

from __future__ import annotations

from assistant import prompts
from assistant.answering.compose import (
    citations_for,
    lead_line,
    point_limit,
    point_line,
    select_points,
    suggestions,
)
from assistant.answering.grounding import sources_of, verify_answer
from assistant.answering.plan import Prepared, closest_passages
from assistant.config import Settings
from assistant.types import Answer

NAME = "extractive"


def write_extractive(prepared: Prepared, settings: Settings, engine: str = NAME) -> Answer:
    """A grounded answer (answered or partial) from the prepared evidence, or the refusal when no point
    survives."""
    limit = point_limit(prepared.decision, settings.answer_points)
    points = select_points(prepared.units, prepared.question, limit, settings.not_covered_below)
    if not points:
        return refusal(prepared, engine)
    citations = citations_for(points)
    lead = lead_line(prepared.decision, [c.section for c in citations])
    body = "\n".join([lead, "", *(point_line(c) for c in citations)])
    text, used = verify_answer(body, citations, sources_of(prepared.passages))
    return Answer(
        answer=text,
        answerable=True,
        coverage=prepared.decision.coverage,
        citations=used,
        standalone_question=prepared.question.standalone,
        answering=prepared.answering,
        suggestions=suggestions(prepared.question, used, prepared.nearby),
        engine=engine,
    )


def refusal(prepared: Prepared, engine: str = NAME) -> Answer:
    """The fixed refusal, with up to three related passages to explore (not citations)."""
    return Answer(
        answer=prompts.REFUSAL_MESSAGE,
        answerable=False,
        coverage="not_covered",
        citations=[],
        closest=closest_passages(prepared.passages),
        standalone_question=prepared.question.standalone,
        answering=prepared.answering,
        engine=engine,
    )
