"""The ruler (evals/ruler/): its size and mix, its labels, its splits and leaks, and the per-style gates on `test`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPORT
from evals.report import REPORT_DIR
from evals.ruler import (
    DIALOGUE_STYLES,
    METRICS,
    SPLITS,
    STYLES,
    all_asks,
    gate_failures,
    load_ruler,
    ruler_summary,
)
from evals.ruler_checks import item_problems, leaks, questions_of, report_words, runs

ITEMS = load_ruler()
ASKS = all_asks(ITEMS)


def test_the_ruler_has_the_size_and_mix_the_issue_asks_for() -> None:
    styles = Counter(i["style"] for i in ITEMS)
    coverage = Counter(a.coverage for a in ASKS)
    assert len(ITEMS) >= 2000, len(ITEMS)
    assert all(styles[s] >= 150 for s in STYLES), styles
    assert len({i["persona"].lower() for i in ITEMS}) >= 30
    assert coverage["no"] / len(ASKS) >= 0.15 and coverage["partly"] / len(ASKS) >= 0.15, coverage
    assert len({i["id"] for i in ITEMS}) == len(ITEMS)


def test_every_item_is_sound() -> None:
    """Spans verbatim (8-25 words), grades, remedy flags on how-to spans, `missing`/`why`, style rules, and no
    question sharing a 5-word run with the report."""
    body = report_words(REPORT.read_text("utf-8"))
    report, report_runs = " ".join(body), runs(body, 5)
    problems = [p for item in ITEMS for p in item_problems(item, report, report_runs)]
    assert not problems, problems[:10]


def test_covered_asks_carry_several_graded_spans() -> None:
    """Exhaustive labels: a covered ask lists 3 or more spans (the issue expects 3-8, not 2-3)."""
    spans = [len(a.relevant) for a in ASKS if a.coverage == "yes"]
    assert min(spans) >= 3 and np.median(spans) >= 4, (min(spans), np.median(spans))


def test_splits_are_the_shares_asked_for_and_stratified_by_style() -> None:
    shares = Counter(i["split"] for i in ITEMS)
    assert set(shares) == set(SPLITS)
    assert shares["train"] / len(ITEMS) >= 0.55 and shares["test"] / len(ITEMS) >= 0.25, shares
    for style in STYLES:
        members = [i for i in ITEMS if i["style"] == style]
        test_share = sum(i["split"] == "test" for i in members) / len(members)
        assert 0.2 <= test_share <= 0.34, (style, test_share)


def test_a_dialogue_is_one_item_in_one_split() -> None:
    for item in ITEMS:
        if item["style"] in DIALOGUE_STYLES:
            assert len(item["turns"]) >= 3 and item["split"] in SPLITS


def test_no_held_out_item_near_duplicates_a_train_item() -> None:
    """Cosine >= 0.92 (MiniLM, as the builder embeds) or a shared 8-word run with a train item fails."""
    from assistant.embeddings import MiniLMEmbeddings

    texts = sorted({q for item in ITEMS for q in questions_of(item)})
    matrix = np.asarray(MiniLMEmbeddings(progress=False, backend="torch").embed_documents(texts), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    vectors = dict(zip(texts, matrix, strict=True))
    train = [i for i in ITEMS if i["split"] == "train"]
    found = leaks([i for i in ITEMS if i["split"] == "test"], train, vectors)
    assert not found, list(found.items())[:5]


def test_the_leak_check_can_fail() -> None:
    """The check itself: a copied question and a reworded near-copy are both caught."""
    a = {"id": "a", "question": "how do we stop the trust and the council blaming each other for the overspend"}
    b = {"id": "b", "question": "so how do we stop the trust and the council blaming each other for the deficit"}
    unit = np.ones(4, dtype=np.float32) / 2
    assert leaks([b], [a], {a["question"]: unit, b["question"]: unit})


def test_ruler_results_are_in_the_report(ruler_report) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads((REPORT_DIR / "results.json").read_text("utf-8"))
    for split in SPLITS:
        assert set(payload["ruler"][split]["by_style"]) == set(STYLES)
    text = (REPORT_DIR / "report.md").read_text("utf-8")
    assert "# The ruler: every voice" in text and (REPORT_DIR / "ruler_by_style.png").stat().st_size > 10_000


def test_ruler_metrics_are_printed(ruler_run, capsys) -> None:  # type: ignore[no-untyped-def]
    summary = ruler_summary(ruler_run)
    with capsys.disabled():
        print()
        for split in SPLITS:
            for scope, values in [("all", summary[split]["all"]), *summary[split]["by_style"].items()]:
                shown = ", ".join(f"{k} {values[k]:.3f}" if values[k] is not None else f"{k} —" for k in METRICS)
                print(f"ruler {split} {scope} (n={int(values['n'] or 0)}): {shown}")
    assert all(summary[s]["all"]["n"] for s in SPLITS)


def test_ruler_gates_on_test(ruler_run) -> None:  # type: ignore[no-untyped-def]
    """The quality gates on `test` (never tuned on), overall and per style."""
    failures = gate_failures(ruler_summary(ruler_run))
    assert not failures, failures


@pytest.mark.parametrize("metric", ["false_refusal", "answer_hit"])
def test_a_gate_can_fail(metric: str) -> None:
    """A summary that misses a bound is reported, and a metric with no value misses too."""
    from evals.ruler import RULER_GATES

    op, bound = RULER_GATES[metric]
    bad = bound + 0.1 if op == "<=" else bound - 0.1
    summary = {"test": {"all": {metric: bad}, "by_style": {s: dict.fromkeys(RULER_GATES) for s in STYLES}}}
    summary["test"]["all"] = {m: (bad if m == metric else None) for m in RULER_GATES}
    assert any(f.startswith(f"all {metric} ") for f in gate_failures(summary))


def test_the_helpers_kit_checks_what_the_tests_check(tmp_path: Path) -> None:
    """The standalone checker the writers ran is generated from evals/ruler_checks.py and flags a bad item."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "evals/ruler_kit/make_kit.py", str(tmp_path)], check=True, capture_output=True)
    bad = {"id": "x-1", "style": "terse", "persona": "p", "intent": "how", "coverage": "no", "why": "w"}
    bad["question"] = "one two three four five six seven eight nine ten eleven"
    (tmp_path / "items.yaml").write_text(yaml.safe_dump({"items": [bad]}), "utf-8")
    result = subprocess.run([sys.executable, "check.py", "items.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert "terse with 11 words" in result.stdout and "1 problem(s)" in result.stdout, result.stdout + result.stderr
