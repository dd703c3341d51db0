"""The evaluator is tested too: mutated good answers must be caught; faithful paraphrases must pass."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import yaml

from assistant.answering.grounding import is_supported
from evals.metrics import score_answer
from evals.mutations import (
    add_unsupported_sentence,
    change_number,
    cite_wrong_passage,
    edit_quote_word,
    negate,
    swap_section,
)

PAIRS = yaml.safe_load((Path(__file__).parent / "support_pairs.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def good_answers(eval_run):  # type: ignore[no-untyped-def]
    results, _ = eval_run
    good = [r.answer for r in results if r.answer.answerable and r.answer.citations and r.scores.clean]
    assert len(good) >= 40
    return good


@pytest.fixture(scope="module")
def lookup(eval_target):  # type: ignore[no-untyped-def]
    return eval_target.chunk


def catch_rate(answers, mutation, lookup) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    mutated = [m for i, a in enumerate(answers) if (m := mutation(a, i)) is not None]
    caught = sum(not score_answer(m, lookup).clean for m in mutated)
    return caught / len(mutated), len(mutated)


def test_unmutated_answers_are_clean(good_answers, lookup) -> None:  # type: ignore[no-untyped-def]
    assert all(score_answer(a, lookup).clean for a in good_answers)


@pytest.mark.parametrize("name", ["change_number", "edit_quote_word", "cite_wrong_passage", "swap_section"])
def test_exact_check_mutations_are_caught(good_answers, lookup, name: str) -> None:  # type: ignore[no-untyped-def]
    chunk_ids = sorted({c.chunk_id for a in good_answers for c in a.citations})
    sections = sorted({c.section for a in good_answers for c in a.citations})
    mutation = {
        "change_number": change_number,
        "edit_quote_word": edit_quote_word,
        "cite_wrong_passage": functools.partial(cite_wrong_passage, other_chunk_ids=chunk_ids),
        "swap_section": functools.partial(swap_section, sections=sections),
    }[name]
    rate, n = catch_rate(good_answers, mutation, lookup)
    assert n >= 3, f"{name} applied to only {n} answers"
    assert rate >= 0.95, f"{name}: caught {rate:.0%} of {n}"


@pytest.mark.parametrize("mutation", [negate, add_unsupported_sentence])
def test_negation_and_added_sentences_are_caught(good_answers, lookup, mutation) -> None:  # type: ignore[no-untyped-def]
    rate, n = catch_rate(good_answers, mutation, lookup)
    assert n >= 20 and rate >= 0.80, f"{mutation.__name__}: caught {rate:.0%} of {n}"


def test_unsupported_prose_is_caught_by_support_alone() -> None:
    wrong = [p for p in PAIRS if not p["supported"]]
    caught = sum(not is_supported(p["sentence"], p["passage"]) for p in wrong)
    assert caught / len(wrong) >= 0.80, f"support check caught {caught}/{len(wrong)} unsupported sentences"


def test_faithful_paraphrases_rarely_raise_false_alarms() -> None:
    faithful = [p for p in PAIRS if p["supported"] and p["kind"] == "paraphrase"]
    alarms = [p["sentence"] for p in faithful if not is_supported(p["sentence"], p["passage"])]
    assert len(faithful) >= 20
    assert len(alarms) / len(faithful) <= 0.10, alarms
