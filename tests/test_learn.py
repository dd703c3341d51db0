"""assistant/learn/: the training pairs, the batches, the offsets chosen on dev, and the serving path's isolation
from training code. No Chroma and no training run here (evals/ builds the real artefacts with `lva tune`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import yaml

from assistant.answering.coverage_model import FEATURES, POINTER, CoverageModel, load_coverage_model
from assistant.learn.coverage import FALSE_REFUSAL_CAP, MISSED_REFUSAL_CAP, choose_offsets, scores
from assistant.learn.encoder import TuneConfig, fingerprint
from assistant.learn.pairs import Pair, SentenceFinder, batches_without_clashes, ruler_pairs
from conftest import REPO

SENTENCES = [
    "Leaders need to see themselves as part of the collective leadership of the system.",
    "Trust takes time to build and can be lost quickly.",
    "Pooled budgets help only when partners agree what they are for.",
    "Users should be involved from the start, not consulted at the end.",
]


def _ruler(tmp_path: Path) -> Path:
    spans = [{"text": s, "grade": 2} for s in SENTENCES[:3]]
    items = [
        {"id": "t-1", "split": "train", "question": "how do we build trust", "standalone": "How to build trust?"}
        | {"coverage": "yes", "relevant": spans},
        {"id": "d-1", "split": "dev", "question": "a dev question", "coverage": "yes", "relevant": spans},
        {"id": "n-1", "split": "train", "question": "cqc rating?", "coverage": "no"},
    ]
    folder = tmp_path / "ruler"
    folder.mkdir()
    (folder / "plain.yaml").write_text(yaml.safe_dump({"items": items}), "utf-8")
    return folder


def test_a_span_is_found_in_its_sentence_and_across_a_boundary() -> None:
    finder = SentenceFinder(SENTENCES)
    assert finder.find("collective leadership of the system") == SENTENCES[:1]
    across = "can be lost quickly. Pooled budgets help only when partners agree"
    assert finder.find(across) == SENTENCES[1:3]
    assert finder.find("nothing like this is in the report at all") == []


def test_pairs_come_from_train_only_capped_per_ask_with_both_anchors(tmp_path: Path) -> None:
    pairs = ruler_pairs(_ruler(tmp_path), SentenceFinder(SENTENCES), per_ask=2)
    assert [p.anchor for p in pairs] == ["how do we build trust", "How to build trust?"]
    assert [p.positive for p in pairs] == SENTENCES[:2]
    assert all(p.labelled == frozenset(SENTENCES[:3]) for p in pairs)


def test_batches_hold_no_repeated_text_and_no_labelled_sentence_as_a_negative() -> None:
    labelled = frozenset(SENTENCES[:2])
    pairs = [Pair(f"question {i}", SENTENCES[i], labelled) for i in range(2)]
    pairs += [Pair(f"other {i}", f"sentence {i}", frozenset({f"sentence {i}"})) for i in range(20)]
    batches = batches_without_clashes(pairs, batch_size=8, seed=1)
    kept = [p for b in batches for p in b]
    assert sorted(p.anchor for p in kept) == sorted(p.anchor for p in pairs)
    assert all(sum(p.anchor.startswith("question") for p in b) <= 1 for b in batches)
    for batch in batches:
        texts = [t for p in batch for t in (p.anchor, p.positive)]
        assert len(texts) == len(set(texts))
        for a in batch:
            assert not any(b is not a and b.positive in a.labelled for b in batch)


class _Fixed:
    """A stand-in estimator with fixed probabilities (the offsets, not the classifier, are under test)."""

    classes_ = np.asarray(["answered", "not_covered", "partial"])

    def __init__(self, probs: np.ndarray) -> None:
        self.probs = probs

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.probs[: len(x)]


def test_offsets_are_chosen_to_meet_both_refusal_caps() -> None:
    rng = np.random.default_rng(0)
    labels = ["answered"] * 60 + ["not_covered"] * 30 + ["partial"] * 10
    probs = rng.dirichlet([1, 1, 1], size=len(labels))
    for row, label in zip(probs, labels, strict=True):  # a weak signal towards the truth
        row[list(_Fixed.classes_).index(label)] += 1.5
    probs /= probs.sum(axis=1, keepdims=True)
    model = CoverageModel(_Fixed(probs))
    model.offsets = choose_offsets(model, np.zeros((len(labels), len(FEATURES))), labels)
    shifted = np.log(probs) + np.asarray([model.offsets[c] for c in _Fixed.classes_])
    predicted = [str(_Fixed.classes_[i]) for i in shifted.argmax(axis=1)]
    measured = scores(predicted, labels)
    assert measured["false_refusal"] <= FALSE_REFUSAL_CAP and measured["missed_refusal"] <= MISSED_REFUSAL_CAP
    assert measured["accuracy"] > 0.5


def test_a_saved_model_is_loaded_through_its_pointer_and_its_offsets_apply(tmp_path: Path) -> None:
    assert load_coverage_model(tmp_path) is None
    model = CoverageModel(_Fixed(np.asarray([[0.5, 0.3, 0.2]])), {"answered": 0.0, "not_covered": 1.0})
    joblib.dump(model, tmp_path / "coverage-x.joblib")
    (tmp_path / POINTER).write_text("coverage-x.joblib\n")
    loaded = load_coverage_model(tmp_path)
    assert loaded is not None
    features = dict.fromkeys(FEATURES, 0.0)
    assert loaded.predict(features)[0] == "not_covered"
    loaded.offsets = {}
    assert loaded.predict(features)[0] == "answered"


def test_the_fingerprint_covers_data_and_hyperparameters(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "weights.bin").write_bytes(b"w")
    data = tmp_path / "data.yaml"
    data.write_text("a")
    first = fingerprint(base, [data], TuneConfig())
    assert fingerprint(base, [data], TuneConfig()) == first
    assert fingerprint(base, [data], TuneConfig(epochs=2)) != first
    data.write_text("b")
    assert fingerprint(base, [data], TuneConfig()) != first


def test_the_serving_path_never_imports_training_code() -> None:
    code = (
        "import sys, assistant.api.main, assistant.factory, assistant.answering.pipeline; "
        "bad = [m for m in sys.modules if m.startswith('assistant.learn') or m.startswith('sklearn')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["pointer", "model"])
def test_a_missing_coverage_model_means_the_rules_decide(tmp_path: Path, missing: str) -> None:
    if missing == "model":
        (tmp_path / POINTER).write_text("coverage-gone.joblib\n")
    assert load_coverage_model(tmp_path) is None
