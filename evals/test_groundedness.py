"""The thresholds the answers must meet on the gold set. A failure names the worst items."""

from __future__ import annotations

import pytest

from evals.report import REPORT_DIR
from evals.runner import INVARIANTS, THRESHOLDS, worst_items


def _check(eval_run, metric: str, op: str, bound: float) -> None:  # type: ignore[no-untyped-def]
    results, metrics = eval_run
    value = metrics[metric]["value"]
    ok = value is not None and (value >= bound if op == ">=" else value <= bound)
    assert ok, (
        f"{metric} = {value} (n={metrics[metric]['n']}), needs {op} {bound}; worst: {worst_items(results, metric)}"
    )


@pytest.mark.parametrize("metric", list(THRESHOLDS))
def test_gold_regression_gate(eval_run, metric: str) -> None:  # type: ignore[no-untyped-def]
    """The old gold set, kept as a regression floor."""
    _check(eval_run, metric, *THRESHOLDS[metric])


@pytest.mark.parametrize("metric", list(INVARIANTS))
def test_invariant_holds(eval_run, metric: str) -> None:  # type: ignore[no-untyped-def]
    """Invariants, not quality metrics: every quote verbatim at its offsets, every marker resolving, every
    statement supported by what it cites."""
    _check(eval_run, metric, *INVARIANTS[metric])


def test_report_is_written(eval_run) -> None:  # type: ignore[no-untyped-def]
    results, _ = eval_run
    assert (REPORT_DIR / "results.json").is_file()
    report = (REPORT_DIR / "report.md").read_text("utf-8")
    assert "Wilson" in report and "quote_fidelity" in report
    chart = REPORT_DIR / "metrics_by_category.png"
    assert chart.is_file() and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_paraphrase_robustness_is_reported(eval_run) -> None:  # type: ignore[no-untyped-def]
    _, metrics = eval_run
    assert metrics["robust_hit@5"]["n"] >= 5
    assert metrics["paraphrase_flip_rate"]["value"] <= 0.2, metrics["paraphrase_flip_rate"]
