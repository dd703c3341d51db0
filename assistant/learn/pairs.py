"""Training pairs for the encoder: a leader's question and the report sentence that answers it.

Two sources, both written by helpers from the report alone: the `train` split of the ruler (evals/ruler/*.yaml:
every covered ask's grade-2 spans, the raw question and its standalone rewrite as anchors) and the passage
questions beside the corpus. A span is matched to the report sentence(s) the index holds as records, since those
are what a query meets. `dev` and `test` are never read here.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.textnorm import normalize_loose, split_sentences
from assistant.types import Chunk

TRAIN_SPLIT = "train"


@dataclass(frozen=True)
class Pair:
    """An anchor (a question), its positive (a report sentence), and the report sentences it must not match."""

    anchor: str
    positive: str
    labelled: frozenset[str]  # every sentence any of the ask's spans lies in: never a negative for this anchor
    negative: str = ""  # a hard negative: a sentence close to the anchor that answers it not (mined, see encoder.py)


def report_sentences(chunks: Sequence[Chunk]) -> list[str]:
    """Each sentence record the index holds, in report order, without repeats."""
    seen: dict[str, None] = {}
    for chunk in chunks:
        for start, end in split_sentences(chunk.text):
            seen.setdefault(chunk.text[start:end], None)
    return list(seen)


class SentenceFinder:
    """Finds the sentence(s) a verbatim span lies in (normalised, case-insensitive)."""

    def __init__(self, sentences: Sequence[str]) -> None:
        self.sentences = list(sentences)
        self._normal = [normalize_loose(s) for s in sentences]

    def find(self, span: str) -> list[str]:
        span_n = normalize_loose(span)
        inside = [s for s, n in zip(self.sentences, self._normal, strict=True) if span_n in n]
        if inside:
            return inside[:1]
        # A span across a sentence boundary: the sentence that holds each of its parts.
        found: list[str] = []
        for start, end in split_sentences(span):
            part = normalize_loose(span[start:end])
            found += [s for s, n in zip(self.sentences, self._normal, strict=True) if part in n][:1]
        return list(dict.fromkeys(found))[:2]


def ruler_items(ruler_dir: Path, split: str) -> list[dict]:
    """The ruler's items of one split (read as data: the serving path and the evals do not come into it)."""
    items = []
    for path in sorted(ruler_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        if isinstance(data, dict) and "items" in data:
            items += [i for i in data["items"] if i.get("split") == split]
    return items


def ruler_pairs(ruler_dir: Path, finder: SentenceFinder, per_ask: int = 2) -> list[Pair]:
    """(question, sentence) for up to `per_ask` grade-2 sentences of every covered ask in the ruler's `train`
    split. The anchors alternate between the words typed and the standalone rewrite, so both are learnt without
    doubling the pairs (training time on 2 cores is the budget that binds)."""
    pairs: list[Pair] = []
    for item in ruler_items(ruler_dir, TRAIN_SPLIT):
        for ask in item.get("turns") or [item]:
            spans = ask.get("relevant") or []
            labelled = frozenset(s for span in spans for s in finder.find(span["text"]))
            anchors = [ask["question"], ask.get("standalone") or ask["question"]]
            found = [s for span in spans if int(span["grade"]) == 2 for s in finder.find(span["text"])]
            for n, sentence in enumerate(list(dict.fromkeys(found))[:per_ask]):
                pairs.append(Pair(anchors[n % 2], sentence, labelled))
    return pairs


def passage_question_pairs(questions: Iterable[tuple[str, str]], finder: SentenceFinder) -> list[Pair]:
    """(passage question, the sentence of its span) for each passage question beside the corpus."""
    pairs = []
    for question, span in questions:
        found = finder.find(span)
        pairs += [Pair(question, sentence, frozenset(found)) for sentence in found]
    return pairs


def batches_without_clashes(pairs: Sequence[Pair], batch_size: int, seed: int) -> list[list[Pair]]:
    """Shuffled batches in which no text appears twice and no positive is labelled for another anchor in the
    batch: in-batch negatives must be real negatives (sentence-transformers' NoDuplicatesBatchSampler, plus labels)."""
    order = list(pairs)
    random.Random(seed).shuffle(order)
    batches: list[list[Pair]] = []
    while order:
        batch: list[Pair] = []
        texts: set[str] = set()
        rest: list[Pair] = []
        for pair in order:
            clash = pair.anchor in texts or pair.positive in texts
            clash = clash or any(_clashes(p, pair) or _clashes(pair, p) for p in batch)
            if len(batch) < batch_size and not clash:
                batch.append(pair)
                texts |= {pair.anchor, pair.positive}
            else:
                rest.append(pair)
        batches.append(batch)
        order = rest
    return [b for b in batches if len(b) > 1]


def _clashes(a: Pair, b: Pair) -> bool:
    """Whether b's positive or negative is a sentence labelled for a's anchor (so not a negative for it)."""
    return b.positive in a.labelled or (bool(b.negative) and b.negative in a.labelled)
