"""Deterministic mutations of good answers, to prove the metrics catch what they claim to catch."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.answering.grounding import quoted_spans
from assistant.types import Answer

Mutation = Callable[[Answer, int], Answer | None]
UNSUPPORTED_CLAIMS = [
    "The programme budget doubled to £4 million in 2019",
    "Every council abolished its health and wellbeing board within a year",
    "The report recommends replacing enablers with management consultants",
    "Most GPs refused to take part and the projects were cancelled",
    "NHS England funded a national helpline for service users in 2015",
]
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|can|will|should|must|need|needs)\b")


def _replace_in_answer(answer: Answer, old: str, new: str) -> Answer:
    return answer.model_copy(update={"answer": answer.answer.replace(old, new, 1)})


def change_number(answer: Answer, _: int) -> Answer | None:
    """Change the first number inside a quotation."""
    for quote in quoted_spans(answer.answer):
        match = re.search(r"\d+", quote)
        if match:
            changed = quote[: match.start()] + str(int(match.group()) + 7) + quote[match.end() :]
            return _replace_in_answer(answer, quote, changed)
    return None


def edit_quote_word(answer: Answer, _: int) -> Answer | None:
    """Replace the longest word of the first quotation."""
    quotes = quoted_spans(answer.answer)
    if not quotes:
        return None
    word = max(re.findall(r"[A-Za-z]{4,}", quotes[0]) or [""], key=len)
    if not word:
        return None
    return _replace_in_answer(answer, quotes[0], quotes[0].replace(word, "elephant", 1))


def cite_wrong_passage(answer: Answer, i: int, other_chunk_ids: list[str] | None = None) -> Answer | None:
    """Point the first citation at a different chunk."""
    if not answer.citations or not other_chunk_ids:
        return None
    first = answer.citations[0]
    wrong = next(c for c in other_chunk_ids[i:] + other_chunk_ids if c != first.chunk_id)
    citations = [first.model_copy(update={"chunk_id": wrong}), *answer.citations[1:]]
    return answer.model_copy(update={"citations": citations})


def add_unsupported_sentence(answer: Answer, i: int) -> Answer | None:
    """Append a cited claim the report does not make."""
    if not answer.citations:
        return None
    claim = UNSUPPORTED_CLAIMS[i % len(UNSUPPORTED_CLAIMS)]
    return answer.model_copy(update={"answer": answer.answer + f"\n- {claim} [{answer.citations[0].n}]"})


def negate(answer: Answer, _: int) -> Answer | None:
    """Negate the first quotation: "not" after its first auxiliary verb, or "It is not true that" before it."""
    quotes = quoted_spans(answer.answer)
    if not quotes:
        return None
    quote = quotes[0]
    match = _AUX.search(quote)
    negated = quote[: match.end()] + " not" + quote[match.end() :] if match else "it is not true that " + quote
    return _replace_in_answer(answer, quote, negated)


def swap_section(answer: Answer, i: int, sections: list[str] | None = None) -> Answer | None:
    """Give the first citation another section's name."""
    if not answer.citations or not sections:
        return None
    first = answer.citations[0]
    other = next(s for s in sections[i % len(sections) :] + sections if s != first.section)
    return answer.model_copy(update={"citations": [first.model_copy(update={"section": other}), *answer.citations[1:]]})
