"""What every ruler item must satisfy, and the leak checks between splits; used by the builder and the tests.

Word runs are compared on `normalize_loose` words, so quote styles, dashes and case do not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "″": '"', "‘": "'", "’": "'", "‚": "'", "′": "'"})
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-"})


def normalize_loose(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).translate(_DASHES)
    return re.sub(r"\s+", " ", text).strip().lower()


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


QUOTA = {"plain": 30, "context": 45, "terse": 40, "dialogue": 30, "switch": 20, "off_topic": 20, "partly": 45, "no": 45}


def main() -> None:
    import sys
    from collections import Counter
    from pathlib import Path

    import yaml

    path = Path(sys.argv[1])
    here = Path(__file__).parent
    body = report_words((here / "report.md").read_text("utf-8"))
    report, report_runs = " ".join(body), runs(body, 5)
    try:
        items = yaml.safe_load(path.read_text("utf-8"))["items"]
    except Exception as exc:  # noqa: BLE001
        print(f"cannot read {path}: {exc}")
        sys.exit(1)
    problems, ids = [], Counter(str(i.get("id")) for i in items)
    problems += [f"duplicate id {k}" for k, v in ids.items() if v > 1]
    for item in items:
        if item.get("style") not in QUOTA:
            problems.append(f"{item.get('id')}: style {item.get('style')!r}")
            continue
        try:
            problems += item_problems(item, report, report_runs)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{item.get('id')}: malformed item ({exc!r})")
    for p in problems:
        print("PROBLEM", p)
    counts = Counter(i.get("style") for i in items)
    print("counts:", {s: f"{counts.get(s, 0)}/{q}" for s, q in QUOTA.items()}, "total", len(items))
    print(f"{len(problems)} problem(s)")


if __name__ == "__main__":
    main()
