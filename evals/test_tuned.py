"""The fitted parts as shipped (`lva tune`, built by the tuned_resources fixture): the index records the tuned
encoder, ONNX serves it with the same rankings as torch, and each fitted part earns its place on `dev`."""

from __future__ import annotations

import numpy as np

from assistant.embeddings import MiniLMEmbeddings, embedding_model_name, is_tuned
from assistant.factory import Resources
from evals.ruler import AskResult, load_ruler, ruler_summary

SHARED_TOP5 = 0.99


def test_the_index_records_the_tuned_encoder(tuned_resources: Resources) -> None:
    recorded = tuned_resources.index.embedding_record()
    assert recorded is not None and is_tuned(recorded.model)
    assert recorded.model == embedding_model_name(tuned_resources.embedder)


def test_onnx_serves_the_tuned_model_with_the_same_top5(tuned_resources: Resources) -> None:
    """The report's passages ranked for 300 dev questions, by the tuned model on torch and on ONNX Runtime."""
    embedder = tuned_resources.embedder
    assert isinstance(embedder, MiniLMEmbeddings) and embedder.model_path is not None
    torch = MiniLMEmbeddings(embedder.model_path, backend="torch", models_dir=embedder.models_dir)
    onnx = MiniLMEmbeddings(embedder.model_path, backend="onnx", models_dir=embedder.models_dir)
    chunks = tuned_resources.index.all_chunks()
    passages = sorted({c.text for c in chunks})
    questions = [
        a.get("standalone") or a["question"]
        for i in load_ruler()
        if i["split"] == "dev"
        for a in (i.get("turns") or [i])
    ][:300]
    tops = []
    for model in (torch, onnx):
        docs = np.asarray(model.embed_documents(passages))
        queries = np.asarray(model.embed_documents(questions))
        tops.append(np.argsort(-(queries @ docs.T), axis=1)[:, :5])
    same = [set(a) == set(b) for a, b in zip(tops[0], tops[1], strict=True)]
    assert np.mean(same) >= SHARED_TOP5, np.mean(same)


def test_the_tuned_encoder_retrieves_better_than_the_packaged_one_on_dev(
    ruler_run: list[AskResult], ruler_ablation: dict[str, list[AskResult]] | None
) -> None:
    assert ruler_ablation is not None
    shipped = ruler_summary(ruler_run)["dev"]["all"]
    packaged = ruler_summary(ruler_ablation["packaged encoder, hand rules"])["dev"]["all"]
    assert shipped["retrieval_recall@6"] > packaged["retrieval_recall@6"], (shipped, packaged)


def test_the_coverage_model_labels_coverage_better_than_the_rules_on_dev(
    ruler_run: list[AskResult], ruler_ablation: dict[str, list[AskResult]] | None
) -> None:
    assert ruler_ablation is not None
    shipped = ruler_summary(ruler_run)["dev"]["all"]
    rules = ruler_summary(ruler_ablation["tuned encoder, hand rules"])["dev"]["all"]
    assert shipped["coverage_accuracy"] > rules["coverage_accuracy"], (shipped, rules)
