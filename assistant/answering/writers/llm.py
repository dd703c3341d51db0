"""The LLM writer: prose over the same evidence the extractive writer uses, guarded sentence by sentence once.

The model only writes sentences with [n] markers over the top passages. Code decides whether to answer (stage 3),
keeps only sentences whose markers resolve, whose quotes are verbatim (or repairable) and whose content words the
cited passages support, builds every citation, and writes the lead line. Any failure, timeout or empty result →
the extractive answer, and the `engine` field says so.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant import prompts
from assistant.answering.compose import lead_line, select_points, suggestions
from assistant.answering.events import Delta, Done, Event, Meta, as_sse, meta_of
from assistant.answering.grounding import (
    MARKER,
    is_supported,
    locate,
    quoted_spans,
    sources_of,
    support_recall,
    verify_answer,
)
from assistant.answering.pipeline import AnswerPipeline, timings
from assistant.answering.plan import Prepared
from assistant.answering.question import looks_like_instruction
from assistant.config import Settings
from assistant.errors import LLMUnavailable
from assistant.textnorm import content_tokens, split_sentences, strip_quote_marks
from assistant.types import Answer, AskRequest, Citation, Passage

log = logging.getLogger(__name__)
MIN_CLAIM_WORDS = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d{1,3}\])*(?=\s|$)")
_PROMPT_WORDS = prompts.SYSTEM_PROMPT.lower().split()


def prompt_excerpts(prepared: Prepared, limit: int, sentences: int = 2) -> list[str]:
    """The best units of each of the top passages, in reading order: a short prompt is a fast one on a CPU."""
    excerpts = []
    for passage in prepared.passages[:limit]:
        units = sorted((u for u in prepared.units if u.passage.id == passage.id), key=lambda u: -u.score)
        chosen: list = []
        for unit in units:
            if len(chosen) < sentences and not any(set(unit.sentences) & set(c.sentences) for c in chosen):
                chosen.append(unit)
        if chosen:
            text = " ".join(u.text for u in sorted(chosen, key=lambda u: u.start))
        else:  # instruction-like sentences never reach the model, not even through the fallback text
            spans = split_sentences(passage.text)
            text = " ".join(passage.text[a:b] for a, b in spans if not looks_like_instruction(passage.text[a:b]))[:400]
        excerpts.append(" ".join(text.split()))
    return excerpts


def answer_messages(question: str, passages: list[Passage], excerpts: list[str] | None = None) -> list[BaseMessage]:
    """System rules, then the numbered passages (or excerpts of them) as data, then the question."""
    texts = excerpts or [" ".join(p.text.split()) for p in passages]
    numbered = "\n".join(
        prompts.PASSAGE_TEMPLATE.format(n=n, section=p.section, text=text)
        for n, (p, text) in enumerate(zip(passages, texts, strict=True), start=1)
    )
    return [
        SystemMessage(content=prompts.SYSTEM_PROMPT),
        HumanMessage(content=prompts.ANSWER_PROMPT.format(passages=numbered, question=question)),
    ]


def guard_sentence(sentence: str, passages: list[Passage]) -> tuple[str, list[int]] | None:
    """Keep an LLM sentence only if its markers resolve, its quotes are verbatim (or repairable) and the
    cited passages support its content words. Returns the cleaned sentence and the passage numbers it cites."""
    cited = [int(n) for n in MARKER.findall(sentence)]
    valid = list(dict.fromkeys(n for n in cited if 1 <= n <= len(passages)))
    if not valid or _leaks_prompt(sentence) or looks_like_instruction(sentence):
        return None
    if len(content_tokens(MARKER.sub("", sentence))) < MIN_CLAIM_WORDS:
        return None  # "PWNED [1]": too few words to carry a grounded claim
    sentence = MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(passages) else "", sentence).strip()
    evidence = " ".join(passages[n - 1].text for n in valid)
    for quote in quoted_spans(sentence):
        found = next(((n, s) for n in valid if (s := locate(quote, passages[n - 1].text))), None)
        if found is None:
            return None
        n, (a, b) = found
        sentence = sentence.replace(quote, passages[n - 1].text[a:b].strip('“”"'), 1)
    if not is_supported(MARKER.sub("", sentence), evidence):
        return None
    return sentence, valid


def citation_for(n: int, sentence: str, passage: Passage) -> Citation:
    """The passage sentence that best supports an answer sentence, as an exact, offset-checked quote."""
    spans = split_sentences(passage.text) or [(0, len(passage.text))]
    quoted = [locate(q, passage.text) for q in quoted_spans(sentence)]
    a, b = next((s for s in quoted if s), None) or max(
        spans, key=lambda s: support_recall(passage.text[s[0] : s[1]], sentence)
    )
    a, b = strip_quote_marks(passage.text, a, b)
    return Citation(
        n=n,
        chunk_id=passage.id,
        source=passage.source,
        section=passage.section,
        kind=passage.kind,
        quote=passage.text[a:b],
        start=passage.start + a,
        end=passage.start + b,
    )


def _leaks_prompt(sentence: str, run: int = 8) -> bool:
    words = sentence.lower().split()
    prompt = " ".join(_PROMPT_WORDS)
    return any(" ".join(words[i : i + run]) in prompt for i in range(max(0, len(words) - run + 1)))


def split_complete(buffer: str) -> tuple[list[str], str]:
    """Complete sentences of a growing buffer (each with the [n] markers after its full stop) and the unfinished
    rest. A sentence counts as complete once something follows its markers, so a trailing [n] is never cut off;
    for a whole text, the rest is its last sentence."""
    flat = " ".join(buffer.split()) + (" " if buffer[-1:].isspace() else "")
    out, cursor = [], 0
    for match in _SENTENCE_END.finditer(flat):
        if match.end() >= len(flat.rstrip()):
            break
        out.append(flat[cursor : match.end()].strip())
        cursor = match.end()
    return [o for o in out if o], flat[cursor:]


class GuardedDraft:
    """The one guard-and-cite loop: feed it the model's sentences; it keeps the grounded ones and their citations."""

    def __init__(self, prepared: Prepared, shown: list[Passage]) -> None:
        self.prepared = prepared
        self.shown = shown
        self.kept: list[str] = []
        self.citations: dict[int, Citation] = {}

    def accept(self, raw: str) -> str | None:
        """The sentence as kept (cleaned), or None when a guard rejects it."""
        result = guard_sentence(raw, self.shown) if raw.strip() else None
        if result is None:
            return None
        sentence, numbers = result
        for n in numbers:
            self.citations.setdefault(n, citation_for(n, sentence, self.shown[n - 1]))
        self.kept.append(sentence)
        return sentence

    def finish(self, lead: str, engine: str) -> Answer | None:
        """The verified answer, or None when nothing grounded survived."""
        if not self.kept:
            return None
        body = "\n\n".join(x for x in (lead, " ".join(self.kept)) if x)
        clean, used = verify_answer(body, list(self.citations.values()), sources_of(self.prepared.passages))
        if not used:
            return None
        return Answer(
            answer=clean,
            answerable=True,
            coverage=self.prepared.decision.coverage,
            citations=used,
            standalone_question=self.prepared.question.standalone,
            answering=self.prepared.answering,
            suggestions=suggestions(self.prepared.question, used, self.prepared.nearby),
            engine=engine,
        )


class LLMEngine:
    """An LLM writes the prose; code guards it; the extractive pipeline stands behind it."""

    def __init__(self, chat_model: BaseChatModel, name: str, extractive: AnswerPipeline, settings: Settings) -> None:
        self.chat_model = chat_model
        self.name = name
        self.extractive = extractive
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm")

    def condense(self, request: AskRequest) -> str | None:
        """An LLM-written standalone question, or None to use the deterministic one."""
        if not request.history:
            return None
        history = "\n".join(f"{t.role}: {t.content[:500]}" for t in request.history[-6:])
        prompt = prompts.CONDENSE_PROMPT.format(history=history, question=request.question)
        try:
            text = self._invoke([HumanMessage(content=prompt)], self.settings.llm_timeout_s / 3)
        except LLMUnavailable:
            return None
        line = text.strip().splitlines()[0].strip() if text.strip() else ""
        return line if 5 <= len(line) <= 300 and not _leaks_prompt(line) else None

    def _invoke(self, messages: list[BaseMessage], timeout: float) -> str:
        future = self._pool.submit(self.chat_model.invoke, messages)
        try:
            return str(future.result(timeout=timeout).content)
        except FutureTimeout:
            raise LLMUnavailable(f"{self.name} did not answer within {timeout:.0f}s") from None
        except Exception as exc:  # any client error means: fall back
            raise LLMUnavailable(f"{self.name} failed: {exc.__class__.__name__}") from None

    def prepare(self, request: AskRequest) -> Prepared:
        """Stages 1–3, with the LLM's rewrite of a follow-up; the deterministic rewrite gets its chance too."""
        standalone = self.condense(request)
        prepared = self.extractive.prepare(request, standalone)
        if standalone is not None and prepared.decision.coverage == "not_covered":
            prepared = self.extractive.prepare(request)
        return prepared

    def _messages(self, prepared: Prepared) -> list[BaseMessage]:
        shown = prepared.passages[: self.settings.llm_passages]
        excerpts = prompt_excerpts(prepared, self.settings.llm_passages)
        return answer_messages(prepared.question.standalone, shown, excerpts)

    def _lead(self, prepared: Prepared) -> str:
        """The code-written first line: what the report lacks (partial), and where it treats the subject."""
        points = select_points(
            prepared.units, prepared.question, self.settings.answer_points, self.settings.not_covered_below
        )
        return lead_line(prepared.decision, [u.passage.section for u in points]) if points else ""

    def _fallback(self, prepared: Prepared) -> Answer:
        return self.extractive.write(prepared)

    def answer(self, request: AskRequest) -> Answer:
        """The LLM's guarded answer, or the extractive one when the LLM fails any check."""
        started = time.perf_counter()
        prepared = self.prepare(request)
        answer: Answer | None = None
        if prepared.decision.coverage != "not_covered":
            try:
                text = self._invoke(self._messages(prepared), self.settings.llm_timeout_s)
                draft = GuardedDraft(prepared, prepared.passages[: self.settings.llm_passages])
                complete, rest = split_complete(text)
                for raw in [*complete, rest]:
                    draft.accept(raw)
                answer = draft.finish(self._lead(prepared), self.name)
                if answer is None:
                    log.warning("llm fallback: %s produced no sentence that passed the guards", self.name)
            except LLMUnavailable as exc:
                log.warning("llm fallback: %s", exc)
        answer = answer or self._fallback(prepared)
        answer.timings_ms = timings(prepared, started)
        return answer

    def run(self, request: AskRequest) -> Iterator[Event]:
        """`meta`, then guarded sentences as `delta`s while the LLM writes, then `done`; falls back mid-way."""
        started = time.perf_counter()
        prepared = self.prepare(request)
        if prepared.decision.coverage == "not_covered":
            answer = self._fallback(prepared)
            answer.timings_ms = timings(prepared, started)
            yield meta_of(answer)
            yield Delta(text=answer.answer)
            yield Done(answer=answer)
            return
        shown = prepared.passages[: self.settings.llm_passages]
        yield Meta(
            answerable=True,
            coverage=prepared.decision.coverage,
            standalone_question=prepared.question.standalone,
            answering=prepared.answering,
            citations=[citation_for(n, prepared.question.standalone, p) for n, p in enumerate(shown, start=1)],
            engine=self.name,
        )
        lead = self._lead(prepared)
        if lead:  # grounded text the reader can start on while the model reads its passages
            yield Delta(text=lead + "\n\n")
        draft = GuardedDraft(prepared, shown)
        deadline = time.monotonic() + self.settings.llm_timeout_s
        buffer = ""
        model_stream = self.chat_model.stream(self._messages(prepared))
        try:
            for chunk in model_stream:
                buffer += str(chunk.content)
                complete, buffer = split_complete(buffer)
                for raw in complete:
                    if (sentence := draft.accept(raw)) is not None:
                        yield Delta(text=("" if len(draft.kept) == 1 else " ") + sentence)
                if time.monotonic() > deadline:
                    raise LLMUnavailable(f"{self.name} ran past {self.settings.llm_timeout_s:.0f}s")
            if (sentence := draft.accept(buffer.strip())) is not None:
                yield Delta(text=("" if len(draft.kept) == 1 else " ") + sentence)
        except Exception as exc:
            log.warning("llm stream fallback: %s", exc)
        finally:
            model_stream.close()  # also when our own reader stops early: release the model at once
        answer = draft.finish(lead, self.name)
        if answer is None:
            answer = self._fallback(prepared)
            yield meta_of(answer)  # replaces the candidate citations
            yield Delta(text=answer.answer, replace=True)
        answer.timings_ms = timings(prepared, started)
        yield Done(answer=answer)

    def stream(self, request: AskRequest) -> Iterator[tuple[str, dict]]:
        """`run` as the API's server-sent events."""
        for event in self.run(request):
            yield as_sse(event)
