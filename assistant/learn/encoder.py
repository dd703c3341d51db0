"""`lva tune`: fine-tune all-MiniLM-L6-v2 on the leaders' language, seeded, into `<data dir>/models/<name>-<hash>`.

MultipleNegativesRankingLoss over (question, answering sentence, hard negative) triplets: the ruler's `train`
split and the passage questions (assistant/learn/pairs.py), hard negatives mined with the base model (the most
similar report sentence that no span of the ask lies in). The hash covers the base model, the training data, this
package's code and the hyperparameters, so a change to any of them builds a new model and the index re-embeds.
The serving path reads `tuned-encoder.txt` (the directory's name) and never imports this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.embeddings import TUNED_POINTER, TUNED_PREFIX, packaged_model_path
from assistant.learn.pairs import (
    Pair,
    SentenceFinder,
    batches_without_clashes,
    passage_question_pairs,
    report_sentences,
    ruler_pairs,
)


@dataclass(frozen=True)
class TuneConfig:
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 3e-5
    warmup_share: float = 0.1
    scale: float = 20.0
    max_seq_length: int = 48  # training only: 64 tokens cost 1.8x a step on 2 cores; serving keeps the base length
    seed: int = 20261206


def training_files(settings: Settings) -> list[Path]:
    """The data the encoder learns from: the report, its passage questions, the ruler's files."""
    corpus = sorted(p for p in settings.corpus_dir.rglob("*") if p.is_file())
    return corpus + sorted((settings.project_root / "evals" / "ruler").glob("*.yaml"))


def fingerprint(base: Path, files: Sequence[Path], config: TuneConfig) -> str:
    """12 hex digits over the base model's files, the data, this package's code and the hyperparameters."""
    digest = hashlib.sha256(json.dumps(config.__dict__, sort_keys=True).encode())
    code = sorted(Path(__file__).parent.glob("*.py"))
    for path in [*sorted(p for p in base.rglob("*") if p.is_file()), *files, *code]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_pairs(settings: Settings) -> tuple[list[Pair], list[str]]:
    """Every training pair, and the report's sentences (the candidates for hard negatives)."""
    from ingest.pipeline import load_documents

    chunks, anchored = load_documents(settings.corpus_dir, settings.project_root)
    sentences = report_sentences(chunks)
    finder = SentenceFinder(sentences)
    by_id = {c.id: c for c in chunks}
    questions = [(q.text, by_id[cid].text[q.start : q.end]) for cid, qs in anchored.items() for q in qs]
    pairs = ruler_pairs(settings.project_root / "evals" / "ruler", finder) + passage_question_pairs(questions, finder)
    return list(dict.fromkeys(pairs)), sentences


def mine_hard_negatives(model: object, pairs: Sequence[Pair], sentences: Sequence[str]) -> list[Pair]:
    """Each pair with the sentence the base model ranks highest for its anchor among those not labelled for it."""
    anchors = sorted({p.anchor for p in pairs})
    encode = model.encode  # type: ignore[attr-defined]
    a = encode(anchors, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    s = encode(list(sentences), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    ranked = np.argsort(-(a @ s.T), axis=1)[:, :20]
    row = {anchor: n for n, anchor in enumerate(anchors)}
    mined = []
    for pair in pairs:
        candidates = (sentences[j] for j in ranked[row[pair.anchor]])
        negative = next((c for c in candidates if c not in pair.labelled and c != pair.positive), "")
        mined.append(replace(pair, negative=negative))
    return mined


def tune_encoder(settings: Settings, config: TuneConfig | None = None, progress: bool = True) -> Path:
    """The tuned model's directory, trained now unless a model of the same hash is already there."""
    config = config or TuneConfig()
    base = packaged_model_path()
    models_dir = settings.resolved_data_dir() / "models"
    target = models_dir / f"{TUNED_PREFIX}{fingerprint(base, training_files(settings), config)}"
    if not (target / "config.json").is_file():
        _train(settings, base, target, config, progress)
    _write_atomic(models_dir / TUNED_POINTER, target.name + "\n")
    return target


def _train(settings: Settings, base: Path, target: Path, config: TuneConfig, progress: bool) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    model = SentenceTransformer(str(base), device="cpu")
    serving_length = model.max_seq_length
    model.max_seq_length = config.max_seq_length
    pairs, sentences = build_pairs(settings)
    if not pairs:
        raise ValueError("no training pairs: evals/ruler/ has no train items and the corpus no passage questions")
    pairs = mine_hard_negatives(model, pairs, sentences)
    loss = MultipleNegativesRankingLoss(model, scale=config.scale)
    epochs = [batches_without_clashes(pairs, config.batch_size, config.seed + e) for e in range(config.epochs)]
    steps = sum(len(b) for b in epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    schedule = get_linear_schedule_with_warmup(optimizer, int(steps * config.warmup_share), steps)
    model.train()
    bar = tqdm(total=steps, desc=f"tuning the encoder on {len(pairs)} pairs", disable=not progress, unit="step")
    for batches in epochs:
        for batch in batches:
            columns = [[p.anchor for p in batch], [p.positive for p in batch]]
            if all(p.negative for p in batch):
                columns.append([p.negative for p in batch])
            features = [model.tokenize(texts) for texts in columns]
            value = loss(features, torch.empty(0))
            value.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            bar.update()
            bar.set_postfix(loss=f"{value.item():.3f}")
    bar.close()
    model.eval()
    model.max_seq_length = serving_length
    # Written beside the target and renamed into place: a half-written model is never loaded.
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    model.save(str(staging))
    (staging / "lva-tune.json").write_text(
        json.dumps({"base": str(base.name), "pairs": len(pairs), "steps": steps, **config.__dict__}, indent=2),
        "utf-8",
    )
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(text, "utf-8")
    staging.replace(path)
