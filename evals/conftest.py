"""The evaluation target (in-process engine or a deployment over HTTP) and one shared run of the gold set."""

from __future__ import annotations

import pytest

from assistant.factory import Resources, build_engine, build_resources
from conftest import REPO, make_settings, with_settings
from evals.leaders import LeaderResult, load_leaders, run_leader_item
from evals.report import write_report
from evals.ruler import AskResult, load_ruler, run_ruler
from evals.runner import ItemResult, aggregate, load_gold, run_item
from evals.target import EvalTarget, HttpTarget, InProcessTarget

# `lva tune`'s artefacts for the evals, kept between runs: each is keyed by a hash of what made it, so only a run
# after the ruler, the corpus or the training code changed trains again (about 6 min on 2 cores).
EVAL_DATA_DIR = REPO / ".lva-eval"


@pytest.fixture(scope="session")
def tuned_resources() -> Resources:
    """The engine as shipped: the domain-tuned encoder, the corpus indexed with it, the fitted coverage model."""
    from assistant.learn.build import tune_all

    settings = make_settings(EVAL_DATA_DIR, tuned_encoder=True, coverage_model=True)
    tune_all(settings, progress=False)
    resources = build_resources(settings)
    assert resources.engine.coverage_model is not None, "lva tune left no coverage model"  # type: ignore[attr-defined]
    return resources


@pytest.fixture(scope="session")
def eval_target(request: pytest.FixtureRequest) -> EvalTarget:
    """What `pytest evals/` evaluates, chosen by --api-url / --engine / --untuned: by default the shipped engine."""
    options = request.config.option
    if options.api_url:
        return HttpTarget(options.api_url, options.api_key)
    resources: Resources = request.getfixturevalue("report_resources" if options.untuned else "tuned_resources")
    if options.engine == "extractive":
        return InProcessTarget(resources)
    changes: dict[str, object] = {"llm": options.engine}
    if options.llm_base_url:
        changes["llm_base_url"] = options.llm_base_url
    if options.llm_model:
        changes["llm_model"] = options.llm_model
    settings = with_settings(resources.settings, **changes)
    engine = build_engine(settings, resources.retriever)
    return InProcessTarget(Resources(settings, resources.embedder, resources.index, resources.retriever, engine))


@pytest.fixture(scope="session")
def leaders_run(eval_target: EvalTarget) -> list[LeaderResult]:
    """Every item of the leaders' set answered once and scored against its labels."""
    return [run_leader_item(eval_target, item) for item in load_leaders()]


@pytest.fixture(scope="session")
def ablation_run(request: pytest.FixtureRequest, tuned_resources: Resources) -> list[LeaderResult] | None:
    """The leaders' set again with the answer-type and unknown-terms rules switched off (in-process extractive
    engine only): what each rule buys and what it costs."""
    if request.config.option.api_url or request.config.option.engine != "extractive":
        return None
    base = tuned_resources
    settings = with_settings(base.settings, answer_type_rule=False, unknown_terms_rule=False)
    target = InProcessTarget(
        Resources(settings, base.embedder, base.index, base.retriever, build_engine(settings, base.retriever))
    )
    return [run_leader_item(target, item) for item in load_leaders()]


@pytest.fixture(scope="session")
def ruler_run(eval_target: EvalTarget) -> list[AskResult]:
    """Every ask of the ruler (all splits, every turn of every dialogue) answered once and scored."""
    return run_ruler(eval_target, load_ruler())


@pytest.fixture(scope="session")
def ruler_ablation(
    request: pytest.FixtureRequest, report_resources: Resources, tuned_resources: Resources
) -> dict[str, list[AskResult]] | None:
    """The ruler's `dev` asks answered by the engine without each fitted part (in-process extractive only):
    the packaged encoder with the hand rules deciding coverage (the engine before the models), and the tuned
    encoder with the hand rules. The shipped engine's own dev results are in ruler_run."""
    if request.config.option.api_url or request.config.option.engine != "extractive":
        return None
    dev = [item for item in load_ruler() if item["split"] == "dev"]
    tuned = tuned_resources
    rules = with_settings(tuned.settings, coverage_model=False)
    tuned_rules = Resources(rules, tuned.embedder, tuned.index, tuned.retriever, build_engine(rules, tuned.retriever))
    return {
        "packaged encoder, hand rules": run_ruler(InProcessTarget(report_resources), dev),
        "tuned encoder, hand rules": run_ruler(InProcessTarget(tuned_rules), dev),
    }


@pytest.fixture(scope="session")
def eval_run(
    eval_target: EvalTarget,
    leaders_run: list[LeaderResult],
    ablation_run: list[LeaderResult] | None,
    ruler_run: list[AskResult],
    ruler_ablation: dict[str, list[AskResult]] | None,
) -> tuple[list[ItemResult], dict[str, dict[str, float]]]:
    """Every gold item answered and scored once; writes evals/report/ with the leaders' metrics first."""
    results = [run_item(eval_target, item) for item in load_gold()]
    metrics = aggregate(results)
    report_dir = write_report(eval_target.name, results, metrics, leaders_run, ablation_run, ruler_run, ruler_ablation)
    print(f"\ngroundedness report: {report_dir / 'report.md'}")
    return results, metrics


@pytest.fixture(scope="session")
def ruler_report(eval_run: tuple[list[ItemResult], dict[str, dict[str, float]]]) -> None:
    """The report written with the ruler's section (see eval_run)."""
