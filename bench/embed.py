"""Embedding speed, torch vs ONNX Runtime, in one run: chunks/s on the report and on synthetic paragraphs, with and
without sentence vectors; the pipeline's own share of ingest time; one-query latency; and how well the vectors agree.
Writes bench/results/embed.json and prints a one-line summary.

Usage: python bench/embed.py [--paragraphs 1000] [--slice 512]

The 2 cores are shared, so the backends take turns slice by slice (`--slice` texts each) over the same texts:
background load then falls on both alike, and the ratio stays fair even when the absolute numbers move.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
RESULTS = ROOT / "bench" / "results"
BACKENDS = ("torch", "onnx")


class TimedEmbeddings(Embeddings):
    """Serves vectors already computed (so ingest's Chroma writes see real vectors) and times every call."""

    def __init__(self, inner: Embeddings, known: dict[str, list[float]]) -> None:
        self.inner = inner
        self.known = known
        self.model_name = getattr(inner, "model_name", "")
        self.dimension = getattr(inner, "dimension", 0)
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        missing = [t for t in texts if t not in self.known]
        self.known.update(zip(missing, self.inner.embed_documents(missing), strict=True))
        self.seconds += time.perf_counter() - started
        return [self.known[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def interleaved(models: dict[str, Embeddings], texts: list[str], size: int) -> dict[str, tuple[float, np.ndarray]]:
    """Each backend embeds every text, the backends alternating slice by slice; seconds and vectors per backend."""
    seconds = dict.fromkeys(models, 0.0)
    parts: dict[str, list[list[float]]] = {name: [] for name in models}
    for i in range(0, len(texts), size):
        order = list(models) if (i // size) % 2 == 0 else list(models)[::-1]
        for name in order:
            started = time.perf_counter()
            parts[name] += models[name].embed_documents(texts[i : i + size])
            seconds[name] += time.perf_counter() - started
    return {name: (seconds[name], np.asarray(parts[name], dtype=np.float32)) for name in models}


def corpus_texts(folder: Path, project_root: Path) -> tuple[list, list[str], list[str]]:
    """The corpus' chunks, their texts, and the texts of all vector records (chunks plus sentences)."""
    from assistant.records import vector_records
    from ingest.pipeline import load_chunks

    chunks = load_chunks(folder, project_root)
    return chunks, [c.text for c in chunks], [r.text for c in chunks for r in vector_records(c)]


def pipeline_overhead(corpus: Path, models: dict[str, Embeddings], known: dict[str, list[float]], work: Path) -> dict:
    """Ingest plus the retriever's first load (BM25), with every vector already known: what is left is the
    pipeline's own time (parse, chunk, Chroma writes, BM25)."""
    from assistant.config import Settings
    from assistant.factory import build_index
    from assistant.retrieve import HybridRetriever
    from ingest.pipeline import ingest

    settings = Settings(data_dir=work / "data", project_root=corpus.parent, embed_progress=False, index_refresh_s=0)
    timed = TimedEmbeddings(models["onnx"], known)
    index = build_index(settings)
    started = time.perf_counter()
    report = ingest(corpus, index=index, embedder=timed, settings=settings)
    _ = HybridRetriever(index, timed, settings).chunks
    total = time.perf_counter() - started
    return {"chunks": report.chunks, "pipeline_s": round(total - timed.seconds, 2)}


def query_latency(models: dict[str, Embeddings], queries: list[str]) -> dict[str, dict[str, float]]:
    """One query at a time, the backends alternating query by query; p50 and p95 in milliseconds."""
    times: dict[str, list[float]] = {name: [] for name in models}
    for q in queries:
        for name, model in models.items():
            started = time.perf_counter()
            model.embed_query(q)
            times[name].append((time.perf_counter() - started) * 1000)
    out = {}
    for name, ms in times.items():
        ms.sort()
        out[name] = {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paragraphs", type=int, default=1000)
    parser.add_argument("--slice", type=int, default=512, help="texts per turn; 512 is what ingest embeds per call")
    args = parser.parse_args()

    import torch

    from assistant.embeddings import MiniLMEmbeddings
    from bench.synthetic import write_corpus

    work = Path(tempfile.mkdtemp(prefix="lva-embed-"))
    models_dir = work / "models"
    started = time.perf_counter()
    onnx = MiniLMEmbeddings(progress=False, backend="onnx", models_dir=models_dir)
    onnx.load()
    export_and_load_s = time.perf_counter() - started
    started = time.perf_counter()
    MiniLMEmbeddings(progress=False, backend="onnx", models_dir=models_dir).load()
    onnx_load_s = time.perf_counter() - started
    started = time.perf_counter()
    torch_model = MiniLMEmbeddings(progress=False, backend="torch")
    torch_model.load()
    torch_load_s = time.perf_counter() - started
    models: dict[str, Embeddings] = {"torch": torch_model, "onnx": onnx}
    for model in models.values():
        model.embed_documents(["warm up", "a second, longer warm-up sentence for the batch"])
    # Queries first, as an API process meets them: torch's single-query latency grows several-fold after it has
    # embedded large batches in the same process, which would not be a fair picture of a server.
    questions = yaml.safe_load((ROOT / "evals" / "retrieval_questions.yaml").read_text())
    latency = query_latency(models, [q["q"] for q in questions])
    # Torch's two OpenMP threads wait on each other when other processes hold the cores; one thread shows
    # what torch itself needs for a query (the API gives each worker cores/workers threads).
    torch.set_num_threads(1)
    latency["torch_1_thread"] = query_latency({"torch": torch_model}, [q["q"] for q in questions])["torch"]
    torch.set_num_threads(os.cpu_count() or 1)

    synthetic = work / "synthetic"
    write_corpus(synthetic, args.paragraphs)
    sets = {
        "report": corpus_texts(ROOT / "corpus", ROOT),
        f"synthetic_{args.paragraphs}": corpus_texts(synthetic, work),
    }
    rows = []
    known: dict[str, list[float]] = {}
    worst_cosine = 1.0
    for name, (chunks, chunk_texts, record_texts) in sets.items():
        for sentences, texts in (("without", chunk_texts), ("with", record_texts)):
            got = interleaved(models, texts, args.slice)
            row: dict = {"corpus": name, "sentence_vectors": sentences == "with", "chunks": len(chunks)}
            row["vectors"] = len(texts)
            for backend in BACKENDS:
                row[f"{backend}_chunks_per_s"] = round(len(chunks) / got[backend][0], 1)
                row[f"{backend}_vectors_per_s"] = round(len(texts) / got[backend][0], 1)
            row["onnx_vs_torch"] = round(row["onnx_chunks_per_s"] / row["torch_chunks_per_s"], 2)
            a, b = got["onnx"][1], got["torch"][1]
            cosine = float(((a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).min())
            row["min_cosine"] = round(cosine, 6)
            worst_cosine = min(worst_cosine, cosine)
            known.update(zip(texts, got["onnx"][1].tolist(), strict=True))
            rows.append(row)
            print(json.dumps(row), flush=True)

    big = f"synthetic_{args.paragraphs}"
    overhead = pipeline_overhead(synthetic, models, known, work)
    for row in rows:
        if row["corpus"] == big and row["sentence_vectors"]:  # the default ingest: chunks and their sentences
            for backend in BACKENDS:
                embed_s = row["chunks"] / row[f"{backend}_chunks_per_s"]
                overhead[f"share_of_ingest_{backend}"] = round(
                    overhead["pipeline_s"] / (overhead["pipeline_s"] + embed_s), 3
                )
                overhead[f"ingest_chunks_per_s_{backend}"] = round(
                    row["chunks"] / (overhead["pipeline_s"] + embed_s), 1
                )

    result = {
        "rows": rows,
        "pipeline_overhead": overhead,
        "query_latency": latency,
        "load_s": {
            "torch": round(torch_load_s, 2),
            "onnx": round(onnx_load_s, 2),
            "onnx_first_time_with_export": round(export_and_load_s, 2),
        },
        "worst_cosine_onnx_vs_torch": round(worst_cosine, 6),
        "threads": {"torch": torch.get_num_threads(), "onnx": onnx.threads or os.cpu_count()},
        "cores": os.cpu_count(),
        "slice": args.slice,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embed.json").write_text(json.dumps(result, indent=2) + "\n")
    main_row = next(r for r in rows if r["corpus"] == big and not r["sentence_vectors"])
    with_sentences = next(r for r in rows if r["corpus"] == big and r["sentence_vectors"])
    report_row = next(r for r in rows if r["corpus"] == "report" and not r["sentence_vectors"])
    print(
        f"{args.paragraphs} paragraphs: onnx {main_row['onnx_chunks_per_s']} vs torch {main_row['torch_chunks_per_s']} "
        f"chunks/s ({main_row['onnx_vs_torch']}x; with sentence vectors {with_sentences['onnx_vs_torch']}x; "
        f"report {report_row['onnx_vs_torch']}x; target 1.8x); pipeline overhead "
        f"{overhead.get('share_of_ingest_onnx', 0):.0%} of ingest with onnx (target <= 15%); query p50 onnx "
        f"{latency['onnx']['p50_ms']} vs torch {latency['torch']['p50_ms']} ms "
        f"({latency['torch_1_thread']['p50_ms']} on one thread); worst cosine {worst_cosine:.6f}"
    )


if __name__ == "__main__":
    main()
