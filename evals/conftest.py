"""The evaluation target (in-process engine or a deployment over HTTP) and one shared run of the gold set."""

from __future__ import annotations

import pytest

from assistant.factory import Resources, build_engine
from conftest import with_settings
from evals.report import write_report
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
def eval_run(eval_target: EvalTarget) -> tuple[list[ItemResult], dict[str, dict[str, float]]]:
    """Every gold item answered and scored once; writes evals/report/."""
    results = [run_item(eval_target, item) for item in load_gold()]
    metrics = aggregate(results)
    report_dir = write_report(eval_target.name, results, metrics)
    print(f"\ngroundedness report: {report_dir / 'report.md'}")
    return results, metrics
