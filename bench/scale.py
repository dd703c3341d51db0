"""Scale benchmark: ingest throughput, hybrid query p50/p95, disk size and peak RSS at 1k, 10k and 100k chunks,
for embedded Chroma and a `chroma run` server. Writes bench/results/scale.json and bench/results/scale.png.

Usage: python bench/scale.py [--sizes 1000 10000 100000] [--real-embed-max 10000]

Sizes up to --real-embed-max are ingested with the real MiniLM model, so their throughput is real. Larger
sizes are built by the same pipeline with a feature-hashing stand-in for the model (embedding 230k vectors
with MiniLM takes over half an hour on 2 cores); their query latency, disk size and RSS are real, and queries
are still embedded by MiniLM.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
QUERIES = [
    "How do we handle the Better Care Fund tension?",
    "Why do relationships matter more than structures?",
    "What goes wrong at the start of whole system projects?",
    "How should leaders treat setbacks?",
    "Why is conventional project management wrong for collaboration?",
    "Who should be at the centre of services?",
    "How does financial pressure affect long-term work?",
    "What makes honest conversations difficult?",
    "What is the critical mass for leadership?",
    "How can leaders keep the energy going?",
]


class HashingEmbeddings(Embeddings):
    """Feature hashing of words into 384 signed dimensions, normalised: a fast stand-in for building big indexes."""

    # Recorded as MiniLM on purpose: these indexes are built only to time queries, which MiniLM embeds.
    model_name = "all-MiniLM-L6-v2"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[i, h % 384] += 1.0 if h & (1 << 31) else -1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def one_run(size: int, backend: str, real_embed: bool, corpus: Path, data: Path, chroma_url: str | None) -> dict:
    """Runs in a child process so that its peak RSS is its own."""
    from assistant.config import Settings
    from assistant.embeddings import MiniLMEmbeddings
    from assistant.factory import build_index
    from assistant.retrieve import HybridRetriever
    from ingest.pipeline import ingest

    settings = Settings(
        data_dir=data, project_root=corpus.parent, embed_progress=False, chroma_url=chroma_url, index_refresh_s=3600
    )
    model = MiniLMEmbeddings(progress=False)
    embedder = model if real_embed else HashingEmbeddings()
    index = build_index(settings)
    started = time.perf_counter()
    report = ingest(corpus, index=index, embedder=embedder, settings=settings)
    ingest_s = time.perf_counter() - started
    retriever = HybridRetriever(index, model, settings)
    retriever.search("warm up")
    latencies = []
    for _ in range(5):
        for q in QUERIES:
            t = time.perf_counter()
            retriever.search(q, 5)
            latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    return {
        "size": size,
        "backend": backend,
        "real_embeddings": real_embed,
        "chunks": report.chunks,
        "ingest_s": round(ingest_s, 1),
        "ingest_chunks_per_s": round(report.chunks / ingest_s, 1),
        "query_p50_ms": round(statistics.median(latencies), 1),
        "query_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run(size: int, backend: str, real_embed: bool, work: Path) -> dict:
    from bench.synthetic import write_corpus

    corpus = work / f"corpus-{size}"
    if not corpus.exists():
        write_corpus(corpus, size)
    data = work / f"data-{size}-{backend}"
    shutil.rmtree(data, ignore_errors=True)
    server = None
    chroma_url = None
    store = data / "chroma"
    if backend == "server":
        store = work / f"chroma-server-{size}"
        shutil.rmtree(store, ignore_errors=True)
        port = free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(store), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        chroma_url = f"http://127.0.0.1:{port}"
    try:
        args = json.dumps([size, backend, real_embed, str(corpus), str(data), chroma_url])
        out = subprocess.run(
            [sys.executable, __file__, "--child", args],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["disk_mb"] = round(du(store) / 1e6, 1)
        if server is not None:
            result["server_note"] = "RSS is the client's; the server's own memory is not included"
        return result
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for backend in sorted({r["backend"] for r in rows}):
        mine = sorted((r for r in rows if r["backend"] == backend), key=lambda r: r["chunks"])
        ax.plot([r["chunks"] for r in mine], [r["query_p95_ms"] for r in mine], marker="o", label=f"{backend} p95")
        ax.plot(
            [r["chunks"] for r in mine],
            [r["query_p50_ms"] for r in mine],
            marker=".",
            linestyle="--",
            label=f"{backend} p50",
        )
    ax.axhline(150, color="red", linewidth=0.8, linestyle=":", label="p95 target 150 ms")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("hybrid retrieval latency (ms)")
    ax.set_title("Hybrid retrieval latency vs corpus size (2 cores)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        size, backend, real, corpus, data, url = json.loads(sys.argv[2])
        print(json.dumps(one_run(size, backend, real, Path(corpus), Path(data), url)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--backends", nargs="+", default=["embedded", "server"])
    parser.add_argument("--real-embed-max", type=int, default=10000)
    parser.add_argument("--work", default=None)
    parser.add_argument("--tag", default="scale", help="name of the results files in bench/results/")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="lva-scale-"))
    rows = []
    for size in args.sizes:
        for backend in args.backends:
            row = run(size, backend, size <= args.real_embed_max, work)
            rows.append(row)
            print(json.dumps(row), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.tag}.json").write_text(json.dumps(rows, indent=2))
    chart(rows, RESULTS / f"{args.tag}.png")
    real = [r for r in rows if r["real_embeddings"]]
    biggest = max(rows, key=lambda r: r["chunks"])
    worst_ingest = min(r["ingest_chunks_per_s"] for r in real) if real else float("nan")
    big = [r for r in rows if r["chunks"] == biggest["chunks"]]
    print(
        f"ingest (real model) ≥ {worst_ingest} chunks/s (target 150); at {biggest['chunks']} chunks p95 "
        + ", ".join(f"{r['backend']} {r['query_p95_ms']} ms" for r in big)
        + f" (target 150); peak RSS {max(r['peak_rss_mb'] for r in big)} MB (target 3072)"
    )


if __name__ == "__main__":
    main()
