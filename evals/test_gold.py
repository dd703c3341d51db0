"""Self-checks of the gold set: shape, coverage of categories, and evidence that really is in the report."""

from __future__ import annotations

from collections import Counter

from assistant.textnorm import normalize_loose
from conftest import REPORT
from evals.runner import load_gold

GOLD = load_gold()
CATEGORIES = {
    "single_fact",
    "synthesis",
    "quote_seeking",
    "numeric",
    "out_of_scope",
    "near_scope",
    "false_premise",
    "injection",
    "paraphrase",
    "multi_turn",
}


def test_gold_set_size_and_categories() -> None:
    assert len(GOLD) >= 120
    counts = Counter(item["category"] for item in GOLD)
    assert set(counts) == CATEGORIES
    assert len({item["id"] for item in GOLD}) == len(GOLD)
    groups = Counter(item["group"] for item in GOLD if item.get("group"))
    assert len(groups) >= 5 and all(3 <= n <= 5 for n in groups.values())
    assert any(item["expected"] == "refuse" for item in GOLD if item["category"] == "multi_turn")


def test_every_item_has_the_required_fields() -> None:
    for item in GOLD:
        assert ("question" in item) != ("turns" in item), item["id"]
        assert item["expected"] in {"answer", "refuse"}, item["id"]
        if item["expected"] == "answer":
            assert item.get("evidence"), item["id"]


def test_gold_evidence_is_in_the_report() -> None:
    corpus = normalize_loose(REPORT.read_text("utf-8"))
    missing = [(item["id"], e) for item in GOLD for e in item.get("evidence") or [] if normalize_loose(e) not in corpus]
    assert not missing, f"gold evidence not found in the report: {missing}"
