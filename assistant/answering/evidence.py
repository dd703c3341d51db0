"""Stage 2, the evidence: cut the retrieved passages into self-contained units and score each against the question.

A unit is one sentence, or two consecutive sentences of one passage, that a leader can read on its own:
- a sentence that opens by pointing back ("This", "It", "They", "But", "So"…) only appears with the one before;
- a sentence that ends with a colon, or that the next one turns against ("But…", "However…"), only appears with
  the one after;
- every unit has 8–70 words; front matter, the contents and name lists (unless names are asked for) never count;
- sentences that read as instructions to the assistant never count.
Units keep exact offsets into their document, so every quote stays verbatim.

Score = the better of the unit's cosine similarity to the (jargon-expanded) question and ASKED_DISCOUNT × the
similarity of the question to a passage question the unit answers + LEX_WEIGHT × share of the question's topic
words the unit contains + a heading bonus when the unit's section title matches the question + an intent bonus
(advice for "how", causes for "why", names for "who"). For "how" and "is it worth it" questions, advice that
follows a problem statement scores as high as the problem (`carry_remedies`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass

import numpy as np

from assistant.answering.grounding import content_tokens
from assistant.answering.question import Question, looks_like_instruction
from assistant.records import AnchoredQuestion
from assistant.sections import is_front_matter, is_name_list, top_section
from assistant.textnorm import split_sentences, strip_quote_marks
from assistant.types import Passage

LEX_WEIGHT = 0.5
QUOTE_BONUS = 0.02
QUOTE_SEEKING_BONUS = 0.15  # for "what did the enablers say…": their own words first
_QUOTE_SEEKING = re.compile(
    r"\benablers?\b[^?]{0,40}\b(?:say|said|says|feedback|think|thought|quote)|\bquotes?\b", re.I
)
HEADING_WEIGHT = 0.25
HEADING_FLOOR = 0.35  # heading similarity below this lends nothing
INTENT_BONUS = 0.03
ASKED_DISCOUNT = 0.8  # a unit's match through a question it answers, against its match through its own words
PART_DISCOUNT = 0.95  # a unit's match to one part of a multi-part question, against its match to the whole
ACTOR_WEIGHT = 0.3  # who is speaking is context; what they ask about is the topic
MIN_UNIT_WORDS = 8
MAX_UNIT_WORDS = 70
MAX_NAME_LIST_WORDS = 150
_POINTS_BACK = re.compile(
    r"^\W*(?!it (?:is|was) (?:\w+ ){1,2}(?:that|to)\b)"  # "It is crucial that…" holds a place, points nowhere
    r"(?:this|that|these|those|it|its|it's|they|their|them|he|she|such|so|but|and|or)\b"
    r"|^\W*(?:if|when|while|because|as|although|though|since|without|with)\s+(?:this|that|these|those|it|they|them)\b",
    re.I,
)
_CONNECTIVE = re.compile(r"\W*(?:but|and|so|yet)\s+", re.I)
_TURNS = re.compile(r"^\W*(?:but|however|yet|instead|in reality|in fact)\b", re.I)
_ADVICE = re.compile(
    r"\b(?:need(?:s)? to|must|should|it is (?:important|crucial|essential)|important to|can help|helps?|helped"
    r"|will help|requires?|the key|key requirement|take time|put time|make (?:the|a) |building|create|develop"
    r"|treating|explore|suspend|review|re-evaluating|connecting|focus(?:ed|ing)? on|recognis)\w*",
    re.I,
)
_CAUSE = re.compile(
    r"\b(?:because|fear|tension|pressure|difficult|hard|struggl|distrust|preoccupied|instinctively|tendency|"
    r"risk|danger|confusion|misunderstanding|blame|short-term|habit|slow|obstructive|rivals|silo|different)\w*",
    re.I,
)
_NAMES = re.compile(r"\b(?:by|chaired by|enablers?|members include|Steering Group)\b")
_INTENT_SECTIONS = {
    "how": ("The building blocks for success", "Light bulb moments"),
    "why": ("The hurdles", "At the start"),
}


@dataclass(frozen=True)
class NearbyQuestion:
    """A passage question of a retrieved passage: something the report answers near what was asked."""

    text: str
    chunk_id: str
    start: int  # absolute offsets of the span that answers it
    end: int
    sim: float  # cosine similarity to the question asked


def nearby_questions(
    passages: Sequence[Passage],
    questions_of: Callable[[str], Sequence[tuple[AnchoredQuestion, np.ndarray]]],
    query_vector: np.ndarray,
) -> list[NearbyQuestion]:
    """Every passage question of the passages, closest to the question asked first."""
    found = [
        NearbyQuestion(q.text, p.id, p.start + q.start, p.start + q.end, float(v @ query_vector))
        for p in passages
        for q, v in questions_of(p.id)
    ]
    return sorted(found, key=lambda n: -n.sim)


@dataclass
class Unit:
    """A quotable span of a retrieved passage, scored against the question."""

    passage: Passage
    start: int  # absolute offsets into the source document
    end: int
    text: str
    vector: np.ndarray
    sim: float
    lex: float
    bonus: float
    heading: float
    advice: bool
    sentences: tuple[int, ...]
    asked: float = 0.0  # best similarity of the question to a passage question this unit answers

    @property
    def score(self) -> float:
        return self.evidence + self.bonus

    @property
    def evidence(self) -> float:
        """How strongly the unit speaks to the question (its words, its meaning, its section's title), before any
        preference for kind or intent."""
        return max(self.sim, ASKED_DISCOUNT * self.asked) + LEX_WEIGHT * self.lex + self.heading


def candidate_spans(text: str) -> list[tuple[int, int, tuple[int, ...]]]:
    """(start, end, sentence indices) of every self-contained unit of a passage's text (rules above)."""
    sentences = [strip_quote_marks(text, a, b) for a, b in split_sentences(text)]
    if sentences:
        # A paragraph that opens on a bare connective ("But while the programme…, there is…") has no sentence
        # before it to carry: the quote starts after the connective, when what remains points nowhere.
        a, b = sentences[0]
        connective = _CONNECTIVE.match(text, a, b)
        if connective and not _POINTS_BACK.match(text[connective.end() : b]):
            sentences[0] = (connective.end(), b)
    out = []
    for i, (a, b) in enumerate(sentences):
        alone = text[a:b]
        turns = i + 1 < len(sentences) and _TURNS.match(text[sentences[i + 1][0] : sentences[i + 1][1]])
        # A sentence the next one contradicts ("…can feel like progress. But…") never stands alone.
        if not _POINTS_BACK.match(alone) and not alone.rstrip().endswith(":") and not turns:
            out.append((a, b, (i,)))
        if i + 1 < len(sentences) and not _POINTS_BACK.match(alone):
            following = text[sentences[i + 1][0] : sentences[i + 1][1]]
            if not following.rstrip().endswith(":"):
                out.append((a, sentences[i + 1][1], (i, i + 1)))
    return [(a, b, idx) for a, b, idx in out if MIN_UNIT_WORDS <= len(text[a:b].split()) <= MAX_UNIT_WORDS]


def lexical_share(
    groups: Sequence[frozenset[str]],
    text: str,
    idf: Callable[[str], float] | None = None,
    light: Set[frozenset[str]] = frozenset(),
) -> float:
    """Share of the question's topic-word groups (a jargon term with its expansion is one group) that the text
    contains, each group weighted by the rarest of its words in the report (so "blame" counts for more than
    "system"); an actor ("our CCG", "the council") counts for ACTOR_WEIGHT of a topic word."""
    if not groups:
        return 0.0
    tokens = content_tokens(text)
    weights = [
        (max((idf(t) for t in g), default=1.0) if idf else 1.0) * (ACTOR_WEIGHT if g in light else 1.0) for g in groups
    ]
    return sum(w for g, w in zip(groups, weights, strict=True) if g & tokens) / sum(weights)


def intent_bonus(question: Question, passage: Passage, text: str) -> tuple[float, bool]:
    """(bonus, whether the unit reads as advice)."""
    advice = bool(_ADVICE.search(text))
    bonus = 0.0
    preferred = _INTENT_SECTIONS.get(question.intent, ())
    if preferred and top_section(passage.section).startswith(preferred):
        bonus += INTENT_BONUS / 2
    if (
        question.intent in ("how", "judgement")
        and advice
        or question.intent == "why"
        and _CAUSE.search(text)
        or question.intent == "who"
        and _NAMES.search(text)
    ):
        bonus += INTENT_BONUS
    return bonus, advice


def gather_units(
    question: Question,
    passages: Sequence[Passage],
    vectors: Mapping[str, Sequence[float]],
    query_vector: np.ndarray,
    heading_score: Callable[[str], float],
    token_groups: Sequence[frozenset[str]],
    idf: Callable[[str], float] | None = None,
    part_vectors: Sequence[np.ndarray] = (),
    light_groups: Set[frozenset[str]] = frozenset(),
    nearby: Sequence[NearbyQuestion] = (),
) -> list[Unit]:
    """Every self-contained unit of the passages, best first.

    `vectors` maps record ids (`<chunk>` and `<chunk>#s<i>` for each sentence) to stored embeddings; a unit's
    vector is the normalised mean of its sentences' (or its chunk's, when sentence vectors are off)."""
    asks_names = question.intent == "who"
    quote_bonus = QUOTE_SEEKING_BONUS if _QUOTE_SEEKING.search(question.standalone) else QUOTE_BONUS
    units: list[Unit] = []
    for p in passages:
        if (is_front_matter(p) and not asks_names) or (is_name_list(p) and not asks_names):
            continue
        if top_section(p.section).startswith("Contents"):
            continue
        n_sentences = len(split_sentences(p.text))
        heading = HEADING_WEIGHT * max(0.0, heading_score(p.section) - HEADING_FLOOR)
        asked_here = [n for n in nearby if n.chunk_id == p.id]
        spans = candidate_spans(p.text)
        if asks_names and is_name_list(p) and not spans and len(p.text.split()) <= MAX_NAME_LIST_WORDS:
            # A list of names is read at a glance: asked who, the whole list (with its lead-in) is one point.
            spans = [(0, len(p.text.rstrip()), tuple(range(max(1, n_sentences))))]
        for a, b, idx in spans:
            text = p.text[a:b]
            if looks_like_instruction(text):
                continue
            parts = [vectors.get(f"{p.id}#s{i}") for i in idx] if n_sentences > 1 else [vectors.get(p.id)]
            parts = [x for x in parts if x is not None] or [vectors.get(p.id)]
            if parts[0] is None:
                continue
            vec = np.mean(np.asarray(parts, dtype=np.float32), axis=0)
            vec /= float(np.linalg.norm(vec)) or 1.0
            bonus, advice = intent_bonus(question, p, text)
            bonus += quote_bonus if p.kind == "quote" else 0.0
            sim = float(vec @ query_vector)
            if part_vectors:
                sim = max(sim, PART_DISCOUNT * max(float(vec @ v) for v in part_vectors))
            lex = lexical_share(token_groups, text, idf, light_groups)
            asked = max((n.sim for n in asked_here if n.start < p.start + b and n.end > p.start + a), default=0.0)
            units.append(Unit(p, p.start + a, p.start + b, text, vec, sim, lex, bonus, heading, advice, idx, asked))
    if question.intent in ("how", "judgement"):
        carry_remedies(units)
    return sorted(units, key=lambda u: -u.score)


def carry_remedies(units: Sequence[Unit]) -> None:
    """A problem followed by what to do about it ("…harmful to the short-term financial position." then "It is
    crucial that…"): advice that directly follows a problem statement, in the same passage or at the start of the
    next paragraph of the same section, is worth as much as the problem, so a "how" or "is it worth it" question
    is answered with the report's remedy, not only its diagnosis."""
    problem_ending_at: dict[tuple[str, int, int], float] = {}  # (source, chunk order, sentence) → best sim
    last_sentence: dict[tuple[str, int], int] = {}
    for u in units:
        key = (u.passage.source, u.passage.order)
        last_sentence[key] = max(last_sentence.get(key, 0), u.sentences[-1])
        if not u.advice:
            at = (*key, u.sentences[-1])
            problem_ending_at[at] = max(problem_ending_at.get(at, 0.0), u.sim)
    for u in units:
        if not u.advice:
            continue
        source, order, first = u.passage.source, u.passage.order, u.sentences[0]
        if len(u.sentences) == 2:  # the pair's first sentence is the problem, its second the remedy
            before = problem_ending_at.get((source, order, first))
        elif first == 0 and u.passage.kind != "quote":
            # The paragraph before in the same section (past a quote set inside the argument).
            before = max(
                (
                    problem_ending_at.get((source, v.passage.order, last_sentence[(source, v.passage.order)]), 0.0)
                    for v in units
                    if v.passage.section == u.passage.section
                    and (
                        v.passage.order == order - 1
                        or (v.passage.order == order - 2 and v.passage.kind != "quote" and u.passage.kind != "quote")
                    )
                ),
                default=None,
            )
        else:
            before = None
        if before is not None and before > u.sim:
            u.sim = before
