"""The leaders' question set: its own integrity, the fixed split, and the usefulness gates on `test`."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from assistant.textnorm import normalize_loose
from conftest import REPORT
from evals.leaders import LEADER_GATES, assign_splits, gate_failures, leaders_summary, load_leaders, turns_of
from evals.report import REPORT_DIR

ITEMS = load_leaders()
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _report_words() -> list[str]:
    body = REPORT.read_text("utf-8").split("\n---\n", 1)[1]
    return _WORD.findall(normalize_loose(body))


def test_the_set_has_the_size_and_mix_the_issue_asks_for() -> None:
    singles = [i for i in ITEMS if "question" in i]
    dialogues = [i for i in ITEMS if "turns" in i]
    coverage = Counter(i["coverage"] for i in singles)
    assert len(singles) >= 150 and len(dialogues) >= 20
    assert coverage["partly"] >= 30 and coverage["no"] >= 30
    assert all(2 <= len(d["turns"]) <= 3 for d in dialogues)
    assert {i["intent"] for i in ITEMS} == {"how", "why", "what", "who", "judgement"}
    assert len({i["id"] for i in ITEMS}) == len(ITEMS)


def test_every_label_is_a_verbatim_report_passage_of_8_to_20_words() -> None:
    report = " ".join(_report_words())
    for item in ITEMS:
        for label in item.get("relevant") or []:
            words = _WORD.findall(normalize_loose(label["text"]))
            assert 8 <= len(words) <= 20, (item["id"], label["text"])
            assert " ".join(words) in report, (item["id"], label["text"])
            assert label["grade"] in (1, 2)
        grade2 = [x for x in item.get("relevant") or [] if x["grade"] == 2]
        if item["coverage"] == "yes":
            assert len(grade2) >= 2, item["id"]
        if item["coverage"] == "no":
            assert not item.get("relevant") and item.get("why"), item["id"]


def test_no_question_shares_a_five_word_run_with_the_report() -> None:
    words = _report_words()
    runs = {" ".join(words[i : i + 5]) for i in range(len(words) - 4)}
    for item in ITEMS:
        for question in turns_of(item):
            q = _WORD.findall(normalize_loose(question))
            shared = [" ".join(q[i : i + 5]) for i in range(len(q) - 4) if " ".join(q[i : i + 5]) in runs]
            assert not shared, (item["id"], shared)


def test_the_split_is_fixed_and_forty_sixty() -> None:
    ids = [i["id"] for i in ITEMS]
    assert assign_splits(ids) == assign_splits(list(ids))
    dev = sum(s == "dev" for s in assign_splits(ids))
    assert abs(dev / len(ids) - 0.4) < 0.02
    assert assign_splits(ids, seed=1) != assign_splits(ids)  # the seed, not the order, decides


def test_results_json_reports_both_splits(eval_run) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads((REPORT_DIR / "results.json").read_text("utf-8"))
    for split in ("dev", "test"):
        values = payload["leaders"][split]
        for key in ("n", "false_refusal", "missed_refusal", "point_precision", "answer_hit", "ndcg@3"):
            assert key in values
        for key in ("fragment_rate", "boilerplate_rate", "retrieval_recall@5", "retrieval_recall@10"):
            assert key in values
        assert set(values["by_intent"]) == {"how", "why", "what", "who", "judgement"}
    report = (REPORT_DIR / "report.md").read_text("utf-8")
    assert "# Leaders' questions" in report and "The 10 worst `test` answers" in report


def test_leaders_metrics_are_printed(leaders_run, capsys) -> None:  # type: ignore[no-untyped-def]
    summary = leaders_summary(leaders_run)
    with capsys.disabled():
        print()
        for split in ("dev", "test"):
            values = summary[split]
            shown = ", ".join(
                f"{k} {values[k]:.3f}" if values[k] is not None else f"{k} —"
                for k in ("false_refusal", "missed_refusal", "point_precision", "answer_hit", "ndcg@3")
            )
            print(f"leaders {split} (n={values['n']}): {shown}")
    assert summary["dev"]["n"] > 0 and summary["test"]["n"] > 0


@pytest.mark.parametrize("metric", list(LEADER_GATES))
def test_leaders_gate_on_test(leaders_run, metric: str) -> None:  # type: ignore[no-untyped-def]
    """The quality gates: the leaders' `test` split, never tuned on."""
    summary = leaders_summary(leaders_run)
    failures = [f for f in gate_failures(summary) if f.startswith(metric + " ")]
    worst = [
        f"{r.item['id']}: {turns_of(r.item)[-1][:80]} → {'; '.join(r.problems())}"
        for r in sorted(leaders_run, key=lambda r: -r.badness())
        if r.item["split"] == "test" and r.problems()
    ][:5]
    assert not failures, f"{failures}; worst: {worst}"
