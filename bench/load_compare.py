"""Side by side, in one run on one machine: `lva serve --workers 2` (extractive) and the LangChain baseline
endpoint with 2 workers, each under the same bounded load. Prints JSON, then a one-line summary.

Usage: python bench/load_compare.py [--concurrency 16] [--duration 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
        results["lva"] = asyncio.run(run(f"http://127.0.0.1:{port}", args.concurrency, args.duration))
    finally:
        ours.terminate()
        ours.wait(30)
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
    print("      baseline — " + summary(results["langchain_baseline"]))


if __name__ == "__main__":
    main()
