"""What every ruler item must satisfy, and the leak checks between splits; used by the builder and the tests.

Word runs are compared on `normalize_loose` words, so quote styles, dashes and case do not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from assistant.textnorm import normalize_loose

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
INTENTS = {"how", "why", "what", "who", "judgement"}
KINDS = {"first", "follow_up", "switch", "aside", "return"}
SPAN_WORDS = (8, 25)
NEAR_DUPLICATE_COSINE = 0.92
SHARED_RUN_WITH_TRAIN = 8
SHARED_RUN_WITH_REPORT = 5


def words(text: str) -> list[str]:
    return _WORD.findall(normalize_loose(text))


def report_words(report_markdown: str) -> list[str]:
    """The report's words after its front matter."""
    return words(report_markdown.split("\n---\n", 1)[1])


def runs(tokens: Sequence[str], n: int) -> set[str]:
    return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def questions_of(item: dict[str, Any]) -> list[str]:
    """Every question an item asks, and the standalone rewrites of its turns."""
    if "turns" in item:
        return [text for turn in item["turns"] for text in (turn["question"], turn["standalone"])]
    return [item["question"]]


def label_problems(where: str, label: dict[str, Any], report: str) -> list[str]:
    """A labelled ask's problems: coverage, intent, spans verbatim and 8-25 words, remedy flags, missing/why."""
    out = []
    coverage, intent, spans = str(label.get("coverage")), label.get("intent"), label.get("relevant") or []
    if coverage not in ("yes", "partly", "no"):
        out.append(f"{where}: coverage {coverage!r}")
    if intent not in INTENTS:
        out.append(f"{where}: intent {intent!r}")
    for span in spans:
        tokens = words(str(span.get("text", "")))
        if not SPAN_WORDS[0] <= len(tokens) <= SPAN_WORDS[1]:
            out.append(f"{where}: span of {len(tokens)} words: {span.get('text')!r}")
        if " ".join(tokens) not in report:
            out.append(f"{where}: span not verbatim in the report: {span.get('text')!r}")
        if span.get("grade") not in (1, 2):
            out.append(f"{where}: grade {span.get('grade')!r}")
        if intent == "how" and not isinstance(span.get("remedy"), bool):
            out.append(f"{where}: a how-to span needs remedy true/false: {span.get('text')!r}")
    grade2 = [s for s in spans if s.get("grade") == 2]
    if coverage == "yes" and (len(spans) < 3 or not grade2):
        out.append(f"{where}: a covered ask needs >= 3 spans with a grade 2")
    if coverage == "partly" and (not label.get("missing") or not grade2):
        out.append(f"{where}: a partly ask needs `missing` and a grade-2 span")
    if coverage == "no" and (spans or not label.get("why")):
        out.append(f"{where}: a not-covered ask has `why` and no spans")
    return out


def item_problems(item: dict[str, Any], report: str, report_runs: set[str]) -> list[str]:
    """Every problem of one item (an empty list when it is sound)."""
    where, style, out = str(item.get("id")), item.get("style"), []
    if not item.get("persona"):
        out.append(f"{where}: no persona")
    for question in questions_of(item):
        shared = runs(words(question), SHARED_RUN_WITH_REPORT) & report_runs
        if shared:
            out.append(f"{where}: shares a {SHARED_RUN_WITH_REPORT}-word run with the report: {sorted(shared)[0]!r}")
    if "turns" in item:
        turns = item["turns"]
        kinds = [t.get("kind") for t in turns]
        if not 3 <= len(turns) <= 4 or kinds[0] != "first" or not set(kinds) <= KINDS:
            out.append(f"{where}: a dialogue has 3-4 turns, the first of kind first: {kinds}")
        if style == "switch" and "switch" not in kinds:
            out.append(f"{where}: a switch dialogue has a switch turn")
        if style == "off_topic" and not ("aside" in kinds and "return" in kinds[kinds.index("aside") :]):
            out.append(f"{where}: an off_topic dialogue has an aside, then a return")
        for n, turn in enumerate(turns, start=1):
            out += label_problems(f"{where} turn {n}", turn, report)
            if turn.get("kind") == "aside" and str(turn.get("coverage")) != "no":
                out.append(f"{where} turn {n}: an aside is not covered")
        return out
    length = len(item["question"].split())
    if style == "terse" and length > 10:
        out.append(f"{where}: terse with {length} words")
    if style == "context" and not 40 <= length <= 150:
        out.append(f"{where}: context with {length} words")
    if style in ("partly", "no") and str(item.get("coverage")) != style:
        out.append(f"{where}: a {style}-style item is labelled {item.get('coverage')}")
    return out + label_problems(where, item, report)


def leaks(
    held_out: Iterable[dict[str, Any]], train: Iterable[dict[str, Any]], vectors: dict[str, np.ndarray]
) -> dict[str, str]:
    """{held-out item id: why} for each held-out item that near-duplicates a train item: a question at cosine
    >= 0.92 to a train question, or a shared 8-word run. `vectors` maps each question to its unit vector."""
    train = list(train)
    train_runs: dict[str, str] = {}
    for item in train:
        for question in questions_of(item):
            for run in runs(words(question), SHARED_RUN_WITH_TRAIN):
                train_runs.setdefault(run, item["id"])
    train_questions = [q for item in train for q in questions_of(item)]
    train_owner = [item["id"] for item in train for _ in questions_of(item)]
    matrix = np.stack([vectors[q] for q in train_questions]) if train_questions else np.zeros((0, 1))
    out: dict[str, str] = {}
    for item in held_out:
        for question in questions_of(item):
            shared = runs(words(question), SHARED_RUN_WITH_TRAIN) & train_runs.keys()
            if shared:
                run = sorted(shared)[0]
                out[item["id"]] = f"shares {run!r} with train item {train_runs[run]}"
                break
            if len(matrix):
                sims = matrix @ vectors[question]
                best = int(np.argmax(sims))
                if sims[best] >= NEAR_DUPLICATE_COSINE:
                    out[item["id"]] = f"cosine {sims[best]:.3f} to train item {train_owner[best]}"
                    break
    return out
