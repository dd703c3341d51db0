"""Stage 3, the decision: does the report answer the question (`answered`), touch on it (`partial`), or hold
nothing useful (`not_covered`)? Every outcome carries its reason in words.

Thresholds are calibrated on the `dev` split of the leaders' question set only (see README, "Evaluation").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from assistant.answering.coverage_model import CoverageModel, coverage_features
from assistant.answering.evidence import Unit
from assistant.answering.question import Question, states
from assistant.config import Settings
from assistant.types import Coverage, Passage

KNOWN_SHARE_FLOOR = 0.6  # below this share of known topic words, an answer is at most partial (tuned on dev)
OUT_OF_SCOPE_EVIDENCE = 0.40  # below this evidence…
OUT_OF_SCOPE_ASKED = 0.45  # …and with no passage question this close, the report holds nothing near (dev+calibration)
TOP_UNITS_FOR_FACTS = 2  # a wanted fact must be stated by one of the two best units
Shortfall = Literal["figure", "rate", "amount", "date", "recommendation", "list", "procedure", "names", "indirect"]


@dataclass(frozen=True)
class Decision:
    """What the report offers for the question, why, and (for `partial`) what it lacks."""

    coverage: Coverage
    reason: str
    shortfall: Shortfall | None = None
    best: float = 0.0
    missing: tuple[str, ...] = ()  # for "names": what the report never mentions


def decide(
    question: Question,
    units: Sequence[Unit],
    settings: Settings,
    nearest_asked: float | None = None,
    model: CoverageModel | None = None,
    passages: Sequence[Passage] = (),
) -> Decision:
    """answered | partial | not_covered: the fitted coverage model's call when there is one (`lva tune`), else
    the hand rules below. With a model, the rules still name what a partial answer lacks (a figure, a name)."""
    rules = decide_by_rules(question, units, settings, nearest_asked)
    if model is None or not units or not question.standalone.strip():
        return rules
    verdict, probs = model.predict(coverage_features(question, units, passages, nearest_asked))
    if verdict == rules.coverage:
        return rules
    reason = f"coverage model: p({verdict}) {probs[verdict]:.2f}; the rules said {rules.coverage} ({rules.reason})"
    if verdict == "partial":
        return Decision("partial", reason, rules.shortfall or "indirect", rules.best, rules.missing)
    return replace(rules, coverage=verdict, reason=reason, shortfall=None, missing=())


def decide_by_rules(
    question: Question, units: Sequence[Unit], settings: Settings, nearest_asked: float | None = None
) -> Decision:
    """answered | partial | not_covered, from the best unit's evidence and what the question asks for.

    `nearest_asked`: the similarity of the closest passage question of the passages read (None when the report has
    none). Weak evidence with no passage question near it means nothing the report answers is close: the plain
    refusal, not loosely related quotes presented as "the closest it comes"."""
    if not question.standalone.strip():
        return Decision("not_covered", "nothing left to search")
    if not units:
        return Decision("not_covered", "no evidence retrieved")
    best = max(u.evidence for u in units)
    if best < settings.not_covered_below:
        return Decision("not_covered", f"best evidence {best:.2f} is below {settings.not_covered_below:.2f}", best=best)
    if nearest_asked is not None and best < OUT_OF_SCOPE_EVIDENCE and nearest_asked < OUT_OF_SCOPE_ASKED:
        return Decision(
            "not_covered",
            f"best evidence {best:.2f} and no question the report answers is near (closest {nearest_asked:.2f})",
            best=best,
        )
    if question.wanted == "contact":
        return Decision("not_covered", "the report gives no contact details", best=best)
    if settings.unknown_terms_rule and question.unknown_terms:
        named = ", ".join(question.unknown_terms)
        if best < settings.answered_from:
            return Decision("not_covered", f"the report never mentions {named}", best=best)
        if set(question.unknown_terms) <= set(question.listed_terms):
            reason = f"the report only lists {named}"
            return Decision("partial", reason, "listed", best, tuple(question.unknown_terms))
        return Decision("partial", f"the report never mentions {named}", "names", best, tuple(question.unknown_terms))
    if settings.answer_type_rule and question.wanted is not None:
        top = sorted(units, key=lambda u: -u.evidence)[:TOP_UNITS_FOR_FACTS]
        stated = (
            any(u.passage.kind == "list" for u in top)
            if question.wanted == "list"
            else any(states(question.wanted, u.text) for u in top)
        )
        if not stated:
            return Decision(
                "partial", f"the question asks for {question.wanted} the evidence does not state", question.wanted, best
            )
    if settings.unknown_terms_rule and question.known_share < KNOWN_SHARE_FLOOR:
        share = f"{question.known_share:.0%}"
        return Decision("partial", f"only {share} of the question's topic words occur in the report", "indirect", best)
    if best < settings.answered_from:
        return Decision("partial", f"best evidence {best:.2f} is below {settings.answered_from:.2f}", "indirect", best)
    return Decision("answered", f"best evidence {best:.2f}", best=best)
