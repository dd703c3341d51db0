"""Pure rendering helpers for the Streamlit app: HTML for answers, cards and sources, Markdown for downloads."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from ui.answer_parts import MARKER, AnswerParts, Point, cited, coverage_of, parse_answer, unquote

SEPARATOR = " › "
BADGES = {
    "quote": ("Enabler's words", "lva-badge-quote"),
    "narrative": ("Report narrative", "lva-badge-narrative"),
    "list": ("Key message", "lva-badge-list"),
}
UNAVAILABLE = "The assistant is unavailable right now — try again in a minute."
FRIENDLY = {
    "unavailable": UNAVAILABLE,
    "timeout": "The assistant took too long to answer — try again in a minute.",
    "failed": UNAVAILABLE,
    "rate_limited": "That's a lot of questions in a short time — wait a moment, then try again.",
    "unauthorized": "The assistant isn't letting this page in right now — please tell the team who runs it.",
}


def badge_html(kind: str) -> str:
    """A small coloured label for the kind of passage."""
    label, css = BADGES.get(kind, (kind, "lva-badge-narrative"))
    return f'<span class="lva-badge {css}">{label}</span>'


def inline_markdown(text: str) -> str:
    """Escaped text with the API's *italic* and **bold** turned into HTML (nothing else is trusted)."""
    text = html.escape(text, quote=False)
    text = re.sub(r"\*\*([^*\n]+)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])", r"<em>\1</em>", text)


def card_key(key: str, n: int) -> str:
    """The Streamlit key (and CSS class `st-key-…`) of citation n's card in message `key`."""
    return f"card-{key}-{n}"


def cite_link(key: str, n: int) -> str:
    """A superscript `[n]` that opens the sources and scrolls to card n (see assets.SCRIPT)."""
    target = card_key(key, n)
    return (
        f'<sup class="lva-sup"><a class="lva-cite" href="#{target}" data-card="{target}" '
        f'data-sources="sources-{key}" aria-label="Source {n}" title="Show source {n}">[{n}]</a></sup>'
    )


def point_html(point: Point, key: str, known: set[int]) -> str:
    """A point as HTML: its lead-in, its quote once, and clickable markers."""

    def link(n: int) -> str:
        return cite_link(key, n) if n in known else f"<sup>[{n}]</sup>"

    if point.quote is None:  # prose: the markers stay where the writer put them
        text = re.sub(r"\s+(?=\[\d+\])", "", inline_markdown(" ".join(point.raw.split())))
        return MARKER.sub(lambda m: link(int(m[1])), text)
    lead_in = f"{inline_markdown(point.prefix)} " if point.prefix else ""
    return f"{lead_in}“{inline_markdown(unquote(point.quote))}”" + "".join(link(n) for n in point.markers)


def visible_points(parts: AnswerParts, known: set[int]) -> list[Point]:
    """Points that cite something the reader can see (a point resting only on the title page is dropped)."""
    return [p for p in parts.points if not p.markers or any(n in known for n in p.markers)]


def answer_html(answer: dict[str, Any], key: str, hidden_sections: set[str] | None = None) -> str:
    """The answer's lead line and points, compact, with `[n]` links to the source cards."""
    parts = parse_answer(answer)
    known = {c["n"] for c in cited(answer, hidden_sections)}
    out = ['<div class="lva-answer">']
    if parts.note:
        out.append(f'<p class="lva-note">{inline_markdown(parts.note)}</p>')
    if parts.lead:
        out.append(f'<p class="lva-lead">{inline_markdown(parts.lead)}</p>')
    points = visible_points(parts, known)
    bullets = [p for p in points if p.bullet]
    if len(bullets) > 1:
        out.append('<ul class="lva-points">')
        out += [f"<li>{point_html(p, key, known)}</li>" for p in points]
        out.append("</ul>")
    else:
        out += [f'<p class="lva-point">{point_html(p, key, known)}</p>' for p in points]
    out.append("</div>")
    return "".join(out)


def card_html(citation: dict[str, Any], several_documents: bool = False) -> str:
    """A source card: number, kind badge, section path, the verbatim quote (once)."""
    where = html.escape(citation["section"])
    if several_documents:
        where += f' · <span class="lva-file">{html.escape(citation["source"].rsplit("/", 1)[-1])}</span>'
    return (
        f'<div class="lva-card" data-n="{citation["n"]}">'
        f'<div class="lva-card-head"><span class="lva-n">[{citation["n"]}]</span>{badge_html(citation["kind"])}'
        f'<span class="lva-section">{where}</span></div>'
        f'<blockquote class="lva-quote" aria-label="Quote {citation["n"]}">“<span class="lva-quote-text">'
        f"{html.escape(unquote(citation['quote']))}</span>”</blockquote></div>"
    )


def source_html(view: dict[str, Any], highlight: bool = True) -> str:
    """A section's full text, with the span `highlight_start:highlight_end` marked."""
    text = view["section_text"]
    a, b = view["highlight_start"], view["highlight_end"]
    if not highlight:
        return f'<div class="lva-source" tabindex="0">{html.escape(text)}</div>'
    return (
        f'<div class="lva-source" tabindex="0" aria-label="Section text with the quote highlighted">'
        f'{html.escape(text[:a])}<mark class="lva-highlight">{html.escape(text[a:b])}</mark>'
        f"{html.escape(text[b:])}</div>"
    )


def snippet(text: str, limit: int = 110) -> str:
    """The start of a passage, cut at a word, without surrounding quote marks."""
    text = unquote(text)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def related_label(passage: dict[str, Any]) -> str:
    """A related passage as a link label: where it is, then how it starts (no number: it is not a citation)."""
    section = passage["section"].split(SEPARATOR)[-1]
    return f"{section} — {snippet(passage['text'], 90)}"


def friendly_error(kind: str, message: str) -> str:
    """One sentence a reader can act on; a rejected question keeps the client's own explanation."""
    return FRIENDLY.get(kind, message if kind == "rejected" else UNAVAILABLE)


@dataclass
class TocNode:
    """A section in the table of contents, with its subsections."""

    title: str
    section: str
    chunk_id: str | None
    children: list[TocNode] = field(default_factory=list)


def toc_tree(sections: list[dict[str, Any]], hidden: set[str] | None = None) -> list[TocNode]:
    """Sections in reading order as a tree; a parent with no text of its own opens its first subsection."""
    roots: list[TocNode] = []
    by_path: dict[str, TocNode] = {}
    for s in sections:
        if s["section"] in (hidden or set()):
            continue
        names = s["section"].split(SEPARATOR)
        siblings = roots
        for depth, name in enumerate(names):
            path = SEPARATOR.join(names[: depth + 1])
            node = by_path.get(path)
            if node is None:
                node = TocNode(title=name, section=path, chunk_id=None)
                by_path[path] = node
                siblings.append(node)
            if depth == len(names) - 1:
                node.chunk_id = s["first_chunk_id"]
            siblings = node.children
    for node in by_path.values():
        if node.chunk_id is None and node.children:
            node.chunk_id = node.children[0].chunk_id
    return roots


def conversation_markdown(messages: list[dict[str, Any]]) -> str:
    """The chat as Markdown, with every quote and its section."""
    lines = ["# Conversation with the Local Vision Assistant", ""]
    for message in messages:
        if message["role"] == "user":
            lines += [f"## Q: {message['content']}", ""]
            continue
        answer = message.get("answer") or {}
        coverage = coverage_of(answer) if answer else "answered"
        if coverage == "partial":
            lines += ["*Partly covered*", ""]
        if answer.get("answering"):
            lines += [f"*Answering:* {answer['answering']}", ""]
        lines += [message["content"], ""]
        for c in cited(answer):
            lines += [f"[{c['n']}] “{unquote(c['quote'])}” — {c['section']}"]
        if coverage == "not_covered" and answer.get("closest"):
            lines += ["", "Related passages you might explore:"]
            lines += [f"- {p['section']}: {snippet(p['text'], 200)}" for p in answer["closest"]]
        lines.append("")
    return "\n".join(lines)
