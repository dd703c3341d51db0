"""Pure rendering helpers for the Streamlit app: HTML for quotes and sources, Markdown for downloads."""

from __future__ import annotations

import html
from typing import Any

BADGES = {
    "quote": ("Enabler's words", "lva-badge-quote"),
    "narrative": ("Report narrative", "lva-badge-narrative"),
    "list": ("Key message", "lva-badge-list"),
}

CSS = """
<style>
.lva-quote { border-left: 4px solid #1f6feb; margin: 0.25rem 0 0.5rem 0; padding: 0.25rem 0.75rem;
  font-size: 1.02rem; line-height: 1.5; }
.lva-badge { display: inline-block; border-radius: 0.6rem; padding: 0.05rem 0.55rem; font-size: 0.78rem;
  font-weight: 600; margin-right: 0.4rem; }
.lva-badge-quote { background: #fff4d6; color: #6b4a00; }
.lva-badge-narrative { background: #e7f0ff; color: #0b3d91; }
.lva-badge-list { background: #e8f5e9; color: #1b5e20; }
.lva-section { color: #555; font-size: 0.85rem; }
.lva-source { white-space: pre-wrap; line-height: 1.55; max-height: 24rem; overflow-y: auto;
  border: 1px solid #ddd; border-radius: 0.4rem; padding: 0.75rem; }
.lva-source mark { background: #ffe58a; padding: 0 0.1rem; }
.lva-refusal { border: 1px solid #d0a000; background: #fffbea; border-radius: 0.5rem; padding: 0.75rem 1rem; }
@media (max-width: 640px) { .lva-quote { font-size: 0.95rem; } .lva-source { max-height: 18rem; } }
</style>
"""


def badge_html(kind: str) -> str:
    label, css = BADGES.get(kind, (kind, "lva-badge-narrative"))
    return f'<span class="lva-badge {css}" role="note" aria-label="{label}">{label}</span>'


def quote_card_html(citation: dict[str, Any]) -> str:
    """A citation as a card body: badge, verbatim quote, section path."""
    return (
        f'<div class="lva-card" data-n="{citation["n"]}" data-chunk="{html.escape(citation["chunk_id"])}">'
        f"{badge_html(citation['kind'])}<strong>[{citation['n']}]</strong>"
        f'<blockquote class="lva-quote" aria-label="Quote {citation["n"]}">“<span class="lva-quote-text">'
        f"{html.escape(citation['quote'])}</span>”</blockquote>"
        f'<div class="lva-section">{html.escape(citation["section"])} · {html.escape(citation["source"])}</div></div>'
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


def refusal_html(answer: dict[str, Any]) -> str:
    return (
        '<div class="lva-refusal" role="status"><strong>The report doesn’t cover this.</strong><br>'
        f"{html.escape(answer['answer'])} Below are the closest passages it does have.</div>"
    )


def conversation_markdown(messages: list[dict[str, Any]]) -> str:
    """The chat as Markdown, with every quote and its section."""
    lines = ["# Conversation with the Local Vision Assistant", ""]
    for message in messages:
        if message["role"] == "user":
            lines += [f"## Q: {message['content']}", ""]
            continue
        answer = message.get("answer") or {}
        lines += [message["content"], ""]
        if answer.get("standalone_question"):
            lines += [f"*Searched for:* {answer['standalone_question']}", ""]
        for c in answer.get("citations", []):
            lines += [f"[{c['n']}] “{c['quote']}” — {c['section']} ({c['source']}, characters {c['start']}–{c['end']})"]
        for p in answer.get("closest", []):
            lines += [f"- Closest passage, {p['section']}: {p['text']}"]
        lines.append("")
    return "\n".join(lines)
