"""How both clients take an answer apart: the shapes the engines produce (bulleted quotes, LLM prose, partial,
refusal) rendered once each, without a server."""

from __future__ import annotations

import re

from ui.answer_parts import front_matter_sections, parse_answer
from ui.render import answer_html, conversation_markdown, related_label, toc_tree
from ui.slack_blocks import answer_blocks

SECTION = "The hurdles › It's a system, not a poker game"
QUOTE_1 = "Having a conversation about the Better Care Fund has been the toughest part of the project."
QUOTE_2 = "This means, for example, developing shared goals around the Better Care Fund"


def citation(n: int, quote: str, section: str = SECTION, kind: str = "quote") -> dict:
    return {
        "n": n,
        "chunk_id": f"{n:020x}",
        "source": "corpus/report.md",
        "section": section,
        "kind": kind,
        "quote": quote,
        "start": 100 * n,
        "end": 100 * n + len(quote),
    }


def answer(text: str, coverage: str = "answered", **extra: object) -> dict:
    return {
        "answer": text,
        "answerable": coverage != "not_covered",
        "coverage": coverage,
        "citations": [citation(1, QUOTE_1), citation(2, QUOTE_2, "The building blocks for success", "list")],
        "closest": [],
        "standalone_question": "q",
        "answering": None,
        "suggestions": [],
        "engine": "extractive",
        **extra,
    }


BULLETS = (
    f"The report speaks to this in *{SECTION}* and *The building blocks for success*.\n\n"
    f"- An enabler's feedback: “{QUOTE_1}” [1]\n- Among the report's key messages: “{QUOTE_2}” [2]"
)
PROSE = (
    f"The report speaks to this in *{SECTION}*.\n\n"
    "Enablers found the fund the hardest conversation [1], and the report asks for shared goals around it [2]."
)


def texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out += [e["text"] for e in b["elements"]]
        elif b["type"] == "actions":
            out += [e["text"]["text"] for e in b["elements"]]
    return "\n".join(out)


def test_bulleted_answer_renders_each_quote_once_with_links() -> None:
    body = answer_html(answer(BULLETS), "4")
    assert body.count(QUOTE_1) == 1 and body.count(QUOTE_2) == 1
    assert re.findall(r'data-card="(card-4-\d)"', body) == ["card-4-1", "card-4-2"]
    assert "<em>The building blocks for success</em>" in body and "<ul" in body


def test_slack_prose_answer_keeps_markers_and_puts_quotes_in_context_once() -> None:
    _, blocks = answer_blocks("q", answer(PROSE))
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) == 1 and "hardest conversation [1]" in sections[0] and "[2]" in sections[0]
    everything = texts(blocks)
    assert everything.count(QUOTE_1) == 1 and everything.count(QUOTE_2) == 1
    body = answer_html(answer(PROSE), "2")  # the chat keeps prose markers in place too, as links
    assert 'hardest conversation<sup class="lva-sup"><a class="lva-cite" href="#card-2-1"' in body
    assert 'around it<sup class="lva-sup"><a class="lva-cite" href="#card-2-2"' in body


def test_slack_bulleted_answer_says_each_quote_once() -> None:
    _, blocks = answer_blocks("q", answer(BULLETS, suggestions=["What helped with this?", "What did enablers say?"]))
    everything = texts(blocks)
    assert everything.count(QUOTE_1) == 1 and everything.count(QUOTE_2) == 1
    suggestions = next(b for b in blocks if b.get("block_id") == "lva_suggestions")
    assert [e["value"] for e in suggestions["elements"]] == ["What helped with this?", "What did enablers say?"]


def test_partial_note_is_its_own_part_and_labelled() -> None:
    note = "The report doesn't address this directly; the closest it comes:"
    partial = answer(f"{note}\n\n- An enabler's feedback: “{QUOTE_1}” [1]", "partial")
    parts = parse_answer(partial)
    assert parts.note == note and not parts.lead and len(parts.points) == 1
    _, blocks = answer_blocks("q", partial)
    assert texts(blocks).startswith("*Partly covered*") and note in texts(blocks)
    assert "*Partly covered*" in conversation_markdown([{"role": "assistant", "content": "x", "answer": partial}])


def test_title_page_citations_and_sections_are_not_shown() -> None:
    sections = [
        {"section": "The Revolution will be Improvised", "title": "The Revolution will be Improvised: Stories",
         "source": "a", "first_chunk_id": "t", "chunks": 2},
        {"section": "The hurdles › Joined at the top", "title": "The Revolution will be Improvised: Stories",
         "source": "a", "first_chunk_id": "h1", "chunks": 2},
        {"section": "The hurdles › The blame game", "title": "The Revolution will be Improvised: Stories",
         "source": "a", "first_chunk_id": "h2", "chunks": 2},
    ]  # fmt: skip
    hidden = front_matter_sections(sections)
    assert hidden == {"The Revolution will be Improvised"}
    tree = toc_tree(sections, hidden)
    assert [n.title for n in tree] == ["The hurdles"]
    assert [c.title for c in tree[0].children] == ["Joined at the top", "The blame game"]
    subtitle = "Stories and insights about transforming systems"
    with_title = answer(BULLETS + f"\n- The report says: “{subtitle}” [3]")
    with_title["citations"].append(citation(3, subtitle, "The Revolution will be Improvised", "narrative"))
    assert subtitle not in answer_html(with_title, "1", hidden)


def test_related_passage_label_has_no_number_and_one_pair_of_quotes() -> None:
    label = related_label({"section": SECTION, "text": f"“{QUOTE_1}”"})
    assert label.startswith("It's a system, not a poker game — Having")
    assert "“" not in label and not re.search(r"\[\d+\]", label)
