"""Code that keeps answers honest: verbatim quote checks, citation checks, lexical support, evidence tests.

Support (used for LLM sentences and by the evals, in place of an NLI model that cannot run here):
a sentence is supported by evidence text when (1) the share of its stemmed content words that also occur
in the evidence is at least τ, (2) every critical token of the sentence — numbers, negations and
capitalised names — occurs in the evidence, and (3) its polarity agrees with the evidence sentence it matches
best: no word the sentence negates appears there only un-negated, and vice versa.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from assistant.textnorm import content_tokens, normalize, split_sentences
from assistant.types import Citation, Passage

SUPPORT_TAU = 0.65  # calibrated on evals/support_pairs.yaml (see evals/test_support_calibration.py)
NEGATION_SCOPE = 3  # content words after a negation that it governs
QUOTE_SPAN = re.compile(r"“([^“”]{2,3000})”|\"([^\"]{2,3000})\"")
MARKER = re.compile(r"\s?\[(\d{1,3})\]")
NEGATIONS = frozenset({"not", "no", "never", "none", "nor", "cannot", "without", "nothing", "neither"})
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)*%?")
# "one" is left out: it is far more often a pronoun ("as one enabler said") than a figure.
_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve twenty hundred thousand million half".split()
)


def critical_tokens(sentence: str) -> set[str]:
    """Numbers, negations and names (capitalised words after the first) that evidence must contain."""
    words = _WORD.findall(sentence.replace("n't", " not"))
    critical: set[str] = set()
    for i, word in enumerate(words):
        lower = word.lower()
        is_number_or_negation = word[0].isdigit() or lower in _NUMBER_WORDS or lower in NEGATIONS
        is_name = i > 0 and word[0].isupper() and len(word) > 2
        is_acronym = word.isupper() and len(word) >= 2  # NHS, GP
        if is_number_or_negation or is_name or is_acronym:
            critical.add(lower)
    return critical


def support_recall(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words that the evidence contains (1.0 for a sentence with none)."""
    words = content_tokens(sentence)
    if not words:
        return 1.0
    return len(words & content_tokens(evidence)) / len(words)


def is_supported(sentence: str, evidence: str, tau: float = SUPPORT_TAU) -> bool:
    """Lexical entailment stand-in: enough content-word recall, and no unsupported critical token."""
    if support_recall(sentence, evidence) < tau:
        return False
    evidence_words = {w.lower() for w in _WORD.findall(evidence.replace("n't", " not"))}
    return critical_tokens(sentence) <= evidence_words and not polarity_conflict(sentence, evidence)


def _polarity(text: str) -> tuple[set[str], set[str]]:
    """(content tokens under a negation, content tokens outside any)."""
    negated: set[str] = set()
    plain: set[str] = set()
    scope = 0
    for word in _WORD.findall(text.replace("n't", " not")):
        if word.lower() in NEGATIONS:
            scope = NEGATION_SCOPE
            continue
        tokens = content_tokens(word)
        (negated if scope else plain).update(tokens)
        if tokens:  # the scope counts content words, so "not seen as being part" reaches "part"
            scope = max(0, scope - 1)
    return negated, plain


def polarity_conflict(sentence: str, evidence: str) -> bool:
    """Whether the sentence flips the polarity of the evidence sentence it matches best."""
    spans = split_sentences(evidence) or [(0, len(evidence))]
    best = max((evidence[a:b] for a, b in spans), key=lambda e: support_recall(sentence, e))
    s_neg, s_plain = _polarity(sentence)
    e_neg, e_plain = _polarity(best)
    return bool((s_neg & (e_plain - e_neg)) or (s_plain & (e_neg - e_plain)))


def quoted_spans(text: str) -> list[str]:
    """The spans inside double quotation marks (curly or straight)."""
    return [a or b for a, b in QUOTE_SPAN.findall(text)]


def is_verbatim(quote: str, source_text: str) -> bool:
    """Whether the quote occurs in the source after normalising whitespace and quote styles."""
    needle = normalize(quote).strip("\"' ")
    return bool(needle) and needle in normalize(source_text)


def locate(quote: str, source_text: str, min_ratio: float = 0.85) -> tuple[int, int] | None:
    """(start, end) in `source_text` of the span a quote reproduces, exactly or nearly; None if nothing close."""
    needle = normalize(quote).strip("\"' ")
    if not needle:
        return None
    exact = _exact_span(needle, source_text)
    if exact:
        return exact
    # Near misses: compare the quote with every run of source words of about its length.
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", source_text)]
    n = len(needle.split())
    best: tuple[float, tuple[int, int]] | None = None
    for length in {max(1, n - 1), n, n + 1}:
        for i in range(0, max(1, len(words) - length + 1)):
            start, end = words[i][0], words[min(i + length, len(words)) - 1][1]
            candidate = normalize(source_text[start:end]).strip("\"' ")
            ratio = difflib.SequenceMatcher(None, needle, candidate, autojunk=False).ratio()
            if ratio >= min_ratio and (best is None or ratio > best[0]):
                best = (ratio, (start, end))
    return best[1] if best else None


def _exact_span(needle: str, source_text: str) -> tuple[int, int] | None:
    """Map a normalised needle back onto raw source offsets."""
    words = [re.escape(normalize(w)) for w in needle.split(" ")]
    pattern = r"\s+".join(w.replace(r"\"", '["“”„]').replace("'", "['‘’]").replace("\\-", "[-–—‐‑]") for w in words)
    match = re.search(pattern, source_text)
    return (match.start(), match.end()) if match else None


@dataclass(frozen=True)
class SourceSpan:
    """A cited chunk's text and where it starts in its document, for checking and repairing quotes."""

    text: str
    start: int


def verify_answer(
    answer: str, citations: Iterable[Citation], sources: Mapping[str, SourceSpan]
) -> tuple[str, list[Citation]]:
    """The last gate of every engine: each `[n]` resolves and each quoted span is verbatim in what it cites.

    A marker that resolves to nothing is removed; a quote that is not verbatim is repaired to the exact source
    span when one is close, else its sentence (or bullet) is dropped. Returns the clean text and the citations
    it still uses, each re-checked against its source offsets.
    """
    by_n = {c.n: c for c in citations if _citation_is_exact(c, sources)}
    kept_lines = []
    for line in answer.split("\n"):
        kept = [s for s in (_verify_sentence(sentence, by_n, sources) for sentence in answer_sentences(line)) if s]
        if kept or not line.strip():
            kept_lines.append(" ".join(kept) if kept else line)
    text = "\n".join(kept_lines).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    used = sorted({int(n) for n in MARKER.findall(text)})
    return text, [by_n[n] for n in used if n in by_n]


def _citation_is_exact(citation: Citation, sources: Mapping[str, SourceSpan]) -> bool:
    source = sources.get(citation.chunk_id)
    if source is None:
        return False
    local = citation.start - source.start
    return local >= 0 and source.text[local : local + len(citation.quote)] == citation.quote


def answer_sentences(line: str) -> list[str]:
    """Sentences of one answer line, never splitting inside a quotation."""
    out, cursor, depth = [], 0, 0
    for i, ch in enumerate(line):
        if ch in "“":
            depth += 1
        elif ch in "”" and depth:
            depth -= 1
        elif ch in ".!?" and depth == 0 and (i + 1 == len(line) or line[i + 1] == " "):
            rest = MARKER.match(line, i + 1)
            end = rest.end() if rest else i + 1
            if end >= cursor:
                out.append(line[cursor:end].strip())
                cursor = end
    if line[cursor:].strip():
        out.append(line[cursor:].strip())
    return [s for s in out if s]


def _verify_sentence(sentence: str, by_n: dict[int, Citation], sources: Mapping[str, SourceSpan]) -> str | None:
    cited = [int(n) for n in MARKER.findall(sentence)]
    valid = [n for n in cited if n in by_n]
    sentence = MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in by_n else "", sentence)
    quotes = quoted_spans(sentence)
    if quotes and not valid:
        return None  # a quotation must say where it comes from
    for quote in quotes:
        texts = [sources[by_n[n].chunk_id].text for n in valid]
        if any(is_verbatim(quote, t) for t in texts):
            continue
        repaired = next((t[span[0] : span[1]] for t in texts if (span := locate(quote, t))), None)
        if repaired is None:
            return None
        sentence = sentence.replace(quote, repaired.strip('“”"').strip(), 1)
    return sentence.strip() or None


def sources_of(passages: Iterable[Passage]) -> dict[str, SourceSpan]:
    """What `verify_answer` checks quotes against: each passage's text and document offset."""
    return {p.id: SourceSpan(p.text, p.start) for p in passages}
