"""Text normalisation shared by quote verification and the evals: whitespace and quote styles don't count."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

import bm25s
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "″": '"', "‘": "'", "’": "'", "‚": "'", "′": "'"})
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-"})
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC, straight quotes, plain hyphens, single spaces, stripped. Case is kept."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).translate(_DASHES)
    return _SPACE.sub(" ", text).strip()


def normalize_loose(text: str) -> str:
    """`normalize` plus lower case, for containment checks that should ignore capitalisation."""
    return normalize(text).lower()


def contains(haystack: str, needle: str) -> bool:
    """Whether `needle` occurs in `haystack` once both are normalised (case-insensitive)."""
    return normalize_loose(needle) in normalize_loose(haystack)


_SENTENCE_END = re.compile(r"(?<=[.!?])[”\"’')\]]*\s+(?=[“\"‘'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`; a closing quote mark stays with its sentence."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(0).rstrip())
        if text[cursor:end].strip():
            spans.append(_trimmed(text, cursor, end))
        cursor = match.end()
    if text[cursor:].strip():
        spans.append(_trimmed(text, cursor, len(text)))
    return spans


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def strip_quote_marks(text: str, a: int, b: int) -> tuple[int, int]:
    """Narrow text[a:b] so it excludes the quotation marks around it."""
    while a < b and text[a] in '“"‘':
        a += 1
    if b - a > 2 and text[b - 1] in ".!?" and text[b - 2] in '”"’':
        b -= 1  # “…change”. : the full stop sits outside the closing mark
    while b > a and text[b - 1] in '”"’':
        b -= 1
    return a, b


# --- tokens: one analysis for BM25, lexical overlap and support checks -----------------------------------

_STEMMER = Stemmer.Stemmer("english")
# Words that carry no topic of their own ("how do we handle…"): a follow-up made of these leans on the
# conversation, and they never count towards lexical overlap.
GENERIC_WORDS = frozenset(
    "handle deal report say says said tell think mean means make work way ways much many really get go know "
    "happen happened happens does did do done need needs about why how what which who when where whom more "
    "helped help helps else other example examples mention mentioned".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’&-]*[A-Za-z]|[A-Za-z]|\d+")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Stemmed, stop-worded tokens: the same analysis for indexing and for queries."""
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)


def content_tokens(text: str) -> frozenset[str]:
    """Stemmed content words (cached: the same sentences recur across questions)."""
    return _content_tokens(text)


@functools.lru_cache(maxsize=65_536)
def _content_tokens(text: str) -> frozenset[str]:
    return frozenset(tokenize([text])[0])


def words(text: str) -> list[str]:
    """The words of a text in their original form (letters, apostrophes, hyphens, ampersands; or digits)."""
    return _WORD.findall(text)


def content_words(text: str, full_stop_list: bool = True) -> str:
    """The text without the generic words of a question and, with `full_stop_list`, without the fuller English
    stop-word list (BM25's own list is short: "has", "been", "so" survive it)."""
    stop = STOPWORDS_EN_PLUS if full_stop_list else ()
    return " ".join(w for w in words(text) if w.lower() not in GENERIC_WORDS and w.lower() not in stop)


def clauses(text: str, min_words: int = 4) -> list[str]:
    """The parts of a long, multi-part question ("Why does X happen, and what did others do about it?"): split at
    question marks, full stops and ", and"/"; and"; parts shorter than `min_words` words are dropped. A question
    with one part gives an empty list."""
    parts = [p.strip() for p in re.split(r"[?.!;]\s+|,\s*(?:and|but|or)\s+|\s+-\s+", text) if p.strip()]
    parts = [p for p in parts if len(p.split()) >= min_words]
    return parts if len(parts) > 1 else []
