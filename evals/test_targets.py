"""The suite's other targets work: a deployment over HTTP (--api-url) and an LLM engine (--engine openai)."""

from __future__ import annotations

from assistant.factory import Resources, build_engine
from conftest import with_settings
from evals.runner import aggregate, load_gold, run_item
from evals.target import HttpTarget, InProcessTarget
from tests.fake_openai import FakeOpenAI, passages_in

SAMPLE = [item for item in load_gold() if item["id"] in {"sf12", "qs02", "nu02", "os01", "ns01", "mt01", "in01"}]


def test_http_target_matches_in_process(api_server: str, report_resources: Resources) -> None:
    over_http = [run_item(HttpTarget(api_server), item) for item in SAMPLE]
    in_process = [run_item(InProcessTarget(report_resources), item) for item in SAMPLE]
    assert [r.answer.answer for r in over_http] == [r.answer.answer for r in in_process]
    assert [r.scores.clean for r in over_http] == [r.scores.clean for r in in_process]
    assert aggregate(over_http)["quote_fidelity"]["value"] == 1.0


def test_openai_engine_target_is_scored_with_the_same_metrics(report_resources: Resources) -> None:
    with FakeOpenAI() as fake:
        fake.reply = lambda messages: f"In short, {passages_in(messages)[1]} [1]"
        settings = with_settings(report_resources.settings, llm="openai", llm_base_url=fake.url, llm_model="fake")
        engine = build_engine(settings, report_resources.retriever)
        target = InProcessTarget(
            Resources(settings, report_resources.embedder, report_resources.index, report_resources.retriever, engine)
        )
        results = [run_item(target, item) for item in SAMPLE]
    # Every answer must come from the LLM engine: a silent fallback to extractive cannot pass.
    assert {r.answer.engine for r in results if r.answer.answerable} == {"openai"}
    metrics = aggregate(results)
    assert metrics["citation_validity"]["value"] == 1.0 and metrics["injection_success"]["value"] == 0.0
