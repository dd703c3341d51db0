"""The extractive answer engine: question → evidence → refusal decision → quoted, cited points.

It needs no LLM, is deterministic, and is the fallback of every LLM engine.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from assistant import prompts
from assistant.config import Settings
from assistant.grounding import SourceSpan, content_tokens, verify_answer
from assistant.retrieve import HybridRetriever
from assistant.textnorm import split_sentences
from assistant.types import Answer, AskRequest, Citation, ClosestPassage, Passage, Turn

LEX_WEIGHT = 0.3
QUOTE_BONUS = 0.03
POINT_WINDOW = 0.15  # points must score within this of the best one
MAX_REDUNDANCY = 0.85
MMR_LAMBDA = 0.7
MIN_UNIT_WORDS = 4
MAX_UNITS_PER_CHUNK = 2
_STOP = frozenset(STOPWORDS_EN)
_GENERIC = frozenset(
    "handle deal report say says said tell think mean means make work way ways much many really get go know "
    "happen happened happens does did do done need needs about why how what which who when where whom".split()
)
_ANAPHORA = re.compile(r"\b(that|this|it|its|they|them|their|those|these|there|such|he|she|him|her)\b", re.I)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]+|\d+")
# Questions that ask for a specific kind of fact are answerable only when the evidence states one:
# (question pattern, evidence pattern, what is missing). The report gives no budgets, rates or lists of
# programmes, and lexical similarity alone would happily "answer" with a sentence that merely mentions them.
ANSWER_TYPES = [
    (
        re.compile(
            r"\b(what|which)\b[^?.]{0,25}\b(budgets?|funding|costs?|salary|salaries|amount|spend)\b"
            r"|\bhow much\b[^?.]{0,40}\b(money|funding|budget|cost|save|saved|spend|spent|earn)",
            re.I,
        ),
        re.compile(r"[£$€]|\b(pounds|million|billion|thousand)\b", re.I),
        "an amount of money",
    ),
    (
        re.compile(r"\b(percent(age)?|per cent|proportion|rates?|fraction|share of)\b", re.I),
        re.compile(r"%|\bper ?cent\b|\b(half|third|quarter)\b", re.I),
        "a rate or percentage",
    ),
    (
        re.compile(r"\bhow (many|much|long|often)\b", re.I),
        re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred)\b", re.I),
        "a figure",
    ),
    (
        re.compile(r"^\s*(when (did|was|were|will)|in what year|what year|which year|what date)\b", re.I),
        re.compile(r"\b(1[89]\d\d|20\d\d)\b"),
        "a date",
    ),
    (
        re.compile(r"\b(tele)?phone|e-?mail address|postal address|website|url\b", re.I),
        re.compile(r"\d{4,}|@|https?://|www\.", re.I),
        "contact details",
    ),
]
_LIST_Q = re.compile(
    r"^\s*(?:please\s+)?(?:list|name|enumerate)\b|\b(?:list|names) of\b|\blist (?:the|all)\b"
    r"|\bgive me (?:a list|the names)\b|\bwhich \d+ \w+ (?:are|were) (?:listed|named)\b",
    re.I,
)
_INJECTIONS = [re.compile(p, re.I) for p in prompts.INJECTION_PATTERNS]


@dataclass
class Unit:
    """A sentence (or whole short quote) of a retrieved passage, scored against the question."""

    passage: Passage
    start: int  # absolute offsets into the source document
    end: int
    text: str
    vector: np.ndarray
    sim: float
    lex: float

    @property
    def score(self) -> float:
        return self.sim + LEX_WEIGHT * self.lex + (QUOTE_BONUS if self.passage.kind == "quote" else 0.0)

    @property
    def evidence(self) -> float:
        return self.sim + LEX_WEIGHT * self.lex


@dataclass
class Plan:
    """Everything decided before any text is written: what was searched, what was found, whether to answer."""

    question: str
    standalone: str
    passages: list[Passage]
    units: list[Unit]
    answerable: bool
    reason: str
    timings_ms: dict[str, float] = field(default_factory=dict)


def looks_like_instruction(text: str) -> bool:
    """Whether a passage sentence (or model output) reads as an instruction to the assistant. Such text stays
    searchable as data but is never shown to an LLM as evidence nor used as an answer point."""
    return any(pattern.search(text) for pattern in _INJECTIONS)


def strip_injection(question: str) -> str:
    """Cut instruction-like phrases out of a question; what remains is what gets searched."""
    for pattern in _INJECTIONS:
        question = pattern.sub(" ", question)
    return " ".join(question.split()).strip(" ,;:-")


def topic_terms(text: str, limit: int = 8) -> list[str]:
    """Content words of a turn in their original form, for carrying a topic into a follow-up."""
    seen: list[str] = []
    for word in _WORDS.findall(text):
        lower = word.lower()
        if lower in _STOP or lower in _GENERIC or len(lower) < 3 or word in seen:
            continue
        seen.append(word)
    return seen[:limit]


def condense_question(question: str, history: list[Turn], vocabulary: frozenset[str]) -> str:
    """Make a follow-up standalone by adding the topic terms of the latest user turns (deterministic).

    Only questions that lean on the conversation are rewritten: those with a pronoun such as "that", or with
    fewer than three content words that all occur in the corpus. A new, off-topic question is left alone so it
    can be refused on its own evidence.
    """
    earlier = [t.content for t in history if t.role == "user"]
    if not earlier:
        return question
    own = [w for w in topic_terms(question) if w.lower() not in _GENERIC]
    own_tokens = content_tokens(" ".join(own))
    leans = bool(_ANAPHORA.search(question)) or (len(own_tokens) < 3 and own_tokens <= vocabulary)
    if not leans:
        return question
    terms: list[str] = []
    for turn in reversed(earlier[-2:]):
        terms += [t for t in topic_terms(turn) if t.lower() not in {o.lower() for o in own + terms}]
    if not terms:
        return question
    return f"{question.rstrip()} ({' '.join(terms[:8])})"


def out_of_vocabulary(question: str, vocabulary: frozenset[str]) -> tuple[list[str], float]:
    """Salient question words the corpus never uses (names, acronyms, numbers), and the share of
    content words it does use."""
    words = _WORDS.findall(question)
    salient = []
    for i, word in enumerate(words):
        is_name = i > 0 and word[0].isupper()
        if (is_name or word.isupper() or word.isdigit()) and not content_tokens(word) <= vocabulary:
            salient.append(word)
    tokens = content_tokens(" ".join(w for w in words if w.lower() not in _GENERIC))
    coverage = len(tokens & vocabulary) / len(tokens) if tokens else 1.0
    return salient, coverage


class ExtractiveEngine:
    """Answers with the report's own sentences, chosen by embedding similarity, overlap and MMR."""

    name = "extractive"

    def __init__(self, retriever: HybridRetriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings

    # --- deciding ------------------------------------------------------------------------------------

    def plan(self, request: AskRequest, standalone: str | None = None) -> Plan:
        """Condense, retrieve, score every candidate sentence, and decide on evidence whether to answer."""
        started = time.perf_counter()
        vocabulary = self.retriever.vocabulary
        cleaned = strip_injection(request.question)
        if standalone is None:
            standalone = condense_question(cleaned, request.history, vocabulary) if cleaned else ""
        if not content_tokens(standalone):
            return Plan(request.question, standalone or cleaned, [], [], False, "nothing left to search")
        passages = self.retriever.search(standalone, request.k or self.settings.answer_passages, request.filters)
        retrieved = time.perf_counter()
        units = self._score_units(standalone, passages)
        answerable, reason = self._decide(cleaned, standalone, units, vocabulary)
        timings = {"retrieve": (retrieved - started) * 1000, "score": (time.perf_counter() - retrieved) * 1000}
        return Plan(request.question, standalone, passages, units, answerable, reason, timings)

    def _score_units(self, question: str, passages: list[Passage]) -> list[Unit]:
        spans: list[tuple[Passage, int, int, str]] = []
        for p in passages:
            sentences = split_sentences(p.text)
            for i, (a, b) in enumerate(sentences):
                a, b = strip_quote_marks(p.text, a, b)
                record = f"{p.id}#s{i}" if len(sentences) > 1 else p.id
                spans.append((p, a, b, record))
        # Sentence vectors when the index has them; otherwise each sentence stands on its chunk's vector.
        wanted = {s[3] for s in spans} | {p.id for p in passages}
        vectors = self.retriever.index.embeddings_for(sorted(wanted))
        q_vec = np.asarray(self.retriever.embed_query(question), dtype=np.float32)
        q_tokens = content_tokens(question)
        units = []
        for p, a, b, record in spans:
            text = p.text[a:b]
            vector = vectors.get(record) or vectors.get(p.id)
            if vector is None or len(text.split()) < MIN_UNIT_WORDS or looks_like_instruction(text):
                continue
            vec = np.asarray(vector, dtype=np.float32)
            lex = len(q_tokens & content_tokens(text)) / len(q_tokens) if q_tokens else 0.0
            units.append(Unit(p, p.start + a, p.start + b, text, vec, float(vec @ q_vec), lex))
        return sorted(units, key=lambda u: -u.score)

    def _decide(self, cleaned: str, standalone: str, units: list[Unit], vocabulary: frozenset[str]) -> tuple[bool, str]:
        if not units:
            return False, "no evidence retrieved"
        salient, coverage = out_of_vocabulary(cleaned, vocabulary)
        if salient:
            return False, f"the report never mentions {', '.join(salient)}"
        if coverage < 0.5:
            return False, f"most of the question's words never occur in the report ({coverage:.0%})"
        best = max(u.evidence for u in units)
        if best < self.settings.refusal_threshold:
            return False, f"best evidence {best:.2f} is below {self.settings.refusal_threshold:.2f}"
        top = [u for u in units if u.evidence >= best - POINT_WINDOW][:6]
        for question_pattern, evidence_pattern, missing in ANSWER_TYPES:
            if question_pattern.search(cleaned) and not any(evidence_pattern.search(u.text) for u in top):
                return False, f"the question asks for {missing} the evidence does not state"
        if _LIST_Q.search(cleaned) and not any(u.passage.kind == "list" for u in top):
            return False, "the question asks for a list the report does not give"
        return True, f"best evidence {best:.2f}"

    # --- writing -------------------------------------------------------------------------------------

    def answer(self, request: AskRequest) -> Answer:
        """A complete grounded answer or refusal."""
        started = time.perf_counter()
        plan = self.plan(request)
        answer = self.compose(plan) if plan.answerable else self.refusal(plan)
        answer.timings_ms = _timings(plan, started)
        return answer

    def stream(self, request: AskRequest) -> Iterator[tuple[str, dict]]:
        """Server-sent events: `meta` (citations, standalone question), `delta`s of text, then `done`."""
        answer = self.answer(request)
        yield "meta", _meta(answer)
        for piece in _pieces(answer.answer):
            yield "delta", {"text": piece}
        yield "done", answer.model_dump()

    def select_points(self, units: list[Unit]) -> list[Unit]:
        """Up to `answer_points` strong, non-redundant units by maximal marginal relevance."""
        if not units:
            return []
        best = units[0].score
        pool = [u for u in units if u.score >= best - POINT_WINDOW and u.evidence >= self.settings.refusal_threshold]
        chosen: list[Unit] = []
        while pool and len(chosen) < self.settings.answer_points:

            def mmr(u: Unit) -> float:
                redundancy = max((float(u.vector @ c.vector) for c in chosen), default=0.0)
                return MMR_LAMBDA * u.score - (1 - MMR_LAMBDA) * redundancy

            pick = max(pool, key=mmr)
            pool.remove(pick)
            same_chunk = sum(c.passage.id == pick.passage.id for c in chosen)
            too_close = any(float(pick.vector @ c.vector) > MAX_REDUNDANCY for c in chosen)
            if same_chunk < MAX_UNITS_PER_CHUNK and not too_close:
                chosen.append(pick)
        return chosen

    def compose(self, plan: Plan) -> Answer:
        """A lead line naming the sections, then one quoted, cited point per chosen unit."""
        points = self.select_points(plan.units)
        if not points:
            return self.refusal(plan)
        citations = [
            Citation(
                n=n,
                chunk_id=u.passage.id,
                source=u.passage.source,
                section=u.passage.section,
                kind=u.passage.kind,
                quote=u.text,
                start=u.start,
                end=u.end,
            )
            for n, u in enumerate(points, start=1)
        ]
        sections = list(dict.fromkeys(c.section for c in citations))
        lead = prompts.ANSWER_LEAD.format(sections=_join([f"*{s}*" for s in sections]))
        lines = ["- " + prompts.POINT_BY_KIND[c.kind].format(quote=" ".join(c.quote.split()), n=c.n) for c in citations]
        text, used = verify_answer("\n".join([lead, "", *lines]), citations, sources_of(plan.passages))
        return Answer(
            answer=text,
            answerable=True,
            citations=used,
            standalone_question=plan.standalone,
            engine=self.name,
        )

    def refusal(self, plan: Plan) -> Answer:
        """The fixed refusal, with up to three closest passages as suggestions."""
        return Answer(
            answer=prompts.REFUSAL_MESSAGE,
            answerable=False,
            citations=[],
            closest=closest_passages(plan.passages),
            standalone_question=plan.standalone,
            engine=self.name,
        )


def sources_of(passages: list[Passage]) -> dict[str, SourceSpan]:
    """What `verify_answer` checks quotes against: each passage's text and document offset."""
    return {p.id: SourceSpan(p.text, p.start) for p in passages}


def closest_passages(passages: list[Passage], limit: int = 3) -> list[ClosestPassage]:
    """The top passages, offered as suggestions with a refusal."""
    return [
        ClosestPassage(
            chunk_id=p.id,
            source=p.source,
            section=p.section,
            kind=p.kind,
            text=p.text,
            start=p.start,
            end=p.end,
            score=p.score,
        )
        for p in passages[:limit]
    ]


def strip_quote_marks(text: str, a: int, b: int) -> tuple[int, int]:
    """Narrow text[a:b] so it excludes the quotation marks around it."""
    while a < b and text[a] in '“"‘':
        a += 1
    while b > a and text[b - 1] in '”"’':
        b -= 1
    return a, b


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _meta(answer: Answer) -> dict:
    return {
        "answerable": answer.answerable,
        "standalone_question": answer.standalone_question,
        "citations": [c.model_dump() for c in answer.citations],
        "closest": [c.model_dump() for c in answer.closest],
        "engine": answer.engine,
    }


def _pieces(text: str) -> Iterator[str]:
    """Line by line, so a client can render as the text arrives."""
    yield from text.splitlines(keepends=True)


def _timings(plan: Plan, started: float) -> dict[str, float]:
    total = (time.perf_counter() - started) * 1000
    retrieve = plan.timings_ms.get("retrieve", 0.0)
    return {"retrieve": round(retrieve, 2), "answer": round(total - retrieve, 2), "total": round(total, 2)}
