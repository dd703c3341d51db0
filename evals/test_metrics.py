"""Unit tests of every metric with hand-computed cases, and property tests of the text normaliser."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.textnorm import normalize, normalize_loose
from assistant.types import Answer, Chunk, Citation
from evals.metrics import (
    answer_quality,
    citation_is_valid,
    is_copy,
    key_fact_recall,
    leaks_prompt,
    score_answer,
    statements,
    wilson,
)
from evals.retrieval_metrics import mrr_at_k, ndcg_at_k, recall_at_k, relevance, summarize
from evals.runner import ItemResult, aggregate, paraphrase_robustness

A_TEXT = "Pooled budgets need trust. Trust takes time."
B_TEXT = "Joint posts in discharge teams built trust quickly."
CHUNKS = {
    "a": Chunk(
        id="a",
        source="s.md",
        section="Budgets",
        kind="narrative",
        order=0,
        start=100,
        end=100 + len(A_TEXT),
        text=A_TEXT,
    ),
    "b": Chunk(
        id="b", source="s.md", section="Posts", kind="quote", order=1, start=200, end=200 + len(B_TEXT), text=B_TEXT
    ),
}


def cite(n: int, chunk_id: str, quote: str) -> Citation:
    chunk = CHUNKS[chunk_id]
    start = chunk.start + chunk.text.index(quote)
    return Citation(
        n=n,
        chunk_id=chunk_id,
        source=chunk.source,
        section=chunk.section,
        kind=chunk.kind,
        quote=quote,
        start=start,
        end=start + len(quote),
    )


def answer(text: str, citations: list[Citation], answerable: bool = True) -> Answer:
    return Answer(answer=text, answerable=answerable, citations=citations, standalone_question="q", engine="test")


def test_retrieval_metrics_hand_computed() -> None:
    rel = [False, True, False, True]
    assert recall_at_k(rel, 1) == 0 and recall_at_k(rel, 2) == 1
    assert mrr_at_k(rel) == 0.5
    assert ndcg_at_k(rel, 10, n_gold=2) == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert relevance(["Trust  takes time.", "other"], ["trust takes TIME"]) == [True, False]
    assert summarize([[True], [False]])["recall@1"] == 0.5


def test_statements_skip_the_lead_and_keep_quotes_whole() -> None:
    text = "The report speaks to this in *Budgets*.\n\n- It says: “Trust takes time. Really.” [1]\n- Two. Three [2]"
    assert statements(text) == ["It says: “Trust takes time. Really.” [1]", "Two.", "Three [2]"]


def test_quote_fidelity_validity_recall_and_precision() -> None:
    good = answer("- As it says: “Trust takes time” [1]", [cite(1, "a", "Trust takes time")])
    s = score_answer(good, CHUNKS.get)
    assert (s.quotes, s.verbatim_quotes, s.markers, s.valid_markers) == (1, 1, 1, 1)
    assert (s.statements, s.supported_statements, s.citations, s.precise_citations) == (1, 1, 1, 1)
    assert s.clean

    wrong_quote = answer("- “Trust takes years” [1]", [cite(1, "a", "Trust takes time")])
    s = score_answer(wrong_quote, CHUNKS.get)
    assert (s.quotes, s.verbatim_quotes) == (1, 0)

    dangling = answer("- “Trust takes time” [3]", [cite(1, "a", "Trust takes time")])
    s = score_answer(dangling, CHUNKS.get)
    assert (s.markers, s.valid_markers, s.supported_statements) == (1, 0, 0)


def test_alce_precision_counts_an_irrelevant_extra_citation() -> None:
    # Supported by [1] alone; [2] supports nothing on its own and the rest ([1]) still supports it → imprecise.
    text = "- Pooled budgets need trust [1][2]"
    s = score_answer(
        answer(text, [cite(1, "a", "Pooled budgets need trust"), cite(2, "b", "built trust quickly")]), CHUNKS.get
    )
    assert (s.statements, s.supported_statements) == (1, 1)
    assert (s.citations, s.precise_citations) == (2, 1)


def test_citation_validity_checks_offsets_and_metadata() -> None:
    c = cite(1, "a", "Trust takes time")
    assert citation_is_valid(c, CHUNKS["a"])
    assert not citation_is_valid(c.model_copy(update={"section": "Posts"}), CHUNKS["a"])
    assert not citation_is_valid(c.model_copy(update={"start": c.start + 1, "end": c.end + 1}), CHUNKS["a"])
    assert not citation_is_valid(c, None)


def test_refusals_make_no_claims() -> None:
    s = score_answer(answer("The report doesn't cover that.", [], answerable=False), CHUNKS.get)
    assert s.statements == 0 and s.clean


def test_key_facts_prompt_leaks_and_copies() -> None:
    assert key_fact_recall("Trust takes TIME.", ["trust takes time", "budgets"], ["never"]) == pytest.approx(2 / 3)
    assert key_fact_recall("anything", [], []) == 1.0
    assert leaks_prompt("You answer questions for public-sector leaders using ONLY the numbered passages")
    assert not leaks_prompt("Trust takes time.")
    passage = " ".join(f"word{i}" for i in range(50))
    assert is_copy(f"- “{passage}” [1]", [passage])
    assert not is_copy("- “word1 word2 word3” [1]", [passage])


def test_answer_quality_and_wilson() -> None:
    s = score_answer(answer("- “Trust takes time” [1]", [cite(1, "a", "Trust takes time")]), CHUNKS.get)
    assert answer_quality(1.0, s, copied=False) == 1.0
    assert answer_quality(1.0, s, copied=True) == 0.0
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 0) == (0.0, 1.0)


def _result(item: dict, answerable: bool, retrieval: list[bool]) -> ItemResult:
    from evals.metrics import AnswerScores

    text = "ok" if answerable else "The report doesn't cover that."
    return ItemResult(item, answer(text, [], answerable), AnswerScores(), 1.0, retrieval)


def test_run_level_rates_hand_computed() -> None:
    results = [
        _result({"id": "1", "category": "single_fact", "expected": "answer", "evidence": ["x"]}, True, [True]),
        _result({"id": "2", "category": "single_fact", "expected": "answer", "evidence": ["x"]}, False, [False]),
        _result({"id": "3", "category": "out_of_scope", "expected": "refuse"}, False, []),
        _result({"id": "4", "category": "near_scope", "expected": "refuse"}, True, []),
    ]
    metrics = aggregate(results)
    assert metrics["false_refusal"]["value"] == 0.5
    assert metrics["negative_rejection"]["value"] == 0.5
    assert metrics["recall@5"]["value"] == 0.5


def test_paraphrase_robustness_hand_computed() -> None:
    group = [
        _result({"id": "a", "category": "paraphrase", "group": "g", "expected": "answer"}, True, [True]),
        _result({"id": "b", "category": "paraphrase", "group": "g", "expected": "answer"}, False, [False, True]),
        _result({"id": "c", "category": "paraphrase", "group": "h", "expected": "answer"}, True, [True]),
    ]
    robust = paraphrase_robustness(group)
    assert robust["robust_hit@5"]["value"] == 1.0
    assert robust["paraphrase_flip_rate"]["value"] == 0.5


@given(st.text(max_size=300))
def test_normalize_is_idempotent_and_trims(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip() and "  " not in once and "\n" not in once


@given(st.text(alphabet=st.sampled_from("ab “”‘’\"'\n\t-–—"), max_size=60))
def test_normalize_erases_quote_dash_and_space_styles(text: str) -> None:
    flat = normalize(text)
    assert not set(flat) & set("“”‘’–—\n\t")
    assert normalize_loose(text) == flat.lower()


@given(st.text(max_size=120), st.text(max_size=40), st.text(max_size=120))
def test_containment_survives_normalisation(prefix: str, needle: str, suffix: str) -> None:
    assert normalize(needle) in normalize(prefix + " " + needle + " " + suffix)


def test_a_placeholder_it_is_not_a_fragment_but_a_pointing_it_is() -> None:
    from evals.metrics import is_fragment

    assert not is_fragment("It is crucial that Systems Leaders keep focused on the needs of service users.")
    assert not is_fragment("It is important to explore and be curious about differences and problems.")
    assert is_fragment("It took a long time to get everyone round the table in the end.")
    assert is_fragment("This is causing some councils and trusts to withhold information.")
