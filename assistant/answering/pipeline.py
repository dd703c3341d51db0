"""The answer pipeline: question → evidence → decision → composition (a writer) → guard, as a stream of events.

`AnswerPipeline` is the extractive engine; LLM engines reuse its `prepare` and write their own prose over the same
evidence (assistant/answering/writers/llm.py). Every writer's text passes `verify_answer` before it leaves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from assistant.answering.coverage_model import CoverageModel
from assistant.answering.decide import decide
from assistant.answering.events import Delta, Done, Event, as_sse, meta_of
from assistant.answering.evidence import gather_units, nearby_questions
from assistant.answering.plan import Prepared
from assistant.answering.question import Glossary, understand
from assistant.answering.writers.extractive import refusal, write_extractive
from assistant.config import Settings
from assistant.retrieve import HybridRetriever
from assistant.textnorm import clauses, content_tokens, split_sentences
from assistant.types import Answer, AskRequest, Chunk, Passage


class AnswerPipeline:
    """The extractive engine: answers with the report's own sentences, chosen by evidence, intent and MMR."""

    name = "extractive"

    def __init__(
        self,
        retriever: HybridRetriever,
        settings: Settings,
        glossary: Glossary | None = None,
        coverage_model: CoverageModel | None = None,
    ) -> None:
        self.retriever = retriever
        self.settings = settings
        self.glossary = glossary or Glossary.packaged()
        self.coverage_model = coverage_model  # fitted by `lva tune`; None: the hand rules decide

    def prepare(self, request: AskRequest, standalone: str | None = None) -> Prepared:
        """Stages 1–3: understand the question, gather and score the evidence, decide the coverage."""
        started = time.perf_counter()
        question = understand(
            request.question,
            request.history,
            self.retriever.vocabulary,
            self.glossary,
            standalone,
            self.retriever.listed_only,
        )
        if not content_tokens(question.standalone):
            return Prepared(question, [], [], decide(question, [], self.settings))
        k = request.k or self.settings.answer_passages
        passages = self.retriever.search(question.standalone, k, request.filters)  # expands jargon itself
        passages = with_following(passages, self.retriever.chunks, question.intent in ("how", "judgement"))
        retrieved = time.perf_counter()
        ids = {p.id for p in passages}
        ids |= {f"{p.id}#s{i}" for p in passages for i in range(len(split_sentences(p.text)))}
        vectors = self.retriever.index.embeddings_for(sorted(ids))
        query_vector = np.asarray(
            self.retriever.embed_query(self.retriever.dense_text(question.standalone)), np.float32
        )
        # A multi-part question is also read part by part: a unit that answers one part well should not lose
        # to one that is vaguely close to the whole.
        part_vectors = [
            np.asarray(self.retriever.embed_query(self.retriever.dense_text(part)), np.float32)
            for part in clauses(question.standalone)
        ]
        nearby = nearby_questions(passages, self.retriever.questions_of, query_vector)
        units = gather_units(
            question,
            passages,
            vectors,
            query_vector,
            self.retriever.heading_scorer(query_vector),
            self.glossary.token_groups(question.standalone),
            self.retriever.idf(),
            part_vectors,
            self.glossary.actor_groups(question.standalone),
            nearby,
        )
        nearest = nearby[0].sim if nearby else None
        decision = decide(question, units, self.settings, nearest, self.coverage_model, passages)
        timings = {"retrieve": (retrieved - started) * 1000, "score": (time.perf_counter() - retrieved) * 1000}
        return Prepared(question, passages, units, decision, timings, nearby)

    def write(self, prepared: Prepared) -> Answer:
        """Stage 4–5 for the extractive engine: points, lead line, suggestions, all through `verify_answer`."""
        if prepared.decision.coverage == "not_covered":
            return refusal(prepared, self.name)
        return write_extractive(prepared, self.settings, self.name)

    def answer(self, request: AskRequest) -> Answer:
        """A complete answer: grounded points, a partial answer that says so, or the refusal."""
        started = time.perf_counter()
        prepared = self.prepare(request)
        answer = self.write(prepared)
        answer.timings_ms = timings(prepared, started)
        return answer

    def run(self, request: AskRequest) -> Iterator[Event]:
        """The answer as typed events: `meta`, `delta`s line by line, `done`."""
        answer = self.answer(request)
        yield meta_of(answer)
        for line in answer.answer.splitlines(keepends=True):
            yield Delta(text=line)
        yield Done(answer=answer)

    def stream(self, request: AskRequest) -> Iterator[tuple[str, dict]]:
        """`run` as the API's server-sent events."""
        for event in self.run(request):
            yield as_sse(event)


FOLLOWING_FOR = 3  # the best passages whose next paragraph is also read for "how" and "is it worth it" questions


def with_following(passages: list[Passage], chunks: list[Chunk], remedies: bool = True) -> list[Passage]:
    """The passages plus what follows some of them in the same section: the list or quote after a passage that
    ends on a colon ("…working with the Local Vision programmes:"), and, when `remedies`, the paragraph after each
    of the best few: the report often states a problem in one paragraph and what to do about it in the next (see
    `carry_remedies`)."""
    by_position = {(c.source, c.order): c for c in chunks}
    have = {p.id for p in passages}
    extra: list[Passage] = []
    for rank, p in enumerate(passages):
        lead_in = p.text.rstrip().endswith(":")
        if not lead_in and not (remedies and rank < FOLLOWING_FOR):
            continue
        following = by_position.get((p.source, p.order + 1))
        if following is not None and not lead_in and following.kind == "quote" and p.kind != "quote":
            # A quote set inside the paragraph's argument: the argument goes on after it.
            following = by_position.get((p.source, p.order + 2))
        if following is not None and following.section == p.section and following.id not in have:
            have.add(following.id)
            extra.append(Passage(**following.model_dump(), score=0.0))
    return [*passages, *extra]


def timings(prepared: Prepared, started: float) -> dict[str, float]:
    """Milliseconds spent retrieving, answering, and in all."""
    total = (time.perf_counter() - started) * 1000
    retrieve = prepared.timings_ms.get("retrieve", 0.0)
    return {"retrieve": round(retrieve, 2), "answer": round(total - retrieve, 2), "total": round(total, 2)}
