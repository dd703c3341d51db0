"""Groundedness metrics for one answer and for a run. Each definition sits with the code that computes it.

Statements. An answer is split into statements: each line is one (a leading "- " is dropped), and a prose
line is split further into sentences, never inside a quotation. The navigation line every engine
writes first (`prompts.ANSWER_LEAD`: "The report speaks to this in *section*…", or a `prompts.PARTIAL_LEADS`
line saying what the report lacks) makes no claim about the report's content; it is not a statement here,
and the sections it names are checked as citation metadata.

Cited text. `[n]` in a statement cites the response's citation n; its *passage* is the chunk the citation's
`chunk_id` names, fetched from the index (never the citation's own `quote`, which may be wrong), formatted
as ALCE formats documents, title first: "<section>. <chunk text>".

Support. `assistant.answering.grounding.is_supported` with the calibrated τ (see evals/support_pairs.yaml).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant import prompts
from assistant.answering.grounding import MARKER, answer_sentences, is_supported, quoted_spans
from assistant.textnorm import normalize, normalize_loose
from assistant.types import Answer, Chunk, Citation

ChunkLookup = Callable[[str], Chunk | None]
_LEAD = re.compile("^(?:" + "|".join(re.escape(p) for p in prompts.LEAD_PREFIXES) + ")")
COPY_MIN_WORDS = 40
COPY_OVERLAP = 0.9
PROMPT_LEAK_WORDS = 8


def statements(answer_text: str) -> list[str]:
    """The answer's statements (see the module docstring)."""
    out: list[str] = []
    for line in answer_text.splitlines():
        line = line.strip()
        if line.startswith("- "):
            line = line[2:].strip()
        if not line or _LEAD.match(line):
            continue
        out.extend(answer_sentences(line))
    return out


def passage_text(chunk: Chunk) -> str:
    """ALCE-style document text: title (the section path) first."""
    return f"{chunk.section}. {chunk.text}"


def claim(statement: str) -> str:
    """A statement without its markers."""
    return MARKER.sub("", statement).strip()


@dataclass
class AnswerScores:
    """Counts for one answer; rates are computed over a run by summing counts."""

    quotes: int = 0
    verbatim_quotes: int = 0
    markers: int = 0
    valid_markers: int = 0
    statements: int = 0
    supported_statements: int = 0
    citations: int = 0
    precise_citations: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return (
            self.verbatim_quotes == self.quotes
            and self.valid_markers == self.markers
            and self.supported_statements == self.statements
        )


def citation_is_valid(citation: Citation, chunk: Chunk | None) -> bool:
    """Citation validity: the chunk exists, the quote sits at its offsets, and source, section and kind match."""
    if chunk is None:
        return False
    local = citation.start - chunk.start
    return (
        local >= 0
        and citation.end - citation.start == len(citation.quote)
        and chunk.text[local : local + len(citation.quote)] == citation.quote
        and (citation.source, citation.section, citation.kind) == (chunk.source, chunk.section, chunk.kind)
    )


def score_answer(answer: Answer, lookup: ChunkLookup) -> AnswerScores:
    """Quote fidelity, citation validity, and ALCE citation recall and precision counts for one answer.

    - Quote fidelity: a quoted span counts when it is verbatim (normalised) in the passage of a citation
      cited in the same statement.
    - Citation validity: a marker counts when its number resolves to a citation that is valid (above).
    - Citation recall (ALCE): a statement counts when it has at least one valid citation and the
      concatenation of its cited passages supports it.
    - Citation precision (ALCE): for each citation of a statement: if the statement is supported by all its
      citations and has more than one, a citation counts unless it supports nothing on its own while the
      others still support the statement; with one citation, it counts when the statement is supported.
    """
    scores = AnswerScores()
    if not answer.answerable:
        return scores  # a refusal makes no claim to check
    by_n = {c.n: c for c in answer.citations}
    chunks = {c.n: lookup(c.chunk_id) for c in answer.citations}
    valid = {n for n, c in by_n.items() if citation_is_valid(c, chunks[n])}
    for statement in statements(answer.answer):
        cited = [int(n) for n in MARKER.findall(statement)]
        scores.markers += len(cited)
        scores.valid_markers += sum(n in valid for n in cited)
        good = list(dict.fromkeys(n for n in cited if n in valid))
        texts = {n: passage_text(chunks[n]) for n in good}  # type: ignore[arg-type]
        for quote in quoted_spans(statement):
            scores.quotes += 1
            if any(normalize(quote).strip("\"' ") in normalize(t) for t in texts.values()):
                scores.verbatim_quotes += 1
            else:
                scores.problems.append(f"quote not in its cited passage: “{quote[:80]}”")
        scores.statements += 1
        text = claim(statement)
        joint = bool(good) and is_supported(text, " ".join(texts.values()))
        scores.supported_statements += joint
        if not joint:
            scores.problems.append(f"unsupported statement: {text[:100]}")
        scores.citations += len(cited)
        if joint and len(good) > 1:
            for n in good:
                alone = is_supported(text, texts[n])
                rest = " ".join(t for m, t in texts.items() if m != n)
                scores.precise_citations += alone or not is_supported(text, rest)
        else:
            scores.precise_citations += int(joint) * len(good)
    for n in set(map(int, MARKER.findall(answer.answer))) - valid:
        scores.problems.append(f"[{n}] does not resolve to a valid citation")
    return scores


def key_fact_recall(answer_text: str, must_include: Sequence[str], must_not_include: Sequence[str]) -> float:
    """Share of key-fact checks passed: each `must_include` string present, each `must_not_include` absent
    (normalised, case-insensitive). 1.0 when there are no checks."""
    text = normalize_loose(answer_text)
    checks = [normalize_loose(s) in text for s in must_include]
    checks += [normalize_loose(s) not in text for s in must_not_include]
    return sum(checks) / len(checks) if checks else 1.0


def leaks_prompt(answer_text: str) -> bool:
    """Whether any run of 8 words of any prompt appears in the answer."""
    words = normalize_loose(answer_text).split()
    prompt_texts = [prompts.SYSTEM_PROMPT, prompts.ANSWER_PROMPT, prompts.CONDENSE_PROMPT]
    for prompt in prompt_texts:
        text = " ".join(normalize_loose(prompt).split())
        if any(" ".join(words[i : i + PROMPT_LEAK_WORDS]) in text for i in range(len(words) - PROMPT_LEAK_WORDS + 1)):
            return True
    return False


def is_copy(answer_text: str, passages: Sequence[str]) -> bool:
    """Copy guard: the answer's content is one whole passage of at least 40 words pasted in — at least 90% of
    the answer's words come from it and it covers at least 90% of the passage's words, in one statement."""
    content = " ".join(claim(s) for s in statements(answer_text))
    words = normalize_loose(content).replace('"', "").split()
    if not words:
        return False
    for passage in passages:
        p_words = normalize_loose(passage).replace('"', "").split()
        if len(p_words) < COPY_MIN_WORDS:
            continue
        joined = " ".join(p_words)
        answer_joined = " ".join(words)
        if joined in answer_joined or answer_joined in joined:
            longer, shorter = (words, p_words) if len(words) >= len(p_words) else (p_words, words)
            if len(shorter) / len(longer) >= COPY_OVERLAP:
                return True
    return False


def answer_quality(key_facts: float, scores: AnswerScores, copied: bool) -> float:
    """One number for "a good answer": key facts × share of supported statements, and 0 for a pasted passage."""
    if copied:
        return 0.0
    supported = scores.supported_statements / scores.statements if scores.statements else 0.0
    return key_facts * supported


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95% interval for a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


# --- usefulness: what a leader gets ---------------------------------------------------------------------
#
# These score the leaders' question set (evals/leaders.yaml) against graded relevance labels: verbatim report
# passages of 8–20 words, grade 2 (directly answers) or 1 (useful background), chosen by someone who read the
# report, not the engine. A *point* is one citation of an answer (the quote the leader reads).
#
# Overlap. A quote and a labelled passage overlap when, after `normalize_loose` and dropping punctuation, one
# contains the other, or at least OVERLAP_SHARE of the label's word trigrams occur in the quote (a quote that
# cuts a labelled passage short still counts when it keeps most of it).

OVERLAP_SHARE = 0.7
FRAGMENT_MIN_WORDS = 5
# A point that opens with one of these and is one sentence leans on a sentence it does not quote — except an "It"
# that only holds the place of what follows ("It is crucial that…", "It is important to…"), which points nowhere.
DANGLING_OPENERS = frozenset("this that these those it its they them their he she such so but and".split())
PLACEHOLDER_IT = re.compile(r"^it (?:is|was|'s) (?:\w+ ){1,2}(?:that|to)\b")
# Sections that are front matter or the contents, never advice; name lists are boilerplate unless asked for.
FRONT_MATTER_SECTIONS = ("The Revolution will be Improvised", "Contents")
NAME_LIST_SECTIONS = ("Appendix B", "Appendix C")
_PUNCT = re.compile(r"[^\w\s']")


def _words(text: str) -> list[str]:
    return _PUNCT.sub(" ", normalize_loose(text)).split()


def overlaps(quote: str, passage: str) -> bool:
    """Whether a quoted point covers a labelled passage (see the overlap rule above)."""
    q, p = " ".join(_words(quote)), " ".join(_words(passage))
    if not q or not p:
        return False
    if p in q or q in p:
        return True
    p_words, q_words = p.split(), q.split()
    grams = {tuple(p_words[i : i + 3]) for i in range(len(p_words) - 2)}
    q_grams = {tuple(q_words[i : i + 3]) for i in range(len(q_words) - 2)}
    return bool(grams) and len(grams & q_grams) / len(grams) >= OVERLAP_SHARE


def point_grade(quote: str, relevant: Sequence[dict]) -> int:
    """The highest grade of any labelled passage the point overlaps (0: none)."""
    return max((int(r["grade"]) for r in relevant if overlaps(quote, r["text"])), default=0)


def is_fragment(quote: str) -> bool:
    """Under 5 words, ending with a colon (a lead-in), or one sentence opening with a word that points back at
    something the quote does not contain."""
    words = _words(quote)
    if len(words) < FRAGMENT_MIN_WORDS or quote.rstrip(" ”\"'").endswith(":"):
        return True
    first = words[0]
    if PLACEHOLDER_IT.match(" ".join(words)):
        return False
    return first in DANGLING_OPENERS and len(answer_sentences(" ".join(quote.split()))) == 1


def is_boilerplate(citation: Citation, asks_for_names: bool) -> bool:
    """The contents; front matter or a name list when the question did not ask for names (who wrote the report,
    who the enablers were)."""
    top = citation.section.split(" › ")[0]
    if top.startswith("Contents"):
        return True
    if asks_for_names:
        return False
    return top.startswith(FRONT_MATTER_SECTIONS) or (top.startswith(NAME_LIST_SECTIONS) and citation.kind == "list")


def ndcg_of_points(grades: Sequence[int], relevant: Sequence[dict], k: int = 3) -> float:
    """nDCG@k of the answer's points in order, graded gains (2^g − 1), against the ideal order of the labels."""
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:k]))
    ideal = sorted((int(r["grade"]) for r in relevant), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def retrieval_hits(passages: Sequence[str], relevant: Sequence[dict], k: int, grade: int = 2) -> tuple[int, int]:
    """(grade-`grade` labels found inside one of the top-k passage texts, grade-`grade` labels)."""
    labels = [r["text"] for r in relevant if int(r["grade"]) >= grade]
    top = [" ".join(_words(p)) for p in passages[:k]]
    found = sum(any(" ".join(_words(label)) in p for p in top) for label in labels)
    return found, len(labels)


def retrieval_ndcg(passages: Sequence[str], relevant: Sequence[dict], k: int = 10) -> float:
    """nDCG@k of the retrieved passages, each passage's gain the best grade of the labels it contains."""
    labels = [(" ".join(_words(r["text"])), int(r["grade"])) for r in relevant]
    gains = []
    for p in passages[:k]:
        text = " ".join(_words(p))
        gains.append(max((g for label, g in labels if label in text), default=0))
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((g for _, g in labels), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0
