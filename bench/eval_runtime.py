"""How long `pytest evals/` takes, and how much of it is `lva tune` (the CI budget is 30 minutes in all).

Usage:
  python bench/eval_runtime.py            # times `lva tune` into .lva-eval/ (a no-op when cached), then the evals
  python bench/eval_runtime.py --cold     # removes .lva-eval/ first, as on a fresh clone
Prints JSON, then a one-line summary; writes bench/results/eval_runtime.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CACHE = REPO / ".lva-eval"
RESULTS = REPO / "bench" / "results" / "eval_runtime.json"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    code = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - started, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="start without the cached models, as CI does")
    args = parser.parse_args()
    if args.cold:
        shutil.rmtree(CACHE, ignore_errors=True)
    env = {**os.environ, "LVA_DATA_DIR": str(CACHE), "LVA_EMBED_PROGRESS": "false"}
    tune_s, tune_code = timed([str(BIN / "lva"), "tune"], env)
    evals_s, evals_code = timed([str(BIN / "python"), "-m", "pytest", "-q", "evals", "-p", "no:cacheprovider"], env)
    result = {
        "cold": args.cold,
        "tune_seconds": tune_s,
        "evals_seconds": evals_s,
        "exit_codes": [tune_code, evals_code],
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"eval runtime: lva tune {tune_s:.0f} s, pytest evals/ {evals_s:.0f} s ({'cold' if args.cold else 'cached'})")


if __name__ == "__main__":
    main()
