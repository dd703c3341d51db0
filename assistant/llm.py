"""LLM answer engines (LangChain chat models) behind code guards, falling back to the extractive engine.

The LLM only writes prose with [n] markers over the top passages. Code decides whether to answer, keeps
only sentences whose markers resolve and whose content words the cited passages support, fixes quotes to
exact source spans, and builds every citation. Any failure, timeout or empty result → extractive answer.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from assistant import prompts
from assistant.answer import (
    ExtractiveEngine,
    Plan,
    _join,
    _meta,
    _timings,
    looks_like_instruction,
    sources_of,
    strip_quote_marks,
)
from assistant.config import Settings
from assistant.errors import LLMUnavailable
from assistant.grounding import (
    MARKER,
    content_tokens,
    is_supported,
    locate,
    quoted_spans,
    support_recall,
    verify_answer,
)
from assistant.textnorm import split_sentences
from assistant.types import Answer, AskRequest, Citation, Passage

log = logging.getLogger(__name__)
MIN_CLAIM_WORDS = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d{1,3}\])*(?=\s|$)")
_PROMPT_WORDS = prompts.SYSTEM_PROMPT.lower().split()


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over an in-process llama.cpp GGUF model (loaded once, used by one thread)."""

    model_path: str
    n_threads: int = 2
    n_ctx: int = 4096
    max_tokens: int = 320
    temperature: float = 0.0
    lock_timeout_s: float = 30.0
    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp-local"

    def _client(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False)
        return self._llama

    def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return {
            "messages": [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": stop or [],
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._exclusive():
            out = self._client().create_chat_completion(**self._request(messages, stop))
        content = out["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._exclusive():
            parts = self._client().create_chat_completion(**self._request(messages, stop), stream=True)
            try:
                for part in parts:
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield ChatGenerationChunk(message=AIMessageChunk(content=delta))
            finally:
                parts.close()  # a reader that went away must not leave llama.cpp mid-generation

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One generation at a time (llama.cpp contexts are not thread-safe); never wait forever for the turn."""
        if not self._lock.acquire(timeout=self.lock_timeout_s):
            raise LLMUnavailable("the local model is busy")
        try:
            yield
        finally:
            self._lock.release()


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model `LVA_LLM` names; raises `LLMUnavailable` with what to do when it cannot be built."""
    if settings.llm == "openai":
        from langchain_openai import ChatOpenAI

        if not settings.llm_base_url:
            raise LLMUnavailable("LVA_LLM=openai needs LVA_LLM_BASE_URL (any OpenAI-compatible server)")
        return ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout_s,
            max_retries=0,
            temperature=0,
            max_completion_tokens=settings.llm_max_tokens,
        )
    if settings.llm == "llamacpp":
        path = settings.resolved_llm_model_path()
        if not path.is_file():
            raise LLMUnavailable(f"no GGUF model at {path}; run `lva models pull {settings.llm_model}`")
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise LLMUnavailable("llama-cpp-python is not installed; pip install '.[local-llm]'") from None
        return LlamaCppChat(
            model_path=str(path),
            n_threads=settings.llm_threads,
            max_tokens=settings.llm_max_tokens,
            lock_timeout_s=settings.llm_timeout_s,
        )
    raise LLMUnavailable(f"LVA_LLM={settings.llm} is not an LLM engine")


def prompt_excerpts(plan: Plan, limit: int, sentences: int = 2) -> list[str]:
    """The best sentences of each of the top passages, in reading order: a short prompt is a fast one on a CPU."""
    excerpts = []
    for passage in plan.passages[:limit]:
        units = sorted((u for u in plan.units if u.passage.id == passage.id), key=lambda u: -u.score)[:sentences]
        chosen = sorted(units, key=lambda u: u.start)
        if chosen:
            text = " ".join(u.text for u in chosen)
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
        span = next((s for n in valid if (s := locate(quote, passages[n - 1].text))), None)
        if span is None:
            return None
        text = next(passages[n - 1].text for n in valid if locate(quote, passages[n - 1].text) == span)
        sentence = sentence.replace(quote, text[span[0] : span[1]].strip('“”"'), 1)
    claim = MARKER.sub("", sentence)
    if not is_supported(claim, evidence):
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


class LLMEngine:
    """An LLM writes the prose; code guards it; the extractive engine stands behind it."""

    def __init__(self, chat_model: BaseChatModel, name: str, extractive: ExtractiveEngine, settings: Settings) -> None:
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

    def _plan(self, request: AskRequest) -> Plan:
        standalone = self.condense(request)
        plan = self.extractive.plan(request, standalone)
        if standalone is not None and not plan.answerable:
            plan = self.extractive.plan(request)  # the deterministic rewrite gets its chance too
        return plan

    def answer(self, request: AskRequest) -> Answer:
        """The LLM's guarded answer, or the extractive one when the LLM fails any check."""
        started = time.perf_counter()
        plan = self._plan(request)
        if not plan.answerable:
            answer = self.extractive.refusal(plan)
        else:
            try:
                text = self._invoke(self._messages(plan), self.settings.llm_timeout_s)
                answer = self._guarded(text, plan)
            except LLMUnavailable as exc:
                log.warning("llm fallback: %s", exc)
                answer = self.extractive.compose(plan)
        answer.timings_ms = _timings(plan, started)
        return answer

    def _messages(self, plan: Plan) -> list[BaseMessage]:
        shown = plan.passages[: self.settings.llm_passages]
        return answer_messages(plan.standalone, shown, prompt_excerpts(plan, self.settings.llm_passages))

    def _lead(self, plan: Plan) -> str:
        """The code-written first line naming where the report treats the subject."""
        sections = list(dict.fromkeys(u.passage.section for u in self.extractive.select_points(plan.units)))
        return prompts.ANSWER_LEAD.format(sections=_join([f"*{s}*" for s in sections])) if sections else ""

    def _guarded(self, text: str, plan: Plan) -> Answer:
        kept: list[str] = []
        citations: dict[int, Citation] = {}
        shown = plan.passages[: self.settings.llm_passages]
        for raw in _split_llm_sentences(text):
            result = guard_sentence(raw, shown)
            if result is None:
                continue
            sentence, numbers = result
            kept.append(sentence)
            for n in numbers:
                citations.setdefault(n, citation_for(n, sentence, plan.passages[n - 1]))
        if not kept:
            raise LLMUnavailable(f"{self.name} produced no sentence that passed the guards")
        body = "\n\n".join(x for x in (self._lead(plan), " ".join(kept)) if x)
        clean, used = verify_answer(body, list(citations.values()), sources_of(plan.passages))
        if not used:
            raise LLMUnavailable(f"{self.name} produced no sentence that passed the guards")
        return Answer(
            answer=clean, answerable=True, citations=used, standalone_question=plan.standalone, engine=self.name
        )

    def stream(self, request: AskRequest) -> Iterator[tuple[str, dict]]:
        """`meta`, then guarded sentences as `delta`s while the LLM writes, then `done`; falls back mid-way."""
        started = time.perf_counter()
        plan = self._plan(request)
        if not plan.answerable:
            yield from self.extractive.stream(request)
            return
        shown = plan.passages[: self.settings.llm_passages]
        candidates = [citation_for(n, plan.standalone, p) for n, p in enumerate(shown, start=1)]
        yield (
            "meta",
            {
                "answerable": True,
                "standalone_question": plan.standalone,
                "citations": [c.model_dump() for c in candidates],
                "closest": [],
                "engine": self.name,
            },
        )
        kept: list[str] = []
        citations: dict[int, Citation] = {}
        deadline = time.monotonic() + self.settings.llm_timeout_s
        buffer = ""
        lead = self._lead(plan)
        if lead:  # grounded text the reader can start on while the model reads its passages
            yield "delta", {"text": lead + "\n\n"}
        model_stream = self.chat_model.stream(self._messages(plan))
        try:
            for chunk in model_stream:
                buffer += str(chunk.content)
                *complete, buffer = _split_complete(buffer)
                for raw in complete:
                    if (result := guard_sentence(raw, shown)) is not None:
                        sentence, numbers = result
                        for n in numbers:
                            citations.setdefault(n, citation_for(n, sentence, plan.passages[n - 1]))
                        kept.append(sentence)
                        yield "delta", {"text": ("" if len(kept) == 1 else " ") + sentence}
                if time.monotonic() > deadline:
                    raise LLMUnavailable(f"{self.name} ran past {self.settings.llm_timeout_s:.0f}s")
            if buffer.strip() and (result := guard_sentence(buffer.strip(), shown)) is not None:
                sentence, numbers = result
                for n in numbers:
                    citations.setdefault(n, citation_for(n, sentence, plan.passages[n - 1]))
                kept.append(sentence)
                yield "delta", {"text": ("" if len(kept) == 1 else " ") + sentence}
        except Exception as exc:
            log.warning("llm stream fallback: %s", exc)
        finally:
            model_stream.close()  # also when our own reader stops early: release the model at once
        body = "\n\n".join(x for x in (lead, " ".join(kept)) if x)
        clean, used = verify_answer(body, list(citations.values()), sources_of(plan.passages))
        if kept and used:
            answer = Answer(
                answer=clean, answerable=True, citations=used, standalone_question=plan.standalone, engine=self.name
            )
        else:
            answer = self.extractive.compose(plan)
            yield "meta", _meta(answer)  # replaces the candidate citations
            yield "delta", {"text": answer.answer, "replace": True}
        answer.timings_ms = _timings(plan, started)
        yield "done", answer.model_dump()


def _split_llm_sentences(text: str) -> list[str]:
    """Sentences of LLM output, each keeping the [n] markers that follow its full stop."""
    parts, cursor = [], 0
    flat = " ".join(text.split())
    for match in _SENTENCE_END.finditer(flat):
        parts.append(flat[cursor : match.end()].strip())
        cursor = match.end()
    if flat[cursor:].strip():
        parts.append(flat[cursor:].strip())
    return [p for p in parts if p]


def _split_complete(buffer: str) -> list[str]:
    """Complete sentences of a growing buffer plus the unfinished rest (last item). A sentence counts as
    complete once something follows its markers, so a trailing [n] is never cut off."""
    flat = " ".join(buffer.split()) + (" " if buffer[-1:].isspace() else "")
    out, cursor = [], 0
    for match in _SENTENCE_END.finditer(flat):
        if match.end() >= len(flat.rstrip()):
            break
        out.append(flat[cursor : match.end()].strip())
        cursor = match.end()
    return [*[o for o in out if o], flat[cursor:]]
