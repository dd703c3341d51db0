"""Hybrid retrieval over the real report index: fusion, filters, scores and offsets."""

from __future__ import annotations

import pytest

from assistant.errors import InputError
from assistant.factory import Resources
from assistant.retrieve import reciprocal_rank_fusion
from assistant.types import SearchFilters
from conftest import REPORT


def test_rrf_hand_computed() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)
    assert [doc for doc, _ in reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60)][:2] == ["b", "a"]


def test_rrf_weights_and_ties_are_deterministic() -> None:
    assert reciprocal_rank_fusion([["x"], ["y"]], [2.0, 1.0], k=1)[0] == ("x", 1.0)
    assert [d for d, _ in reciprocal_rank_fusion([["b"], ["a"]])] == ["a", "b"]


def test_search_returns_scored_passages_with_offsets(report_resources: Resources) -> None:
    text = REPORT.read_text("utf-8")
    passages = report_resources.retriever.search("How do we handle the Better Care Fund tension?", k=5)
    assert len(passages) == 5
    assert "Better Care Fund" in passages[0].text
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.dense_rank is not None or p.bm25_rank is not None


def test_filters_by_kind_and_section(report_resources: Resources) -> None:
    retriever = report_resources.retriever
    quotes = retriever.search("relationships and trust", k=8, filters=SearchFilters(kind="quote"))
    assert quotes and all(p.kind == "quote" for p in quotes)
    hurdles = retriever.search("relationships and trust", k=8, filters=SearchFilters(section="The hurdles"))
    assert hurdles and all(p.section.startswith("The hurdles") for p in hurdles)
    one = retriever.search("trust", k=8, filters=SearchFilters(section="The hurdles › It's a system, not a poker game"))
    assert one and {p.section for p in one} == {"The hurdles › It's a system, not a poker game"}


def test_empty_query_is_an_input_error(report_resources: Resources) -> None:
    with pytest.raises(InputError):
        report_resources.retriever.search("   ")
