"""The ruler: labelled questions and dialogues in every voice leaders write in, and the per-style metrics.

`evals/ruler/<style>.yaml` (one file per style, format in evals/README.md) was written and labelled by helper
sessions from the report alone; `evals/ruler_build.py` merged their files and fixed each item's `split`:
`train` is for fitting models, `dev` for tuning, `test` for reporting and gating only.

The unit scored is an *ask*: a single question, or one turn of a dialogue (asked with the conversation so far,
scored against that turn's own labels).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from assistant.types import Answer, AskRequest, Turn
from evals.metrics import is_boilerplate, is_fragment, point_grade, retrieval_hits

if TYPE_CHECKING:
    from evals.target import EvalTarget

RULER_DIR = Path(__file__).parent / "ruler"
STYLES = ("plain", "context", "terse", "dialogue", "switch", "off_topic", "partly", "no")
DIALOGUE_STYLES = ("dialogue", "switch", "off_topic")
SPLITS = ("train", "dev", "test")
LABEL_TO_COVERAGE = {"yes": "answered", "partly": "partial", "no": "not_covered"}
METRICS = (
    "false_refusal",
    "missed_refusal",
    "answer_hit",
    "point_precision",
    "followup_hit",
    "retrieval_recall@6",
    "coverage_accuracy",
)
LOWER_IS_BETTER = {"false_refusal", "missed_refusal", "fragment_rate", "boilerplate_rate"}


@dataclass(frozen=True)
class Ask:
    """One labelled question put to the engine: a single item, or one turn of a dialogue."""

    item_id: str
    style: str
    persona: str
    split: str
    turn: int  # 1-based
    kind: str  # first | follow_up | switch | aside | return
    question: str
    standalone: str
    intent: str
    coverage: str  # yes | partly | no
    relevant: tuple[dict[str, Any], ...]
    missing: str | None = None

    @property
    def grade2(self) -> list[dict[str, Any]]:
        return [r for r in self.relevant if int(r["grade"]) == 2]


def load_ruler(directory: Path = RULER_DIR) -> list[dict[str, Any]]:
    """Every item of every style file, in file order."""
    items: list[dict[str, Any]] = []
    for style in STYLES:
        path = directory / f"{style}.yaml"
        items += yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    return items


def asks_of(item: dict[str, Any]) -> list[Ask]:
    """The asks of an item: one for a single question, one per turn for a dialogue."""
    turns = item.get("turns") or [{**item, "kind": "first", "standalone": item["question"]}]
    return [
        Ask(
            item_id=item["id"],
            style=item["style"],
            persona=item["persona"],
            split=item["split"],
            turn=n,
            kind=turn["kind"],
            question=turn["question"],
            standalone=turn["standalone"],
            intent=turn["intent"],
            coverage=str(turn["coverage"]),
            relevant=tuple(turn.get("relevant") or ()),
            missing=turn.get("missing"),
        )
        for n, turn in enumerate(turns, start=1)
    ]


def all_asks(items: Iterable[dict[str, Any]]) -> list[Ask]:
    return [ask for item in items for ask in asks_of(item)]


@dataclass
class AskResult:
    """One ask's answer, scored against its labels."""

    ask: Ask
    answer: Answer
    retrieved: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> str:
        return self.answer.coverage if self.answer.answerable else "not_covered"

    @property
    def grades(self) -> list[int]:
        return [point_grade(c.quote, self.ask.relevant) for c in self.answer.citations]

    @property
    def hit(self) -> bool:
        """A grade-2 span is quoted (a refusal never hits)."""
        return self.coverage != "not_covered" and 2 in self.grades

    def problems(self) -> list[str]:
        label, out = self.ask.coverage, []
        if label in ("yes", "partly") and self.coverage == "not_covered":
            out.append(f"refused an ask the report covers ({label})")
        if label == "no" and self.coverage == "answered":
            out.append("answered an ask the report does not cover")
        elif LABEL_TO_COVERAGE[label] != self.coverage:
            out.append(f"labelled {label}, answered {self.coverage}")
        if label == "yes" and self.coverage != "not_covered" and not self.hit:
            out.append("no grade-2 span quoted")
        off = sum(g == 0 for g in self.grades) if label != "no" else 0
        if off:
            out.append(f"{off} of {len(self.grades)} points on no graded span")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.ask.item_id,
            "turn": self.ask.turn,
            "style": self.ask.style,
            "split": self.ask.split,
            "label": self.ask.coverage,
            "question": self.ask.question,
            "standalone": self.ask.standalone,
            "engine_standalone": self.answer.standalone_question,
            "coverage": self.coverage,
            "answer": self.answer.answer,
            "points": [
                {"quote": c.quote, "section": c.section, "grade": g}
                for c, g in zip(self.answer.citations, self.grades, strict=True)
            ],
            "problems": self.problems(),
        }


def run_item(target: EvalTarget, item: dict[str, Any], k: int = 6) -> list[AskResult]:
    """Ask every turn in order, carrying the conversation; each turn is scored on its own labels."""
    history: list[Turn] = []
    results = []
    for ask in asks_of(item):
        answer = target.ask(AskRequest(question=ask.question, history=history))
        retrieved = target.search(answer.standalone_question, k) if ask.grade2 else []
        results.append(AskResult(ask, answer, retrieved))
        history += [Turn(role="user", content=ask.question), Turn(role="assistant", content=answer.answer)]
    return results


def run_ruler(target: EvalTarget, items: Iterable[dict[str, Any]]) -> list[AskResult]:
    return [result for item in items for result in run_item(target, item)]


def _rate(successes: float, n: int) -> dict[str, float | None]:
    """A rate with its n. Over zero asks it has no value, and a gate on it fails."""
    return {"value": successes / n if n else None, "successes": successes, "n": n}


def ruler_metrics(results: Sequence[AskResult]) -> dict[str, dict[str, float | None]]:
    """Every metric over a group of asks (definitions in evals/README.md)."""
    covered = [r for r in results if r.ask.coverage in ("yes", "partly")]
    uncovered = [r for r in results if r.ask.coverage == "no"]
    yes = [r for r in results if r.ask.coverage == "yes"]
    followups = [r for r in yes if r.ask.turn >= 2]
    points = [g for r in covered if r.coverage != "not_covered" for g in r.grades]
    answered = [r for r in results if r.coverage != "not_covered"]
    fragments = [is_fragment(c.quote) for r in answered for c in r.answer.citations]
    boiler = [is_boilerplate(c, r.ask.intent == "who") for r in answered for c in r.answer.citations]
    found = total = 0
    for r in results:
        if r.ask.grade2:
            f, t = retrieval_hits(r.retrieved, list(r.ask.relevant), 6)
            found, total = found + f, total + t
    return {
        "n": {"value": float(len(results)), "successes": None, "n": len(results)},  # asks, not a rate
        "false_refusal": _rate(sum(r.coverage == "not_covered" for r in covered), len(covered)),
        "missed_refusal": _rate(sum(r.coverage == "answered" for r in uncovered), len(uncovered)),
        "answer_hit": _rate(sum(r.hit for r in yes), len(yes)),
        "point_precision": _rate(sum(g >= 1 for g in points), len(points)),
        "followup_hit": _rate(sum(r.hit for r in followups), len(followups)),
        "retrieval_recall@6": _rate(found, total),
        "coverage_accuracy": _rate(sum(LABEL_TO_COVERAGE[r.ask.coverage] == r.coverage for r in results), len(results)),
        "fragment_rate": _rate(sum(fragments), len(fragments)),
        "boilerplate_rate": _rate(sum(boiler), len(boiler)),
        "points_per_answer": _rate(sum(len(r.answer.citations) for r in answered), len(answered)),
    }


def _values(results: Sequence[AskResult]) -> dict[str, float | None]:
    return {name: m["value"] for name, m in ruler_metrics(results).items()}


def ruler_summary(results: Sequence[AskResult]) -> dict[str, Any]:
    """`{split: {"all": {metric: value}, "by_style": {style: {metric: value}}, "detail": ...}}`."""
    out: dict[str, Any] = {}
    for split in SPLITS:
        members = [r for r in results if r.ask.split == split]
        if not members:
            continue
        detail = ruler_metrics(members)
        out[split] = {
            "all": {name: m["value"] for name, m in detail.items()},
            "detail": detail,
            "by_style": {style: _values([r for r in members if r.ask.style == style]) for style in STYLES},
        }
    return out


# Gates on `test`: a little below what the engine reached when the ruler landed (its first run, before any engine
# change; README, "Evaluation"), so a regression fails. Where the targets are higher, these are floors.
# Shipped engine's first run on test (tuned encoder + coverage model): false refusal 0.054, missed refusal 0.159,
# answer hit 0.678, point precision 0.413, follow-up hit 0.515, recall@6 0.610, coverage accuracy 0.729.
RULER_GATES: dict[str, tuple[str, float]] = {
    "false_refusal": ("<=", 0.07),
    "missed_refusal": ("<=", 0.18),
    "answer_hit": (">=", 0.65),
    "point_precision": (">=", 0.39),
    "followup_hit": (">=", 0.49),
    "retrieval_recall@6": (">=", 0.58),
    "coverage_accuracy": (">=", 0.70),
}
RULER_STYLE_GATES: dict[str, dict[str, tuple[str, float]]] = {
    "plain": {"false_refusal": ("<=", 0.03), "answer_hit": (">=", 0.83)},
    "context": {"false_refusal": ("<=", 0.06), "answer_hit": (">=", 0.72)},
    "terse": {"false_refusal": ("<=", 0.23), "answer_hit": (">=", 0.61)},
    "dialogue": {"false_refusal": ("<=", 0.07), "answer_hit": (">=", 0.52), "followup_hit": (">=", 0.39)},
    "switch": {"false_refusal": ("<=", 0.07), "answer_hit": (">=", 0.64)},
    "off_topic": {"false_refusal": ("<=", 0.08), "answer_hit": (">=", 0.60)},
    "partly": {"false_refusal": ("<=", 0.10)},
    "no": {"missed_refusal": ("<=", 0.18)},
}


def gate_failures(summary: dict[str, Any], split: str = "test") -> list[str]:
    """Each gated metric (overall and per style) that misses its bound (a metric with no value misses)."""
    failures = []
    checks = [("all", summary[split]["all"], RULER_GATES)]
    checks += [(style, summary[split]["by_style"][style], RULER_STYLE_GATES.get(style, {})) for style in STYLES]
    for scope, values, gates in checks:
        for name, (op, bound) in gates.items():
            value = values[name]
            ok = value is not None and (value <= bound if op == "<=" else value >= bound)
            if not ok:
                failures.append(f"{scope} {name} = {value} on {split}, needs {op} {bound}")
    return failures
