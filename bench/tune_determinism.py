"""Two `lva tune` encoder builds from the same data: how long each takes, and whether they rank alike.

Usage:
  python bench/tune_determinism.py     # trains twice into temporary data dirs (about 4 min each on 2 cores)
Prints JSON, then a one-line summary. The issue's bar: the same top-5 report passages for >= 99% of dev asks.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.config import Settings  # noqa: E402
from assistant.embeddings import MiniLMEmbeddings  # noqa: E402
from assistant.learn.encoder import tune_encoder  # noqa: E402
from assistant.learn.pairs import ruler_items  # noqa: E402
from ingest.pipeline import load_documents  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "tune_determinism.json"


def main() -> None:
    builds, seconds = [], []
    for _ in range(2):
        settings = Settings(data_dir=Path(tempfile.mkdtemp()), project_root=REPO, corpus_dir=REPO / "corpus")
        started = time.perf_counter()
        builds.append(tune_encoder(settings, progress=False))
        seconds.append(time.perf_counter() - started)
    chunks, _ = load_documents(REPO / "corpus", REPO)
    passages = sorted({c.text for c in chunks})
    asks = [a for i in ruler_items(REPO / "evals" / "ruler", "dev") for a in (i.get("turns") or [i])]
    questions = [a["question"] for a in asks]
    tops = []
    for path in builds:
        model = MiniLMEmbeddings(path, backend="torch")
        docs, queries = np.asarray(model.embed_documents(passages)), np.asarray(model.embed_documents(questions))
        tops.append(np.argsort(-(queries @ docs.T), axis=1)[:, :5])
    same = float(np.mean([set(a) == set(b) for a, b in zip(*tops, strict=True)]))
    result = {
        "dev_asks": len(questions),
        "same_top5": same,
        "train_seconds": seconds,
        "models": [p.name for p in builds],
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    took = " and ".join(f"{s:.0f} s" for s in seconds)
    print(f"tune determinism: same top-5 on {same:.1%} of {len(questions)} dev asks; builds took {took}")


if __name__ == "__main__":
    main()
