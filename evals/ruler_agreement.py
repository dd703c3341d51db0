"""Inter-annotator agreement on the ruler: a second helper relabelled a random 10% of the items blind.

    python -m evals.ruler_agreement evals/ruler/relabel/*.yaml   # prints the figures, writes evals/ruler/agreement.json

Coverage agreement is Cohen's kappa over asks (yes / partly / no). Span agreement, over asks both readers call
covered: the share of the second reader's grade-2 spans that overlap a span of the first (any grade), and the
share of the first reader's grade-2 spans that the second reader's spans overlap (the overlap rule of
evals/metrics.py). Disagreements on coverage went to a third reader, whose call is in evals/ruler/settled.yaml
and applied by evals/ruler_build.py.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from sklearn.metrics import cohen_kappa_score

from evals.metrics import overlaps
from evals.ruler import RULER_DIR, load_ruler

SAMPLE_SEED = 20261206
SAMPLE_SHARE = 0.10


def sample_ids(ids: Sequence[str], share: float = SAMPLE_SHARE, seed: int = SAMPLE_SEED) -> list[str]:
    """The fixed random sample of items given to the second reader."""
    ordered = sorted(ids)
    return sorted(random.Random(seed).sample(ordered, round(len(ordered) * share)))


def _asks(item: dict[str, Any]) -> list[dict[str, Any]]:
    return item.get("turns") or [item]


def agreement(first: Sequence[dict[str, Any]], second: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Kappa on coverage and span overlap, over the asks of the items both readers labelled."""
    by_id = {i["id"]: i for i in first}
    a_cov, b_cov, disputed = [], [], []
    second_in_first = [0, 0]
    first_in_second = [0, 0]
    for relabel in second:
        original = by_id[relabel["id"]]
        for n, (x, y) in enumerate(zip(_asks(original), _asks(relabel), strict=True), start=1):
            cx, cy = str(x["coverage"]), _coverage(y["coverage"])
            a_cov.append(cx)
            b_cov.append(cy)
            if cx != cy:
                disputed.append({"id": relabel["id"], "turn": n, "first": cx, "second": cy})
            if cx == "no" or cy == "no":
                continue
            xs, ys = x.get("relevant") or [], y.get("relevant") or []
            for span in (s for s in ys if int(s["grade"]) == 2):
                second_in_first[0] += any(overlaps(span["text"], s["text"]) for s in xs)
                second_in_first[1] += 1
            for span in (s for s in xs if int(s["grade"]) == 2):
                first_in_second[0] += any(overlaps(span["text"], s["text"]) for s in ys)
                first_in_second[1] += 1
    return {
        "items": len(second),
        "asks": len(a_cov),
        "coverage_kappa": float(cohen_kappa_score(a_cov, b_cov)),
        "coverage_raw_agreement": sum(x == y for x, y in zip(a_cov, b_cov, strict=True)) / len(a_cov),
        "second_grade2_in_first_spans": second_in_first[0] / max(1, second_in_first[1]),
        "first_grade2_in_second_spans": first_in_second[0] / max(1, first_in_second[1]),
        "disputed": disputed,
    }


def _coverage(value: object) -> str:
    return {True: "yes", False: "no"}.get(value, str(value))  # type: ignore[call-overload]


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    relabels = [item for path in args for item in yaml.safe_load(Path(path).read_text("utf-8"))["items"]]
    result = agreement(load_ruler(), relabels)
    (RULER_DIR / "agreement.json").write_text(json.dumps(result, indent=2), "utf-8")
    shown = {k: v for k, v in result.items() if k != "disputed"}
    print(json.dumps(shown, indent=2), f"\n{len(result['disputed'])} disputed asks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
