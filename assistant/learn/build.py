"""`lva tune` end to end: the tuned encoder, the corpus indexed with it, then the coverage classifier fitted over
that index. Each artefact is keyed by a hash of what made it, so an unchanged repo rebuilds nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.learn.coverage import coverage_key, fit_coverage
from assistant.learn.encoder import TuneConfig, tune_encoder


@dataclass
class TuneReport:
    encoder: Path
    coverage: Path
    measured: dict[str, Any] = field(default_factory=dict)


def tune_all(settings: Settings, config: TuneConfig | None = None, progress: bool = True) -> TuneReport:
    from assistant.answering.pipeline import AnswerPipeline
    from assistant.factory import build_embedder, build_index
    from assistant.retrieve import HybridRetriever
    from ingest.pipeline import ingest

    encoder = tune_encoder(settings, config, progress)
    embedder = build_embedder(settings.model_copy(update={"tuned_encoder": True}))
    index = build_index(settings)
    ingest(settings.corpus_dir, index=index, embedder=embedder, settings=settings)
    # The hand rules decide while the features are collected: the classifier learns from the evidence alone.
    engine = AnswerPipeline(HybridRetriever(index, embedder, settings), settings)
    ruler_dir = settings.project_root / "evals" / "ruler"
    models_dir = settings.resolved_data_dir() / "models"
    path, measured = fit_coverage(engine, ruler_dir, models_dir, coverage_key(encoder.name, ruler_dir))
    if measured:
        (models_dir / f"{path.stem}.json").write_text(json.dumps(measured, indent=2), "utf-8")
    return TuneReport(encoder, path, measured)
