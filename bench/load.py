"""A bounded load of realistic questions against a running API.

Usage: python bench/load.py --url http://127.0.0.1:8000 --concurrency 16 --duration 60 [--json] [--path /v1/ask]
Prints {requests, errors, rps, p50_ms, p95_ms, p99_ms} and a one-line summary. Loopback only, time-bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx
import yaml

QUESTIONS = [
    q["q"]
    for q in yaml.safe_load((Path(__file__).resolve().parent.parent / "evals" / "retrieval_questions.yaml").read_text())
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def run(url: str, concurrency: int, duration: float, path: str = "/v1/ask", api_key: str | None = None) -> dict:
    """Closed-loop clients, each asking the next question as soon as its last answer arrives."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.perf_counter() + duration

    async def client_loop(i: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
            n = i
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post(path, json={"question": QUESTIONS[n % len(QUESTIONS)]})
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)
                n += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "url": url + path,
        "concurrency": concurrency,
        "duration_s": duration,
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


def summary(result: dict) -> str:
    return (
        f"{result['url']}: {result['requests']} requests, {result['errors']} errors, {result['rps']} req/s, "
        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms "
        f"({result['concurrency']} clients, {result['duration_s']} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--path", default="/v1/ask")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--json", action="store_true", help="print the result as JSON before the summary")
    args = parser.parse_args()
    result = asyncio.run(run(args.url, args.concurrency, args.duration, args.path, args.api_key))
    if args.json:
        print(json.dumps(result, indent=2))
    print(summary(result))


if __name__ == "__main__":
    main()
