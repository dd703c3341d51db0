"""τ of the lexical support function is calibrated on hand-labelled (sentence, passage) pairs."""

from __future__ import annotations

from pathlib import Path

import yaml

from assistant.answering.grounding import SUPPORT_TAU, is_supported

PAIRS = yaml.safe_load((Path(__file__).parent / "support_pairs.yaml").read_text("utf-8"))
GRID = [round(0.40 + 0.05 * i, 2) for i in range(10)]


def accuracy(tau: float) -> float:
    return sum(is_supported(p["sentence"], p["passage"], tau) == p["supported"] for p in PAIRS) / len(PAIRS)


def test_enough_labelled_pairs_of_both_kinds() -> None:
    assert len(PAIRS) >= 50
    assert sum(p["supported"] for p in PAIRS) >= 20 and sum(not p["supported"] for p in PAIRS) >= 20


def test_support_tau_is_on_the_best_plateau() -> None:
    scores = {tau: accuracy(tau) for tau in GRID}
    best = max(scores.values())
    print("\nτ accuracy:", {t: round(a, 3) for t, a in scores.items()})
    assert accuracy(SUPPORT_TAU) >= best - 1e-9, f"τ={SUPPORT_TAU} scores {accuracy(SUPPORT_TAU):.3f}, best {best:.3f}"
    assert best >= 0.9
