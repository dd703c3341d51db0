"""An API answer taken apart for display: the partial note, the lead line, and points with their `[n]` markers.

Both clients (the Streamlit chat and the Slack bot) show the same parts, so they are parsed once, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MARKER = re.compile(r"\[(\d+)\]")
BULLET = re.compile(r"^\s*(?:[-*•]|\d+\.)\s+")
# `Quoted in the report: “…” [1]`: an optional lead-in, one quoted span, then only markers.
QUOTE_POINT = re.compile(r"^(?P<prefix>[^“\"]*?)\s*[“\"](?P<quote>.+)[”\"]\s*(?P<markers>(?:\[\d+\]\s*)+)$", re.S)
QUOTE_MARKS = "“”\"'‘’ "


@dataclass
class Point:
    """One point of an answer: its text without markers, the quote it is made of (if any), and its markers."""

    text: str
    raw: str = ""
    markers: list[int] = field(default_factory=list)
    prefix: str = ""
    quote: str | None = None
    bullet: bool = False


@dataclass
class AnswerParts:
    """What a reader sees, in order: a partial note, the lead line, then the points."""

    coverage: str
    note: str = ""
    lead: str = ""
    points: list[Point] = field(default_factory=list)


def coverage_of(answer: dict[str, Any]) -> str:
    """answered | partial | not_covered, also for answers from an API that predates `coverage`."""
    if not answer.get("answerable"):
        return "not_covered"  # `answerable` decides; `coverage` says how well an answerable question is covered
    return "partial" if answer.get("coverage") == "partial" else "answered"


def normalise(text: str) -> str:
    """Whitespace collapsed and quote marks made straight, for comparing a quote with a citation."""
    text = text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    return " ".join(text.split()).strip(QUOTE_MARKS)


def unquote(text: str) -> str:
    """A passage without the quote marks around it, so a renderer can add its own once."""
    return " ".join(text.split()).strip(QUOTE_MARKS)


def split_point(text: str) -> Point:
    """A point's prose, its markers, and, when it is a lead-in plus one quote, that quote."""
    text = text.strip()
    markers = [int(n) for n in MARKER.findall(text)]
    match = QUOTE_POINT.match(text)
    if match:
        prefix = match["prefix"].strip()
        quote = match["quote"].strip()
        return Point(text=MARKER.sub("", text).strip(), raw=text, markers=markers, prefix=prefix, quote=quote)
    return Point(text=" ".join(MARKER.sub("", text).split()), raw=text, markers=markers)


def parse_answer(answer: dict[str, Any]) -> AnswerParts:
    """The answer text as parts. Bulleted points become one Point each; prose paragraphs become one each."""
    coverage = coverage_of(answer)
    parts = AnswerParts(coverage=coverage)
    if coverage == "not_covered":
        parts.lead = answer.get("answer", "").strip()
        return parts
    lines = [line.rstrip() for line in answer.get("answer", "").splitlines()]
    paragraphs: list[str] = []
    for line in lines:
        if not line.strip():
            paragraphs.append("")
        elif BULLET.match(line):
            paragraphs.append("\0" + BULLET.sub("", line))  # \0 marks a bullet's start
        elif paragraphs and paragraphs[-1]:
            paragraphs[-1] += " " + line.strip()  # a wrapped line continues its paragraph or bullet
        else:
            paragraphs.append(line.strip())
    blocks = [p for p in paragraphs if p]
    if coverage == "partial" and blocks and not blocks[0].startswith("\0"):
        parts.note = blocks.pop(0).strip()
    if blocks and not blocks[0].startswith("\0") and not MARKER.search(blocks[0]):
        parts.lead = blocks.pop(0).strip()
    for block in blocks:
        point = split_point(block.lstrip("\0"))
        point.bullet = block.startswith("\0")
        parts.points.append(point)
    return parts


def cited(answer: dict[str, Any], hidden_sections: set[str] | None = None) -> list[dict[str, Any]]:
    """The citations a reader should see: each span once, none from the title page (front matter)."""
    seen: set[tuple[str, int, int]] = set()
    shown = []
    for c in answer.get("citations", []):
        span = (c["chunk_id"], c["start"], c["end"])
        if span in seen or c.get("section") in (hidden_sections or set()):
            continue
        seen.add(span)
        shown.append(c)
    return shown


def front_matter_sections(sections: list[dict[str, Any]]) -> set[str]:
    """Sections that hold only a document's title page (its heading is the title): not evidence, not reading."""
    hidden = set()
    for s in sections:
        title = (s.get("title") or "").split(":")[0].strip().casefold()
        if title and s["section"].strip().casefold() == title:
            hidden.add(s["section"])
    return hidden
