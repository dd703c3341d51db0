"""Text normalisation shared by quote verification and the evals: whitespace and quote styles don't count."""

from __future__ import annotations

import re
import unicodedata

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
