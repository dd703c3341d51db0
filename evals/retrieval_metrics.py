"""Retrieval metrics over ranked passage texts and gold evidence strings.

Relevance: a passage is relevant to a question when it contains any of the question's gold evidence
strings, compared after `assistant.textnorm.normalize_loose` (whitespace, quote styles and case ignored).

- hit@k (reported as recall@k): 1 if any of the top-k passages is relevant, else 0; averaged over questions.
- MRR@k: 1 / rank of the first relevant passage within the top k (0 if none); averaged.
- nDCG@k: binary gains, DCG = Σ rel_i / log2(i + 1) over ranks i = 1..k, divided by the ideal DCG
  (all relevant passages retrieved — at most one per gold string — ranked first); averaged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from assistant.textnorm import normalize_loose


def relevance(passages: Sequence[str], evidence: Sequence[str]) -> list[bool]:
    """For each ranked passage, whether it contains any gold evidence string."""
    gold = [normalize_loose(e) for e in evidence]
    return [any(g in normalize_loose(p) for g in gold) for p in passages]


def recall_at_k(rel: Sequence[bool], k: int) -> float:
    """1.0 when a relevant passage is in the top k."""
    return 1.0 if any(rel[:k]) else 0.0


def mrr_at_k(rel: Sequence[bool], k: int = 10) -> float:
    """Reciprocal rank of the first relevant passage in the top k."""
    for rank, is_rel in enumerate(rel[:k], start=1):
        if is_rel:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(rel: Sequence[bool], k: int = 10, n_gold: int = 1) -> float:
    """Binary-gain nDCG@k; the ideal ranking puts min(n_gold, k) relevant passages first."""
    dcg = sum(1.0 / math.log2(i + 1) for i, r in enumerate(rel[:k], start=1) if r)
    ideal_hits = max(1, min(n_gold, k))
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, ideal_hits + 1))
    return min(1.0, dcg / idcg)


def summarize(rels: Sequence[Sequence[bool]], n_golds: Sequence[int] | None = None) -> dict[str, float]:
    """Mean recall@1/5/10, MRR@10 and nDCG@10 over questions."""
    n = len(rels) or 1
    n_golds = n_golds or [1] * len(rels)
    return {
        "recall@1": sum(recall_at_k(r, 1) for r in rels) / n,
        "recall@5": sum(recall_at_k(r, 5) for r in rels) / n,
        "recall@10": sum(recall_at_k(r, 10) for r in rels) / n,
        "mrr@10": sum(mrr_at_k(r, 10) for r in rels) / n,
        "ndcg@10": sum(ndcg_at_k(r, 10, g) for r, g in zip(rels, n_golds, strict=True)) / n,
    }
