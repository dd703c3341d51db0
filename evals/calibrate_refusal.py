"""Sweep the refusal threshold over in-scope and unanswerable questions; print rates per threshold.

Usage: python -m evals.calibrate_refusal   (from the repo root, after `make setup`)
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import yaml

from assistant.answer import ExtractiveEngine
from assistant.types import AskRequest

HERE = Path(__file__).parent


def load_sets() -> tuple[list[str], list[str]]:
    """(answerable, unanswerable) calibration questions."""
    answerable = [q["q"] for q in yaml.safe_load((HERE / "retrieval_questions.yaml").read_text())]
    other = yaml.safe_load((HERE / "refusal_calibration.yaml").read_text())
    return answerable, other["out_of_scope"] + other["near_scope"]


def rates(engine: ExtractiveEngine, answerable: list[str], unanswerable: list[str]) -> dict[str, float]:
    """False-refusal rate on answerable questions and missed-refusal rate on unanswerable ones."""
    false_refusals = [q for q in answerable if not engine.plan(AskRequest(question=q)).answerable]
    missed = [q for q in unanswerable if engine.plan(AskRequest(question=q)).answerable]
    return {
        "false_refusal": len(false_refusals) / len(answerable),
        "missed_refusal": len(missed) / len(unanswerable),
        "false_refusals": false_refusals,  # type: ignore[dict-item]
        "missed_refusals": missed,  # type: ignore[dict-item]
    }


def main() -> None:
    import sys

    sys.path.insert(0, str(HERE.parent))
    from assistant.embeddings import MiniLMEmbeddings
    from assistant.factory import build_index
    from assistant.retrieve import HybridRetriever
    from conftest import CORPUS, make_settings
    from ingest.pipeline import ingest

    answerable, unanswerable = load_sets()
    embedder = MiniLMEmbeddings(progress=False)
    settings = make_settings(Path(tempfile.mkdtemp()))
    index = build_index(settings)
    ingest(CORPUS, index=index, embedder=embedder, settings=settings)
    retriever = HybridRetriever(index, embedder, settings)
    rows = []
    for threshold in np.arange(0.40, 0.66, 0.02):
        engine = ExtractiveEngine(retriever, settings.model_copy(update={"refusal_threshold": float(threshold)}))
        r = rates(engine, answerable, unanswerable)
        rows.append({"threshold": round(float(threshold), 2), **{k: r[k] for k in ("false_refusal", "missed_refusal")}})
        print(json.dumps(rows[-1]), flush=True)
    best = min(rows, key=lambda r: (r["false_refusal"] + r["missed_refusal"], -r["threshold"]))
    print(
        f"best threshold {best['threshold']}: false refusal {best['false_refusal']:.3f}, "
        f"missed refusal {best['missed_refusal']:.3f}"
    )


if __name__ == "__main__":
    main()
