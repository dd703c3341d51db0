"""Benchmark the HTTP API as a client sees it: /v1/ask latency, throughput under concurrency, SSE timing.

Usage:
  python bench/api_latency.py                  # extractive engine, starts its own `lva serve`
  python bench/api_latency.py --llm llamacpp --model qwen-1.5b   # time to first streamed delta with Qwen
Prints JSON, then a one-line summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.load import percentile  # noqa: E402
from bench.load import run as run_load  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUESTIONS = [q["q"] for q in yaml.safe_load((REPO / "evals" / "retrieval_questions.yaml").read_text())]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_event_ms(client: httpx.Client, question: str, wanted: str, nth: int = 1) -> float:
    """Milliseconds until the nth event named `wanted` arrives."""
    started = time.perf_counter()
    seen = 0
    with client.stream("POST", "/v1/ask/stream", json={"question": question}) as response:
        for line in response.iter_lines():
            if line.strip() == f"event: {wanted}":
                seen += 1
                if seen == nth:
                    return (time.perf_counter() - started) * 1000
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--llm", default="extractive")
    parser.add_argument("--model", default="qwen-1.5b")
    parser.add_argument("--data-dir", default=None, help="reuse a data dir (keeps pulled models)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    data = Path(args.data_dir or tempfile.mkdtemp())
    env = {**os.environ, "LVA_DATA_DIR": str(data), "LVA_EMBED_PROGRESS": "false", "LVA_RATE_LIMIT": "1000000/minute"}
    env.update({"LVA_LLM": args.llm, "LVA_LLM_MODEL": args.model, "LVA_LLM_TIMEOUT_S": "60"})
    subprocess.run([str(BIN / "lva"), "ingest", str(REPO / "corpus")], env=env, check=True, capture_output=True)
    if args.llm == "llamacpp":
        subprocess.run([str(BIN / "lva"), "models", "pull", args.model], env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "lva"), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            for _ in range(600):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            if args.llm != "extractive":
                # The first delta is the code-written lead line; the second is the model's first guarded sentence.
                first = [first_event_ms(client, q, "delta") for q in QUESTIONS[:5]]
                model = [first_event_ms(client, q, "delta", nth=2) for q in QUESTIONS[5:10]]
                done = [first_event_ms(client, q, "done") for q in QUESTIONS[10:13]]
                result = {
                    "engine": args.llm,
                    "model": args.model,
                    "first_delta_ms": [round(x) for x in first],
                    "first_delta_p50_ms": round(statistics.median(first)),
                    "first_model_sentence_ms": [round(x) if x == x else None for x in model],
                    "first_model_sentence_p50_ms": round(statistics.median([x for x in model if x == x] or [0])),
                    "full_answer_ms": [round(x) for x in done],
                }
                print(json.dumps(result, indent=2))
                print(
                    f"{args.llm}/{args.model}: first delta p50 {result['first_delta_p50_ms']} ms (target ≤ 3000); "
                    f"first model sentence p50 {result['first_model_sentence_p50_ms']} ms"
                )
                return
            for q in QUESTIONS[:10]:
                client.post("/v1/ask", json={"question": q})
            single = []
            for q in QUESTIONS:
                started = time.perf_counter()
                assert client.post("/v1/ask", json={"question": q}).status_code == 200
                single.append((time.perf_counter() - started) * 1000)
            meta = [first_event_ms(client, q, "meta") for q in QUESTIONS[:30]]
        load = asyncio.run(run_load(url, args.concurrency, args.seconds))
    finally:
        server.terminate()
        server.wait(15)
    result = {
        "single_client": {
            "requests": len(single),
            "p50_ms": round(percentile(single, 50), 1),
            "p95_ms": round(percentile(single, 95), 1),
        },
        "concurrent": {"clients": args.concurrency, "seconds": args.seconds, **load},
        "stream_meta": {"p50_ms": round(percentile(meta, 50), 1), "p95_ms": round(percentile(meta, 95), 1)},
        "cores": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    s, c, m = result["single_client"], result["concurrent"], result["stream_meta"]
    ok = s["p50_ms"] <= 60 and s["p95_ms"] <= 150 and c["rps"] >= 40 and c["errors"] == 0 and m["p95_ms"] <= 100
    print(
        f"{'PASS' if ok else 'MISS'}: /v1/ask p50 {s['p50_ms']} ms (≤60), p95 {s['p95_ms']} ms (≤150); "
        f"{c['clients']} clients {c['rps']} req/s (≥40), {c['errors']} errors; SSE meta p95 {m['p95_ms']} ms (≤100)"
    )


if __name__ == "__main__":
    main()
