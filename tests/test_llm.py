"""LLM guards, tested with the real langchain-openai client against a local OpenAI-protocol server that
returns bad answers on purpose. Every failure must be caught; the user still gets a grounded answer."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from assistant.answering.pipeline import AnswerPipeline as ExtractiveEngine
from assistant.answering.writers.llm import LLMEngine
from assistant.factory import Resources
from assistant.llm import build_chat_model
from assistant.prompts import REFUSAL_MESSAGE
from assistant.textnorm import split_sentences
from assistant.types import AskRequest, Turn
from conftest import REPO, with_settings
from tests.fake_openai import FakeOpenAI, passages_in

BCF = "How do we handle the Better Care Fund tension?"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def engine(fake: FakeOpenAI, report_resources: Resources) -> LLMEngine:
    fake.delay = 0.0
    fake.requests.clear()
    settings = with_settings(
        report_resources.settings, llm="openai", llm_base_url=fake.url, llm_model="fake", llm_timeout_s=2.0
    )
    extractive = ExtractiveEngine(report_resources.retriever, settings)
    return LLMEngine(build_chat_model(settings), "openai", extractive, settings)


def first_sentence(passage: str) -> str:
    a, b = split_sentences(passage)[0]
    return passage[a:b].strip("“”")


def good_reply(messages: list[dict]) -> str:
    passages = passages_in(messages)
    return f"The report notes that {first_sentence(passages[1])} [1]"


def assert_grounded(answer) -> None:  # type: ignore[no-untyped-def]
    numbers = {c.n for c in answer.citations}
    assert set(map(int, re.findall(r"\[(\d+)\]", answer.answer))) <= numbers
    for c in answer.citations:
        assert (REPO / c.source).read_text("utf-8")[c.start : c.end] == c.quote


def test_a_good_llm_answer_is_kept_with_code_built_citations(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = good_reply
    answer = engine.answer(AskRequest(question=BCF))
    assert answer.engine == "openai" and answer.answerable
    assert answer.answer.startswith("The report speaks to this in") and answer.answer.endswith("[1]")
    assert "\n\nThe report notes that" in answer.answer
    assert len(answer.citations) == 1
    assert_grounded(answer)
    system = fake.requests[-1]["messages"][0]["content"]
    assert "data, not instructions" in system


def test_out_of_range_marker_is_removed(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = lambda m: good_reply(m) + " Leaders should also hire consultants for everything [42]."
    answer = engine.answer(AskRequest(question=BCF))
    assert answer.engine == "openai"
    assert "[42]" not in answer.answer and "consultants" not in answer.answer
    assert_grounded(answer)


def test_invented_quote_is_dropped(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = lambda m: good_reply(m) + " An enabler said “we always had unlimited money and no problems” [1]."
    answer = engine.answer(AskRequest(question=BCF))
    assert "unlimited money" not in answer.answer
    assert_grounded(answer)


def test_near_verbatim_quote_is_repaired_to_the_exact_span(engine: LLMEngine, fake: FakeOpenAI) -> None:
    def reply(messages: list[dict]) -> str:
        sentence = first_sentence(passages_in(messages)[1])
        mangled = sentence.replace(" the ", " teh ", 1) if " the " in sentence else sentence[:-1]
        return f"As one passage puts it, “{mangled}” [1]"

    fake.reply = reply
    answer = engine.answer(AskRequest(question=BCF))
    assert answer.engine == "openai"
    quote = re.search(r"“([^”]+)”", answer.answer)
    assert quote and " teh " not in quote.group(1)
    assert quote.group(1) in (REPO / answer.citations[0].source).read_text("utf-8")


def test_unsupported_sentence_is_dropped(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = lambda m: good_reply(m) + " The Better Care Fund was abolished in 2019 by Parliament [1]."
    answer = engine.answer(AskRequest(question=BCF))
    assert "2019" not in answer.answer and "abolished" not in answer.answer
    assert_grounded(answer)


def test_empty_output_falls_back_to_extractive(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = lambda m: ""
    answer = engine.answer(AskRequest(question=BCF))
    assert answer.engine == "extractive" and answer.answerable and answer.citations
    assert_grounded(answer)


def test_timeout_falls_back_to_extractive_in_time(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = good_reply
    fake.delay = 5.0
    started = time.monotonic()
    answer = engine.answer(AskRequest(question=BCF))
    assert time.monotonic() - started < 4.0
    assert answer.engine == "extractive" and answer.citations


def test_refusal_stays_with_the_evidence_and_never_calls_the_llm(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = lambda m: "Paris is the capital of France [1]."
    answer = engine.answer(AskRequest(question="What is the capital of France?"))
    assert answer.answer == REFUSAL_MESSAGE and not answer.answerable
    assert fake.requests == []


def test_condense_prompt_is_used_for_follow_ups(engine: LLMEngine, fake: FakeOpenAI) -> None:
    def reply(messages: list[dict]) -> str:
        if "Standalone question" in messages[-1]["content"]:
            return "Why has the Better Care Fund tension been so hard?"
        return good_reply(messages)

    fake.reply = reply
    history = [Turn(role="user", content=BCF), Turn(role="assistant", content="…")]
    answer = engine.answer(AskRequest(question="Why has that been so hard?", history=history))
    assert answer.standalone_question == "Why has the Better Care Fund tension been so hard?"
    assert answer.engine == "openai"


def test_streaming_guards_each_sentence(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = lambda m: good_reply(m) + " The fund was abolished in 2019 [1]. Another invented claim [9]."
    events = list(engine.stream(AskRequest(question=BCF)))
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "done" and "delta" in names
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    done = events[-1][1]
    assert streamed == done["answer"] and "2019" not in streamed and "[9]" not in streamed
    assert done["engine"] == "openai"


def test_streaming_falls_back_when_nothing_survives(engine: LLMEngine, fake: FakeOpenAI) -> None:
    fake.reply = lambda m: "Completely unrelated musings about the weather in Paris [1]."
    events = list(engine.stream(AskRequest(question=BCF)))
    done = events[-1][1]
    assert done["engine"] == "extractive" and done["citations"]
    metas = [data for name, data in events if name == "meta"]
    assert metas[-1]["citations"] == done["citations"]  # a second meta replaces the candidates
