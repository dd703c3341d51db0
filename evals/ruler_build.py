"""Merge the helpers' ruler files into evals/ruler/<style>.yaml and fix each item's split (run once per batch).

    python -m evals.ruler_build HELPER_DIR [--settled evals/ruler/settled.yaml]

Each helper file holds `items:` in the format of evals/README.md. Items with problems are dropped and listed.
The split is stratified by style and persona (systematic sampling over each style's items sorted by persona, in
the pattern 11 train : 3 dev : 6 test), a dialogue is one item and so stays whole, and a held-out item that
near-duplicates a train item swaps places with a train item of its style that does not.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from evals.ruler import RULER_DIR, STYLES
from evals.ruler_checks import item_problems, leaks, questions_of, report_words, runs

REPORT = Path(__file__).parents[1] / "corpus" / "the-revolution-will-be-improvised.md"
SPLIT_SEED = 20261206
# 11 train : 3 dev : 6 test in every 20 (55% / 15% / 30%), train first in each partial cycle so no style's
# share of train falls under 55%.
PATTERN = (
    *("train", "test", "train", "dev", "train", "test", "train", "train", "test", "train"),
    *("dev", "train", "test", "train", "train", "test", "train", "dev", "train", "test"),
)
HEADER = """# The ruler: {style} items ({n}). Format and provenance: evals/README.md.
# Written and labelled by helper sessions from the report alone (they saw neither the engine, its answers,
# nor the other eval files). `split` was fixed by evals/ruler_build.py: train (fitting), dev (tuning),
# test (reporting and gates only).
"""


def assign_splits(items: list[dict[str, Any]], seed: int = SPLIT_SEED) -> None:
    """Set `split` on every item: within each style, sorted by persona (ties shuffled), the fixed pattern."""
    rng = random.Random(seed)
    for style in STYLES:
        members = [i for i in items if i["style"] == style]
        keys = {i["id"]: rng.random() for i in members}
        members.sort(key=lambda i: (i["persona"].lower(), keys[i["id"]]))
        for n, item in enumerate(members):
            item["split"] = PATTERN[n % len(PATTERN)]


def resolve_leaks(items: list[dict[str, Any]], vectors: dict[str, np.ndarray], seed: int = SPLIT_SEED) -> int:
    """Swap each held-out item that near-duplicates a train item with a train item of its style that does not;
    repeat until none is left. Returns the number of swaps."""
    rng = random.Random(seed)
    swaps = 0
    for _ in range(20):
        train = [i for i in items if i["split"] == "train"]
        found = leaks([i for i in items if i["split"] != "train"], train, vectors)
        if not found:
            return swaps
        for item_id in found:
            item = next(i for i in items if i["id"] == item_id)
            candidates = [i for i in train if i["style"] == item["style"] and i["id"] not in found]
            partner = rng.choice(candidates)
            item["split"], partner["split"] = "train", item["split"]
            train.remove(partner)
            swaps += 1
    raise SystemExit("leaks remain after 20 rounds of swaps")


def embed_questions(items: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    from assistant.embeddings import MiniLMEmbeddings

    texts = sorted({q for item in items for q in questions_of(item)})
    matrix = np.asarray(MiniLMEmbeddings(progress=True, backend="torch").embed_documents(texts), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return dict(zip(texts, matrix, strict=True))


def _clean(item: dict[str, Any], writer: str) -> dict[str, Any]:
    """Key order fixed, coverage as a string, the writer recorded."""
    item = {"id": item["id"], "style": item["style"], "persona": item["persona"], "writer": writer, **item}
    if "turns" in item:
        for turn in item["turns"]:
            turn["coverage"] = _coverage(turn["coverage"])
    else:
        item["coverage"] = _coverage(item["coverage"])
    return item


def _coverage(value: object) -> str:
    # YAML 1.1 reads a bare yes/no as a boolean.
    return {True: "yes", False: "no"}.get(value, str(value))  # type: ignore[call-overload]


SETTLED_FIELDS = ("coverage", "relevant", "missing", "why")


def apply_settled(items: list[dict[str, Any]], settled: list[dict[str, Any]]) -> None:
    """The third reader's call on each disputed ask replaces that ask's labels (coverage, spans, missing/why)."""
    by_id = {i["id"]: i for i in items}
    for call in settled:
        item = by_id[call["id"]]
        ask = item["turns"][int(call["turn"]) - 1] if "turns" in item else item
        for name in SETTLED_FIELDS:
            ask.pop(name, None)
            if call.get(name) not in (None, [], ""):
                ask[name] = _coverage(call[name]) if name == "coverage" else call[name]
        ask["settled_by"] = "third reader"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("helper_dir", type=Path)
    parser.add_argument("--settled", type=Path, help="the third reader's labels for disputed asks (id, turn, labels)")
    args = parser.parse_args(argv)
    body = report_words(REPORT.read_text("utf-8"))
    report, report_runs = " ".join(body), runs(body, 5)
    items, dropped = [], []
    for path in sorted(args.helper_dir.glob("h*.yaml")):
        for raw in yaml.safe_load(path.read_text("utf-8"))["items"]:
            item = _clean(raw, path.stem)
            problems = item_problems(item, report, report_runs)
            (dropped if problems else items).append((item, problems) if problems else item)
    if args.settled:
        apply_settled(items, yaml.safe_load(args.settled.read_text("utf-8"))["items"])
        for item in items:
            problems = item_problems(item, report, report_runs)
            if problems:
                raise SystemExit(f"a settled item has problems: {problems}")
    for item, problems in dropped:
        print(f"dropped {item['id']}: {problems[0]}", file=sys.stderr)
    assign_splits(items)
    swaps = resolve_leaks(items, embed_questions(items))
    RULER_DIR.mkdir(exist_ok=True)
    by_style: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_style[item["style"]].append(item)
    for style in STYLES:
        members = sorted(by_style[style], key=lambda i: i["id"])
        text = yaml.safe_dump({"items": members}, sort_keys=False, allow_unicode=True, width=120)
        (RULER_DIR / f"{style}.yaml").write_text(HEADER.format(style=style, n=len(members)) + text, "utf-8")
    splits = {s: sum(i["split"] == s for i in items) for s in ("train", "dev", "test")}
    print(f"{len(items)} items kept, {len(dropped)} dropped, {swaps} leak swaps; splits {splits}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
