"""What stages 1–3 hand to a writer: the understood question, the evidence and the decision."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answering.decide import Decision
from assistant.answering.evidence import NearbyQuestion, Unit
from assistant.answering.question import Question
from assistant.sections import is_front_matter
from assistant.types import ClosestPassage, Passage


@dataclass
class Prepared:
    """Everything decided before any text is written."""

    question: Question
    passages: list[Passage]
    units: list[Unit]
    decision: Decision
    timings_ms: dict[str, float] = field(default_factory=dict)
    nearby: list[NearbyQuestion] = field(default_factory=list)  # what the report answers near the question

    @property
    def answering(self) -> str | None:
        """The rewritten question, shown to the user only when a follow-up was rewritten."""
        return self.question.answering


def closest_passages(passages: list[Passage], limit: int = 3) -> list[ClosestPassage]:
    """The top passages, offered with a refusal as related reading (never as citations)."""
    return [
        ClosestPassage(
            chunk_id=p.id,
            source=p.source,
            section=p.section,
            kind=p.kind,
            text=p.text,
            start=p.start,
            end=p.end,
            score=p.score,
        )
        for p in [p for p in passages if not is_front_matter(p)][:limit]
    ]
