"""Side by side, in one run on one machine: `lva serve --workers 2` (extractive) without and with the Redis answer
cache, and the LangChain baseline endpoint with 2 workers, each under the same bounded load. Prints JSON, then
one-line summaries. The cached run starts its own `redis-server` on a free port (skipped, with a note, without one).

Usage: python bench/load_compare.py [--concurrency 16] [--duration 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.load import run, summary  # noqa: E402
from bench.scale import free_port  # noqa: E402

BIN = Path(sys.executable).parent


def wait_ready(url: str, path: str, proc: subprocess.Popen) -> None:
    for _ in range(900):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + path, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} never became ready")


def serve_and_load(env: dict[str, str], args: argparse.Namespace) -> dict:
    """`lva serve --workers 2` under the load; with LVA_REDIS_URL in env, behind the answer cache."""
    port = free_port()
    ours = subprocess.Popen(
        [str(BIN / "lva"), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", "/readyz", ours)
        asyncio.run(run(f"http://127.0.0.1:{port}", 4, 3))  # warm both workers
        return asyncio.run(run(f"http://127.0.0.1:{port}", args.concurrency, args.duration))
    finally:
        ours.terminate()
        ours.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="lva-load-")
    env = {
        **os.environ,
        "LVA_DATA_DIR": data,
        "LVA_RATE_LIMIT": "10000000/minute",
        "LVA_EMBED_PROGRESS": "false",
        "LVA_LOG_LEVEL": "warning",
    }
    subprocess.run([str(BIN / "lva"), "ingest", str(ROOT / "corpus")], env=env, check=True, capture_output=True)
    results = {}
    results["lva"] = serve_and_load(env, args)
    redis_server = shutil.which("redis-server")
    if redis_server:
        redis_port = free_port()
        redis = subprocess.Popen(
            [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=data,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            results["lva_cached"] = serve_and_load({**env, "LVA_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}, args)
        finally:
            redis.terminate()
            redis.wait(30)
    else:
        print("no redis-server on PATH: the cached run is skipped (apt-get install redis-server)", file=sys.stderr)
    port = free_port()
    baseline = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "bench.baseline_app:app",
            "--workers",
            "2",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", "/docs", baseline)
        asyncio.run(run(f"http://127.0.0.1:{port}", 4, 3, path="/ask"))
        results["langchain_baseline"] = asyncio.run(
            run(f"http://127.0.0.1:{port}", args.concurrency, args.duration, path="/ask")
        )
    finally:
        baseline.terminate()
        baseline.wait(30)
    results["cores"] = os.cpu_count()
    print(json.dumps(results, indent=2))
    ours_r = results["lva"]
    ok = ours_r["errors"] == 0 and ours_r["rps"] >= 60 and ours_r["p95_ms"] <= 250
    print(f"{'PASS' if ok else 'MISS'} lva (targets: 0 errors, ≥60 req/s, p95 ≤250 ms) — " + summary(ours_r))
    if "lva_cached" in results:
        print("      cached — " + summary(results["lva_cached"]))
    print("      baseline — " + summary(results["langchain_baseline"]))


if __name__ == "__main__":
    main()
