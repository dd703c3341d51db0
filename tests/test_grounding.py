"""Grounding guards: lexical support, verbatim checks, repair, and the property that no answer ever
contains a quoted span missing from its source."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.answering.grounding import (
    SourceSpan,
    critical_tokens,
    is_supported,
    is_verbatim,
    locate,
    quoted_spans,
    verify_answer,
)
from assistant.factory import Resources
from assistant.textnorm import normalize
from assistant.types import AskRequest, Citation
from conftest import REPORT

TEXT = "Pooled budgets need trust. Trust takes time, and it is “not a poker game”."
WORDS = re.findall(r"[A-Za-z]{4,}", REPORT.read_text("utf-8"))


def _citation(n: int, quote: str, text: str = TEXT, base: int = 100) -> Citation:
    start = text.index(quote)
    return Citation(
        n=n,
        chunk_id="c1",
        source="s.md",
        section="S",
        kind="narrative",
        quote=quote,
        start=base + start,
        end=base + start + len(quote),
    )


def test_support_needs_content_words_and_critical_tokens() -> None:
    evidence = "Pooled budgets need trust. Trust takes time."
    assert is_supported("Trust takes time.", evidence)
    assert not is_supported("Trust does not take time.", evidence)  # a negation the evidence lacks
    assert not is_supported("Trust takes 5 years.", evidence)  # a number the evidence lacks
    assert not is_supported("Budgets need Treasury approval and audits.", evidence)
    assert critical_tokens("The NHS was created in 1948, said Martin Reeves.") == {"nhs", "1948", "martin", "reeves"}


def test_verbatim_ignores_whitespace_and_quote_style() -> None:
    assert is_verbatim('Trust  takes\ntime, and it is "not a poker game"', TEXT)
    assert not is_verbatim("Trust takes a long time", TEXT)
    span = locate("Trust take time", TEXT)
    assert span is not None and TEXT[span[0] : span[1]] == "Trust takes time,"


def test_verify_answer_drops_bad_markers_and_repairs_or_drops_quotes() -> None:
    sources = {"c1": SourceSpan(TEXT, 100)}
    good = _citation(1, "Trust takes time")
    answer = (
        "- Fine: “Trust takes time” [1]\n"
        "- Wrong number: “Trust takes time” [7]\n"
        "- Near miss: “Trust take time” [1]\n"
        "- Invented: “Budgets are unlimited and everyone agrees” [1]"
    )
    text, used = verify_answer(answer, [good], sources)
    assert "[7]" not in text and "Invented" not in text and "Wrong number" not in text
    assert "“Trust takes time, and it is" not in text
    assert [q for q in quoted_spans(text)] and all(is_verbatim(q, TEXT) for q in quoted_spans(text))
    assert used == [good]


def test_a_citation_whose_offsets_do_not_match_is_not_used() -> None:
    bad = _citation(1, "Trust takes time").model_copy(update={"start": 5, "end": 21})
    text, used = verify_answer("“Trust takes time” [1]", [bad], {"c1": SourceSpan(TEXT, 100)})
    assert used == [] and "“" not in text


def test_no_answer_contains_a_quote_missing_from_its_source(report_resources: Resources) -> None:
    """A property over questions made of the report's words plus noise; it must not hold vacuously, so at least a
    quarter of the examples must be answered with quotes (an engine that refuses everything fails)."""
    document = normalize(REPORT.read_text("utf-8"))
    quoted_answers: list[bool] = []

    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), st.text(max_size=30))
    def check(words: list[str], noise: str) -> None:
        question = (" ".join(words) + " " + noise).strip()
        if not question or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", question) or len(question) > 2000:
            return
        answer = report_resources.engine.answer(AskRequest(question=question))
        by_n = {c.n: c for c in answer.citations}
        quotes = 0
        for line in answer.answer.splitlines():
            for quote in quoted_spans(line):
                quotes += 1
                assert normalize(quote) in document
                cited = [by_n[int(n)] for n in re.findall(r"\[(\d+)\]", line)]
                assert any(normalize(quote) in normalize(c.quote) for c in cited)
        quoted_answers.append(quotes > 0)

    check()
    assert quoted_answers and sum(quoted_answers) >= len(quoted_answers) / 4, (
        f"only {sum(quoted_answers)} of {len(quoted_answers)} examples were answered with quotes: "
        "the property held vacuously"
    )
