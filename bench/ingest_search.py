"""Benchmark the foundation: cold ingest, unchanged re-ingest, batch search latency, peak RSS.

Usage: python bench/ingest_search.py [--json-only]
Every measurement runs the real `lva` command in a fresh temp data dir, as a user would.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
LVA = str(Path(sys.executable).parent / "lva")
QUESTIONS = [q["q"] for q in yaml.safe_load((REPO / "evals" / "retrieval_questions.yaml").read_text())][:50]


def timed(args: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([LVA, *args], env=env, input=stdin, text=True, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "LVA_DATA_DIR": tmp, "LVA_EMBED_PROGRESS": "false"}
        env.pop("LVA_CHROMA_URL", None)
        cold = timed(["ingest", str(REPO / "corpus")], env)
        unchanged = timed(["ingest", str(REPO / "corpus")], env)
        one = timed(["search", "--json", "--k", "5", "-"], env, QUESTIONS[0] + "\n")
        fifty = timed(["search", "--json", "--k", "5", "-"], env, "\n".join(QUESTIONS) + "\n")
    per_query_ms = (fifty - one) / (len(QUESTIONS) - 1) * 1000
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "cold_ingest_s": round(cold, 2),
        "unchanged_reingest_s": round(unchanged, 2),
        "search_batch_queries": len(QUESTIONS),
        "search_ms_per_query_warm": round(per_query_ms, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "cores": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    ok = cold <= 20 and unchanged <= 5 and per_query_ms <= 60 and peak_rss_mb < 1536
    print(
        f"{'PASS' if ok else 'MISS'}: cold ingest {cold:.1f}s (≤20), unchanged {unchanged:.1f}s (≤5), "
        f"search {per_query_ms:.1f} ms/query (≤60), peak RSS {peak_rss_mb:.0f} MB (<1536)"
    )


if __name__ == "__main__":
    main()
