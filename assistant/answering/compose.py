"""Stage 4, the composition: which units become points, in what order, under which lead line, and which
follow-up questions to suggest. Code writes every word here that is not a quote."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant import prompts
from assistant.answering.decide import Decision
from assistant.answering.evidence import NearbyQuestion, Unit
from assistant.answering.question import Question
from assistant.sections import NAME_LISTS, top_section
from assistant.types import SECTION_SEPARATOR, Citation

POINT_WINDOW = 0.10  # points must score within this of the best one
MAX_REDUNDANCY = 0.85
MMR_LAMBDA = 0.7
MAX_POINTS_PER_PASSAGE = 2
ADVICE_WINDOW = 0.2  # for "how" questions, advice this far below the best point may still be quoted
MIN_POINTS = 2  # an answer offers at least this many points when the wider window allows
SECOND_WINDOW = 0.15  # … from this far below the best (dev: precision level, nDCG@3 up)
PAIR_MARGIN = 0.05  # a point takes its next sentence along when the pair scores at most this much lower
ADVICE_FIRST = ("how",)  # advice before the rest; a judgement keeps score order, its verdict first (dev: nDCG@3 up)
PARTIAL_POINTS = 2  # a partial answer quotes only the closest few: its points are weaker by definition
SUGGEST_FROM_REPORT = 3  # suggestions taken from the passage questions; templates only fill a gap
SUGGEST_MIN_SIM = 0.4  # a passage question this far from the question is off topic
SUGGEST_MAX_SIM = 0.8  # … and this close, the same question again


def point_limit(decision: Decision, answer_points: int) -> int:
    """How many points an answer may quote: fewer when the report only touches on the question."""
    return min(answer_points, PARTIAL_POINTS) if decision.coverage == "partial" else answer_points


def select_points(units: Sequence[Unit], question: Question, limit: int, floor: float) -> list[Unit]:
    """Up to `limit` strong, non-overlapping, non-redundant units by maximal marginal relevance; for "how"
    questions advice comes before a statement of the problem."""
    if not units:
        return []
    if question.already_quoted:
        # A follow-up gets what comes next: points the latest answer already quoted go, unless nothing else is left.
        fresh = [u for u in units if not repeats(" ".join(u.text.split()), question.already_quoted)]
        units = fresh or units
    best = units[0].score
    pool = [u for u in units if u.score >= best - POINT_WINDOW and u.evidence >= floor]
    if len(pool) < MIN_POINTS:
        # One quote is a thin answer: the next best within a wider window joins it (MMR still drops a repeat).
        pool = [u for u in units if u.score >= best - SECOND_WINDOW and u.evidence >= floor][: MIN_POINTS + 2]
    chosen: list[Unit] = []
    while pool and len(chosen) < limit:

        def mmr(u: Unit) -> float:
            redundancy = max((float(u.vector @ c.vector) for c in chosen), default=0.0)
            return MMR_LAMBDA * u.score - (1 - MMR_LAMBDA) * redundancy

        pick = max(pool, key=mmr)
        pool.remove(pick)
        same_passage = [c for c in chosen if c.passage.id == pick.passage.id]
        overlapping = any(set(pick.sentences) & set(c.sentences) for c in same_passage)
        too_close = any(float(pick.vector @ c.vector) > MAX_REDUNDANCY for c in chosen)
        if len(same_passage) < MAX_POINTS_PER_PASSAGE and not overlapping and not too_close:
            chosen.append(pick)
    chosen = [with_next_sentence(u, units, chosen) for u in chosen]
    if question.intent == "how" and chosen and not any(u.advice for u in chosen):
        # A leader who asks "how" should get the report's advice, not only its statement of the problem: the
        # best advice within a wider window takes the weakest point's place.
        advice = [
            u
            for u in units
            if u.advice
            and u.score >= best - ADVICE_WINDOW
            and u.evidence >= floor
            and not any(u.passage.id == c.passage.id and set(u.sentences) & set(c.sentences) for c in chosen)
        ]
        if advice:
            chosen = [*chosen[: limit - 1], advice[0]] if len(chosen) >= limit else [*chosen, advice[0]]
    if question.intent in ADVICE_FIRST:
        chosen.sort(key=lambda u: not u.advice)  # stable: score order within each group
    return chosen


def repeats(text: str, quoted: Sequence[str]) -> bool:
    """Whether a unit says again what an earlier answer quoted (the same span, or one holding it)."""
    return any(text in q or q in text for q in quoted)


def with_next_sentence(point: Unit, units: Sequence[Unit], chosen: Sequence[Unit]) -> Unit:
    """A one-sentence point together with the sentence after it, when the pair scores nearly as well: the next
    sentence is often the useful half ("…trusted across the board", "They are now sharing information…")."""
    if len(point.sentences) != 1:
        return point
    (i,) = point.sentences
    pair = next(
        (u for u in units if u.passage.id == point.passage.id and u.sentences == (i, i + 1)),
        None,
    )
    if pair is None or pair.score < point.score - PAIR_MARGIN:
        return point
    taken = {(c.passage.id, s) for c in chosen if c is not point for s in c.sentences}
    return point if (pair.passage.id, i + 1) in taken else pair


def citations_for(points: Sequence[Unit]) -> list[Citation]:
    """One citation per point, numbered from 1, each an exact span of its source document."""
    return [
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


def join_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def lead_line(decision: Decision, sections: Sequence[str]) -> str:
    """The code-written first line: what the report lacks (partial answers), then where it speaks to this."""
    where = join_words([f"*{s}*" for s in dict.fromkeys(sections)])
    if decision.coverage == "partial" and decision.shortfall:
        names = join_words(list(decision.missing)) if decision.missing else "that"
        return prompts.PARTIAL_LEADS[decision.shortfall].format(sections=where, names=names)
    return prompts.ANSWER_LEAD.format(sections=where)


def point_line(citation: Citation) -> str:
    """One point: who is speaking (the report or a quoted participant), the verbatim quote and its marker."""
    names = citation.kind == "list" and top_section(citation.section).startswith(NAME_LISTS)
    kind = "names" if names else citation.kind
    return "- " + prompts.POINT_BY_KIND[kind].format(quote=" ".join(citation.quote.split()), n=citation.n)


def suggestions(
    question: Question, citations: Sequence[Citation], nearby: Sequence[NearbyQuestion] = (), limit: int = 3
) -> list[str]:
    """Two or three questions a leader might ask next. First, questions the report answers near this one
    (passage questions of the passages read, close to the question but not the same, about spans not already
    quoted, one per passage): each is answerable, standalone and specific. Templates built from the intent and
    the cited sections fill any gap."""
    if not citations:
        return []
    quoted = [(c.chunk_id, c.start, c.end) for c in citations]
    asked = question.cleaned.strip().lower()
    out: list[str] = []
    used_chunks: set[str] = set()
    for n in nearby:
        if not SUGGEST_MIN_SIM <= n.sim <= SUGGEST_MAX_SIM or n.chunk_id in used_chunks:
            continue
        if any(n.chunk_id == cid and n.start < end and n.end > start for cid, start, end in quoted):
            continue  # the answer already quotes what this question would get
        out.append(as_asked(n.text))
        used_chunks.add(n.chunk_id)
        if len(out) == min(limit, SUGGEST_FROM_REPORT):
            break
    out += template_suggestions(question, citations)
    return [s for s in dict.fromkeys(out) if s.lower() != asked][:limit]


_SPEAKER = re.compile(
    r"^(?!(?:why|how|what|who|when|where|which|is|are|should|can|do|does)\b)"
    r"[A-Z][A-Za-z&]*(?: [a-z]+){0,2}(?: here)?(?::\s+|\s+[—–-]\s+)",
    re.I,
)


def as_asked(question: str) -> str:
    """A passage question as a leader would ask it of the assistant: without the speaker it was written for
    ("Finance director here: why…" → "Why…")."""
    speaker = _SPEAKER.match(question)
    if speaker is None or len(re.findall(r"\w+", speaker.group(0))) > 4:
        return question
    rest = question[speaker.end() :]
    return rest[:1].upper() + rest[1:]


def template_suggestions(question: Question, citations: Sequence[Citation]) -> list[str]:
    """Follow-ups built from the intent and the sections and kinds of what was cited; those that say "this" lean
    on the conversation and are condensed with the question before."""
    tops = {top_section(c.section) for c in citations}
    kinds = {c.kind for c in citations}
    # A subsection's title names a topic ("The blame game"); a chapter's ("The hurdles") does not.
    subsection = next((c.section for c in citations if SECTION_SEPARATOR in c.section), None)
    named = subsection is not None
    title = subsection.split(SECTION_SEPARATOR)[-1] if subsection else ""
    out: list[str] = []
    if question.intent in ("why", "what", "judgement") and tops & {"The hurdles"}:
        out.append(prompts.SUGGEST_WHAT_HELPED)
    if question.intent == "how":
        out.append(prompts.SUGGEST_WHY_HARD)
    if "quote" not in kinds and named:
        out.append(prompts.SUGGEST_ENABLERS_ON.format(title=title))
    if question.intent in ("why", "what") and prompts.SUGGEST_WHAT_HELPED not in out:
        out.append(prompts.SUGGEST_WHAT_TO_DO)
    if "The building blocks for success" not in tops and question.intent in ("how", "judgement"):
        out.append(prompts.SUGGEST_BUILDING_BLOCKS)
    if len(set(out)) < 2:
        out.append(prompts.SUGGEST_ENABLERS if "quote" not in kinds else prompts.SUGGEST_WHAT_TO_DO)
    return out
