"""Stage 1, the question: cut instructions aimed at the assistant, make a follow-up standalone, expand jargon,
and say what kind of answer is wanted (intent, and any specific fact such as a figure or a date).

Nothing here touches the index: every function takes text (and the report's vocabulary) and returns text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bm25s.stopwords import STOPWORDS_EN_PLUS

from assistant import prompts
from assistant.glossary import Glossary
from assistant.textnorm import GENERIC_WORDS, content_tokens, content_words
from assistant.types import Turn

Intent = Literal["how", "why", "what", "who", "judgement"]
Wanted = Literal["figure", "rate", "amount", "date", "contact", "recommendation", "list", "procedure"]

_STOP = frozenset(STOPWORDS_EN_PLUS)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'’&-]*[A-Za-z]|[A-Za-z]|\d+")
_ANAPHORA = re.compile(r"\b(that|this|it|its|they|them|their|those|these|there|such|he|she|him|her)\b", re.I)
# Phrases that plainly point back at the conversation ("on that", "and what about…", "so how…").
_POINTS_BACK = re.compile(
    r"\b(?:on|about|with|for|to|of|from|in|behind|past|around) (?:that|this|it|them|those|these)\b(?! \w+ (?:is|are))"
    r"|^\W*(?:and|so|but|what about|how about|then)\b"
    # A question that opens on a possessive or a person it has not named ("Ours is new in post…", "She keeps…").
    r"|^\W*(?:ours|theirs|hers|his|she|he|they're|she's|he's)\b",
    re.I,
)
_NOT_ACRONYMS = frozenset({"OK", "I", "AM", "PM", "UK", "TV"})
_INJECTIONS = [re.compile(p, re.I) for p in prompts.INJECTION_PATTERNS]

_INTENTS: list[tuple[Intent, re.Pattern[str]]] = [
    ("who", re.compile(r"^\W*(?:who|whom|whose)\b|\bwho (?:wrote|are|were|is|was|funded|chairs?|led)\b", re.I)),
    ("who", re.compile(r"^\W*(?:which|what) (?:organisations|bodies|people|places|members|enablers)\b", re.I)),
    ("why", re.compile(r"^\W*why\b|\bwhy (?:do|does|did|is|are|would|should|can|can't|don't)\b|\bhow come\b", re.I)),
    ("why", re.compile(r"\bwhat (?:causes|caused|is behind|'s behind|drives|makes)\b|\breasons? (?:why|for)\b", re.I)),
    (
        "how",
        re.compile(
            r"^\W*how (?:do|can|should|could|would|might|to|did|does|are|is)\b|\bhow (?:do|can|should) (?:we|i|you)\b"
            r"|\bwhat (?:should|can|could|would|do) (?:we|i|leaders|you)\b|\b(?:tips|advice|steps|ways) (?:to|for|on)\b"
            r"|\b(?:deal with|handle|overcome|get past|move past|get over|fix|tackle|manage)\b",
            re.I,
        ),
    ),
    (
        "judgement",
        re.compile(
            r"^\W*(?:is|are|should|would|could|can|do|does|did|was|were|will|isn't|aren't|shouldn't|must)\b"
            r"|\b(?:is it worth|worth it|should we|should i|do we need|does it make sense|any point)\b",
            re.I,
        ),
    ),
]
# A question that asks for a specific kind of fact: answered only when the evidence states one.
_WANTED: list[tuple[Wanted, re.Pattern[str]]] = [
    (
        "contact",
        re.compile(
            r"\b(?:tele)?phone\b|\be-?mail\b|\bpostal address\b|\bwebsite\b|\burl\b|\bcontact details\b"
            r"|\btwitter\b|\blinkedin\b|\bisbn\b",
            re.I,
        ),
    ),
    (
        "recommendation",
        re.compile(
            r"\b(?:which|what)\b[^?.]{0,40}\b(?:system|software|platform|app|tool|product|vendor|supplier|record)s?\b"
            r"[^?.]{0,30}\b(?:procure|buy|purchase|use|choose|pick)\b"
            r"|\brecommend\b[^?.]{0,30}\b(?:book|books|course|courses|reading|tool|consultancy|framework|provider)\b"
            r"|\b(?:good|best) (?:book|course|toolkit)\b",
            re.I,
        ),
    ),
    (
        # Legal, statutory or administrative detail, or a document to fill in: the report is about leadership and
        # culture, and gives none of these.
        "procedure",
        re.compile(
            r"\b(?:template|terms of reference|toolkit|checklist|application form|regulations?|legislation"
            r"|statutory (?:duties|duty|guidance|requirements?)|legal (?:duties|duty|requirements?|basis|powers?)"
            r"|legally (?:required|binding)|(?-i:[A-Z][a-z]+ Act)(?: \d{4})?|section \d+|s\d{2,3}\b"
            r"|procurement rules?|tender(?:ing)? (?:process|rules)"
            r"|how (?:do|can) (?:we|i) (?:apply|register|request|bid))\b",
            re.I,
        ),
    ),
    (
        "amount",
        re.compile(
            r"\bhow much\b[^?]{0,40}\b(?:money|cost|save|saved|spend|spent|fund|budget|paid|pay|charge)"
            r"|\bwhat (?:was|is|were|did)\b[^?]{0,30}"
            r"\b(?:budget|cost|costs|funding|allocation|paid|salary|fee|fees|day rate)\b"
            r"|\b(?:allocation|day rate|salary|salaries|fees?)\b|\b[£$€]\s?\d",
            re.I,
        ),
    ),
    (
        "rate",
        re.compile(r"\b(?:percent(?:age)?|per cent|proportion|success rate|fraction|share of)\b|%", re.I),
    ),
    (
        "list",
        re.compile(
            r"^\W*(?:please\s+)?(?:list|enumerate)\b|\b(?:list|names) of\b|\blist (?:the|all)\b"
            r"|\bgive me (?:a list|the names)\b|\b(?:are|were|is) (?:listed|named)\b",
            re.I,
        ),
    ),
    (
        "figure",
        re.compile(
            r"\bhow (?:many|much|long|often)\b|\bwhat (?:percentage|proportion|share|number)\b|\bper ?cent\b|%"
            r"|\bwhat (?:was|is) the (?:rate|ratio)\b|\b(?:prevalence|caseload|statistics|ratio)\b"
            r"|\bnumber of\b|\bhard (?:numbers|data|figures)\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"^\W*when (?:is|are|did|was|were|will|does|do)\b|\bwhat year\b|\bwhich year\b|\bwhat date\b"
            r"|\bdeadline\b|\bby when\b",
            re.I,
        ),
    ),
]
_EVIDENCE_OF: dict[Wanted, re.Pattern[str]] = {
    "contact": re.compile(r"\d{4,}|@|https?://|www\.", re.I),
    "amount": re.compile(r"[£$€]|\b(?:pounds|million|billion)\b", re.I),
    "figure": re.compile(r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|half)\b", re.I),
    "date": re.compile(r"\b(?:1[89]\d\d|20\d\d)\b"),
    "recommendation": re.compile(r"(?!)"),  # the report recommends no products, books or courses
    "rate": re.compile(r"%|\bper ?cent\b|\b(?:half|third|quarter)\b", re.I),
    "list": re.compile(r"(?!)"),  # decided on the passage's kind instead (see decide.py)
    "procedure": re.compile(
        r"\b(?:template|terms of reference|toolkit|checklist|regulations?|legislation|statutory|Act \d{4})\b"
    ),
}


@dataclass
class Question:
    """What stage 1 hands on."""

    asked: str
    cleaned: str
    standalone: str
    intent: Intent
    wanted: Wanted | None
    unknown_terms: list[str] = field(default_factory=list)
    rewritten: bool = False
    leaned_on: str | None = None  # the earlier question a rewritten follow-up leans on
    known_share: float = 1.0  # share of the question's topic words the report (or the glossary) uses
    already_quoted: tuple[str, ...] = ()  # quotes of the latest answer, not to be repeated by a follow-up
    listed_terms: list[str] = field(default_factory=list)  # the unknown terms the report does list (appendices)

    @property
    def answering(self) -> str | None:
        """What a person is shown when a follow-up was rewritten: their question and the one it follows on from
        (the search words added to it are for retrieval, not for reading)."""
        if not self.rewritten:
            return None
        if self.leaned_on:
            return f"{self.cleaned} (following on from “{self.leaned_on.strip()}”)"
        return self.standalone


def looks_like_instruction(text: str) -> bool:
    """Whether text reads as an instruction to the assistant. Such passage sentences stay searchable as data but
    are never shown to an LLM nor quoted as a point."""
    return any(pattern.search(text) for pattern in _INJECTIONS)


def strip_injection(question: str) -> str:
    """Cut instructions aimed at the assistant out of a question; what remains is what gets searched."""
    for pattern in _INJECTIONS:
        question = pattern.sub(" ", question)
    return " ".join(question.split()).strip(" ,;:-")


def topic_terms(text: str, limit: int = 8) -> list[str]:
    """Content words of a turn in their original form, for carrying a topic into a follow-up."""
    seen: list[str] = []
    for word in _WORDS.findall(text):
        lower = word.lower()
        if lower in _STOP or lower in GENERIC_WORDS or len(lower) < 3 or word in seen:
            continue
        seen.append(word)
    return seen[:limit]


def leaned_on_turn(history: list[Turn]) -> str | None:
    """The user turn a follow-up can lean on: the latest one whose answer was not the refusal. A question the
    report does not cover lends no topic to what follows it."""
    pairs: list[tuple[str, str]] = []
    for i, turn in enumerate(history):
        if turn.role == "user":
            reply = next((t.content for t in history[i + 1 :] if t.role == "assistant"), "")
            pairs.append((turn.content, reply))
    for question, reply in reversed(pairs):
        if not reply.strip().startswith(prompts.REFUSAL_MESSAGE):
            return question
        return None  # the latest turn was refused: nothing older is leaned on either
    return None


def condense(question: str, history: list[Turn], vocabulary: frozenset[str]) -> tuple[str, bool]:
    """A standalone version of a follow-up (deterministic), and whether it was rewritten.

    Only a question that leans on the conversation is rewritten: one with fewer than three topic words of its
    own, or one with a pronoun ("that", "they") and fewer than four. It gains the topic words of the single
    turn it leans on (`leaned_on_turn`)."""
    earlier = leaned_on_turn(history)
    if not earlier:
        return question, False
    own = content_tokens(content_words(question))
    points_back = bool(_POINTS_BACK.search(question))
    leans = len(own) < 3 or (bool(_ANAPHORA.search(question)) and len(own) < 4) or (points_back and len(own) < 8)
    if not leans:
        return question, False
    own_words = {w.lower() for w in topic_terms(question)}
    terms = [t for t in topic_terms(earlier) if t.lower() not in own_words]
    if not terms:
        return question, False
    return f"{question.rstrip()} (about: {' '.join(terms[:6])})", True


def classify_intent(text: str) -> Intent:
    """how (what to do), why (causes), who/which (facts), judgement (should we / is it worth), else what."""
    # Leaders often set the scene first ("We're running a big deficit. Is it worth…?"): the sentence that asks
    # decides, then the text up to its first question mark.
    sentences = re.split(r"(?<=[.?!])\s+", text.strip())
    asked = next((s for s in sentences if s.rstrip().endswith("?")), sentences[-1])
    for clause in (asked, re.split(r"[?]", text.strip(), maxsplit=1)[0] or text):
        for intent, pattern in _INTENTS:
            if pattern.search(clause):
                return intent
    return "what"


def wanted_fact(text: str) -> Wanted | None:
    """The specific kind of fact a question asks for, if any."""
    return next((kind for kind, pattern in _WANTED if pattern.search(text)), None)


def states(wanted: Wanted, evidence: str) -> bool:
    """Whether evidence text states the kind of fact wanted."""
    return bool(_EVIDENCE_OF[wanted].search(evidence))


def unknown_terms(text: str, vocabulary: frozenset[str], glossary: Glossary) -> list[str]:
    """Names and acronyms in the question that neither the report nor the glossary knows (adjacent words of one
    name come as one: "Coventry City").

    A word counts as a name when it is capitalised but does not open a sentence; an acronym has two or more
    capitals. Numbers never count: "200 people in the room" or "since 2013" ask nothing about the number (a
    question that does ask for one is caught by `wanted_fact`)."""
    known = {k.lower() for k in glossary.matches(text)}
    out: list[str] = []
    for sentence in re.split(r"(?<=[.?!])\s+", text.strip()):
        previous = -2
        for i, word in enumerate(_WORDS.findall(sentence)):
            is_name = i > 0 and word[0].isupper() and not word.isupper()
            is_acronym = word.isupper() and len(word) > 1 and word not in _NOT_ACRONYMS
            if not (is_name or is_acronym) or word.lower() in known or word.lower() in _STOP:
                continue
            if not content_tokens(word) <= vocabulary:
                if previous == i - 1:  # one name of several words ("Coventry City")
                    out[-1] = f"{out[-1]} {word}"
                else:
                    out.append(word)
                previous = i
    return out


def known_share(text: str, vocabulary: frozenset[str], glossary: Glossary) -> float:
    """Share of the question's topic-word groups that the report uses (a glossary term counts as used)."""
    groups = glossary.token_groups(text)
    known = set(glossary.matches(text))
    if not groups:
        return 1.0
    known_tokens = content_tokens(" ".join(known))
    return sum(bool(g & vocabulary) or bool(g & known_tokens) for g in groups) / len(groups)


def understand(
    asked: str,
    history: list[Turn],
    vocabulary: frozenset[str],
    glossary: Glossary,
    standalone: str | None = None,
    listed_only: frozenset[str] = frozenset(),
) -> Question:
    """Stage 1 in one call. `listed_only`: words the report only lists (names in its appendices); a question that
    is not asking who someone is treats them as names the report never discusses."""
    cleaned = strip_injection(asked)
    rewritten = False
    leaned_on = leaned_on_turn(history)
    if standalone is None:
        standalone, rewritten = condense(cleaned, history, vocabulary) if cleaned else ("", False)
    else:
        rewritten = standalone.strip() != cleaned.strip()
    intent = classify_intent(cleaned or asked)
    unknown = unknown_terms(cleaned, vocabulary if intent == "who" else vocabulary - listed_only, glossary)
    return Question(
        asked=asked,
        cleaned=cleaned,
        standalone=standalone,
        intent=intent,
        wanted=wanted_fact(cleaned),
        unknown_terms=unknown,
        listed_terms=[t for t in unknown if content_tokens(t) <= vocabulary],
        rewritten=rewritten,
        leaned_on=strip_injection(leaned_on)[:200] if rewritten and leaned_on else None,
        known_share=known_share(cleaned, vocabulary, glossary),
        already_quoted=quotes_in_latest_answer(history) if rewritten else (),
    )


_QUOTED = re.compile(r"“([^”]{20,})”")


def quotes_in_latest_answer(history: list[Turn]) -> tuple[str, ...]:
    """The verbatim quotes of the latest assistant turn: a follow-up wants what comes next, not the same points."""
    latest = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    return tuple(" ".join(q.split()) for q in _QUOTED.findall(latest))
