"""The evaluation target (in-process engine or a deployment over HTTP) and one shared run of the gold set."""

from __future__ import annotations

import pytest

from assistant.factory import Resources, build_engine
from conftest import with_settings
from evals.leaders import LeaderResult, load_leaders, run_leader_item
from evals.report import write_report
from evals.ruler import AskResult, load_ruler, run_ruler
from evals.runner import ItemResult, aggregate, load_gold, run_item
from evals.target import EvalTarget, HttpTarget, InProcessTarget


@pytest.fixture(scope="session")
def eval_target(request: pytest.FixtureRequest, report_resources: Resources) -> EvalTarget:
    """What `pytest evals/` evaluates, chosen by --api-url / --engine."""
    options = request.config.option
    if options.api_url:
        return HttpTarget(options.api_url, options.api_key)
    if options.engine == "extractive":
        return InProcessTarget(report_resources)
    changes: dict[str, object] = {"llm": options.engine}
    if options.llm_base_url:
        changes["llm_base_url"] = options.llm_base_url
    if options.llm_model:
        changes["llm_model"] = options.llm_model
    settings = with_settings(report_resources.settings, **changes)
    engine = build_engine(settings, report_resources.retriever)
    return InProcessTarget(
        Resources(settings, report_resources.embedder, report_resources.index, report_resources.retriever, engine)
    )


@pytest.fixture(scope="session")
def leaders_run(eval_target: EvalTarget) -> list[LeaderResult]:
    """Every item of the leaders' set answered once and scored against its labels."""
    return [run_leader_item(eval_target, item) for item in load_leaders()]


@pytest.fixture(scope="session")
def ablation_run(request: pytest.FixtureRequest, report_resources: Resources) -> list[LeaderResult] | None:
    """The leaders' set again with the answer-type and unknown-terms rules switched off (in-process extractive
    engine only): what each rule buys and what it costs."""
    if request.config.option.api_url or request.config.option.engine != "extractive":
        return None
    settings = with_settings(report_resources.settings, answer_type_rule=False, unknown_terms_rule=False)
    engine = build_engine(settings, report_resources.retriever)
    target = InProcessTarget(
        Resources(settings, report_resources.embedder, report_resources.index, report_resources.retriever, engine)
    )
    return [run_leader_item(target, item) for item in load_leaders()]


@pytest.fixture(scope="session")
def ruler_run(eval_target: EvalTarget) -> list[AskResult]:
    """Every ask of the ruler (all splits, every turn of every dialogue) answered once and scored."""
    return run_ruler(eval_target, load_ruler())


@pytest.fixture(scope="session")
def eval_run(
    eval_target: EvalTarget,
    leaders_run: list[LeaderResult],
    ablation_run: list[LeaderResult] | None,
    ruler_run: list[AskResult],
) -> tuple[list[ItemResult], dict[str, dict[str, float]]]:
    """Every gold item answered and scored once; writes evals/report/ with the leaders' metrics first."""
    results = [run_item(eval_target, item) for item in load_gold()]
    metrics = aggregate(results)
    report_dir = write_report(eval_target.name, results, metrics, leaders_run, ablation_run, ruler_run)
    print(f"\ngroundedness report: {report_dir / 'report.md'}")
    return results, metrics


@pytest.fixture(scope="session")
def ruler_report(eval_run: tuple[list[ItemResult], dict[str, dict[str, float]]]) -> None:
    """The report written with the ruler's section (see eval_run)."""
