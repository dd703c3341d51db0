"""Retrieval quality on paraphrased questions, side by side with the default LangChain recipe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from assistant.factory import Resources
from assistant.textnorm import normalize_loose
from evals.baseline import BaselineRetriever
from evals.retrieval_metrics import relevance, summarize

HERE = Path(__file__).parent
QUESTIONS = yaml.safe_load((HERE / "retrieval_questions.yaml").read_text(encoding="utf-8"))
CORPUS_TEXT = normalize_loose((HERE.parent / "corpus" / "the-revolution-will-be-improvised.md").read_text("utf-8"))
THRESHOLDS = {"recall@5": 0.95, "mrr@10": 0.85}


def test_gold_evidence_is_in_the_report() -> None:
    missing = [(q["q"], e) for q in QUESTIONS for e in q["evidence"] if normalize_loose(e) not in CORPUS_TEXT]
    assert len(QUESTIONS) >= 60
    assert not missing, f"gold evidence not found verbatim in the report: {missing}"


@pytest.fixture(scope="module")
def comparison(report_resources: Resources) -> dict[str, dict[str, float]]:
    retriever = report_resources.retriever
    baseline = BaselineRetriever(
        [HERE.parent / "corpus" / "the-revolution-will-be-improvised.md"], report_resources.embedder
    )
    ours, theirs, misses = [], [], []
    for item in QUESTIONS:
        texts = [p.text for p in retriever.search(item["q"], k=10)]
        rel = relevance(texts, item["evidence"])
        ours.append(rel)
        if not any(rel[:5]):
            misses.append({"q": item["q"], "top": texts[:3]})
        theirs.append(relevance(baseline.search(item["q"], 10), item["evidence"]))
    result = {"lva": summarize(ours), "langchain_default": summarize(theirs)}
    print(f"\nretrieval (n={len(QUESTIONS)})")
    print(f"{'metric':<10} {'lva':>8} {'recipe':>8}")
    for metric in result["lva"]:
        print(f"{metric:<10} {result['lva'][metric]:>8.3f} {result['langchain_default'][metric]:>8.3f}")
    report_dir = HERE / "report"
    report_dir.mkdir(exist_ok=True)
    (report_dir / "retrieval.json").write_text(json.dumps({**result, "misses@5": misses}, indent=2))
    result["misses"] = misses  # type: ignore[assignment]
    return result


@pytest.mark.parametrize("metric", sorted(THRESHOLDS))
def test_retrieval_meets_threshold(comparison: dict, metric: str) -> None:
    value = comparison["lva"][metric]
    assert value >= THRESHOLDS[metric], f"{metric}={value:.3f} < {THRESHOLDS[metric]}; misses: {comparison['misses']}"


def test_beats_the_default_recipe(comparison: dict) -> None:
    for metric in ("recall@1", "recall@5", "mrr@10"):
        assert comparison["lva"][metric] >= comparison["langchain_default"][metric], metric
