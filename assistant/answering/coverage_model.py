"""The learned coverage decision: answered / partial / not covered from the evidence, as a fitted classifier.

`lva tune` fits a calibrated scikit-learn classifier on the ruler's `train` asks (assistant/learn/coverage.py)
and sets its per-class offsets on `dev`; both are stored together in `<data dir>/models/coverage-<hash>.joblib`,
named by `coverage-model.txt`. This module only computes the features and applies a fitted model: it never
imports training code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import numpy as np

from assistant.answering.evidence import Unit
from assistant.answering.question import Intent, Question, Wanted
from assistant.types import Coverage, Passage

POINTER = "coverage-model.txt"
CLASSES: tuple[Coverage, ...] = ("answered", "partial", "not_covered")
LABELS = {"yes": "answered", "partly": "partial", "no": "not_covered"}


def coverage_features(
    question: Question, units: Sequence[Unit], passages: Sequence[Passage], nearest_asked: float | None
) -> dict[str, float]:
    """What the classifier reads: how strong and how broad the evidence is, and what the question asks for.
    The asker's role or place is not a feature of its own; it only shows through the evidence it leaves."""
    evidence = sorted((u.evidence for u in units), reverse=True) or [0.0]
    sims = sorted((u.sim for u in units), reverse=True) or [0.0]
    asked = max((u.asked for u in units), default=0.0)
    lex = max((u.lex for u in units), default=0.0)
    heading = max((u.heading for u in units), default=0.0)
    top3 = evidence[:3] + [0.0] * (3 - len(evidence[:3]))
    features = {
        "best_evidence": evidence[0],
        "second_evidence": top3[1],
        "mean_top3_evidence": float(np.mean(top3)),
        "evidence_gap": evidence[0] - top3[1],
        "best_sim": sims[0],
        "best_asked": asked,
        "nearest_asked": nearest_asked if nearest_asked is not None else 0.0,
        "best_lex": lex,
        "best_heading": heading,
        "units_over_050": float(sum(e >= 0.5 for e in evidence)),
        "units_over_040": float(sum(e >= 0.4 for e in evidence)),
        "top_passage_score": max((p.score for p in passages), default=0.0),
        "unknown_terms": float(len(question.unknown_terms)),
        "unknown_terms_listed": float(len(question.listed_terms)),
        "known_share": question.known_share,
        "log_words": math.log1p(len(question.standalone.split())),
        "rewritten": float(question.rewritten),
    }
    for wanted in get_args(Wanted):
        features[f"wants_{wanted}"] = float(question.wanted == wanted)
    for intent in get_args(Intent):
        features[f"intent_{intent}"] = float(question.intent == intent)
    return features


FEATURES = tuple(
    coverage_features(
        Question("", "", "", "what", None),
        [],
        [],
        None,
    )
)


@dataclass
class CoverageModel:
    """A fitted classifier over `FEATURES`, and the log-probability offsets per class chosen on `dev`."""

    estimator: Any  # a scikit-learn classifier with predict_proba and classes_
    offsets: dict[str, float] = field(default_factory=dict)
    name: str = "coverage"

    def probabilities(self, features: dict[str, float]) -> dict[str, float]:
        row = np.asarray([[features[name] for name in FEATURES]], dtype=np.float64)
        probs = self.estimator.predict_proba(row)[0]
        return {str(c): float(p) for c, p in zip(self.estimator.classes_, probs, strict=True)}

    def predict(self, features: dict[str, float]) -> tuple[Coverage, dict[str, float]]:
        probs = self.probabilities(features)
        scored = {c: math.log(max(p, 1e-9)) + self.offsets.get(c, 0.0) for c, p in probs.items()}
        return max(scored, key=scored.__getitem__), probs  # type: ignore[return-value]


def load_coverage_model(models_dir: Path) -> CoverageModel | None:
    """The model `lva tune` last fitted into `models_dir`, or None when there is none."""
    pointer = models_dir / POINTER
    if not pointer.is_file():
        return None
    path = models_dir / pointer.read_text("utf-8").strip()
    if not path.is_file():
        return None
    import joblib

    model = joblib.load(path)
    return model if isinstance(model, CoverageModel) else None
