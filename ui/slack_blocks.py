"""Block Kit for the Slack bot: the answer once, each quote once (as a context block), coverage shown honestly,
suggested follow-ups as buttons that ask in the thread; refusals and apologies."""

from __future__ import annotations

import json
import re
from typing import Any

from ui.answer_parts import AnswerParts, Point, cited, coverage_of, normalise, parse_answer, unquote

SECTION_LIMIT = 2900
CONTEXT_LIMIT = 2900
BUTTON_TEXT_LIMIT = 75  # Slack's limit for a button's label
SUGGESTION_ACTION = "lva_ask_{}"
APOLOGY = "Sorry — I couldn't reach the report assistant just now. Please try again in a minute."
RATE_LIMITED = "You're asking faster than I can read — please wait a minute and ask again."
EMPTY_QUESTION = (
    "Ask me a leadership question about *The Revolution will be Improvised*, "
    "e.g. _How do we handle the Better Care Fund tension?_"
)
PARTLY_COVERED = "*Partly covered*"  # the API's own first line says what is missing
RELATED = "Related passages you might explore:"
WHO = {"quote": "Enabler's words", "narrative": "Report narrative", "list": "Key message"}


def slack_mrkdwn(text: str) -> str:
    """Markdown from the API → Slack mrkdwn: *italic* → _italic_, **bold** → *bold*, bullets → •."""
    text = re.sub(r"(?<!\*)\*(?!\*)([^*\n]+)(?<!\*)\*(?!\*)", r"_\1_", text)
    text = re.sub(r"\*\*([^*\n]+)\*\*", r"*\1*", text)
    return re.sub(r"^- ", "• ", text, flags=re.M)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _context(text: str, limit: int = CONTEXT_LIMIT) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, limit)}]}


def feedback_actions(question: str, answer_text: str) -> dict[str, Any]:
    """Helpful / not helpful buttons; their value carries what the feedback endpoint needs."""
    # Button values hold at most 2000 characters; the API needs the question and the answer.
    value = json.dumps({"q": question[:300], "a": answer_text[:1400]}, ensure_ascii=False)
    return {
        "type": "actions",
        "block_id": "lva_feedback",
        "elements": [
            {
                "type": "button",
                "action_id": "lva_feedback_up",
                "text": {"type": "plain_text", "text": "👍 Helpful"},
                "value": value,
            },
            {
                "type": "button",
                "action_id": "lva_feedback_down",
                "text": {"type": "plain_text", "text": "👎 Not helpful"},
                "value": value,
            },
        ],
    }


def suggestion_actions(suggestions: list[str]) -> dict[str, Any] | None:
    """Up to three follow-up questions as buttons; clicking one asks it in the thread."""
    questions = [q.strip() for q in suggestions if q and q.strip()][:3]
    if not questions:
        return None
    return {
        "type": "actions",
        "block_id": "lva_suggestions",
        "elements": [
            {
                "type": "button",
                "action_id": SUGGESTION_ACTION.format(i),
                "text": {"type": "plain_text", "text": _clip(q, BUTTON_TEXT_LIMIT)},
                "value": q[:2000],
            }
            for i, q in enumerate(questions)
        ],
    }


def asked_by(user: str, question: str) -> dict[str, Any]:
    """Who asked a suggested question, shown above its answer (the button leaves no message of its own)."""
    return _context(f"<@{user}> asked: _{question}_", 300)


def _is_quote_point(point: Point, citations: dict[int, dict[str, Any]]) -> bool:
    """A point that is only a lead-in plus its citation's quote: the quote's context block says it all."""
    if point.quote is None or len(point.markers) != 1 or point.markers[0] not in citations:
        return False
    return normalise(point.quote) == normalise(citations[point.markers[0]]["quote"])


def _answer_text(parts: AnswerParts, prose: list[Point]) -> str:
    """The note, the lead line, then any prose points with their markers where the writer put them."""
    head = "\n".join(x for x in (parts.note, parts.lead) if x)
    body = "\n".join(("• " if p.bullet else "") + " ".join(p.raw.split()) for p in prose)
    return slack_mrkdwn("\n\n".join(x for x in (head, body) if x))


def answer_blocks(question: str, answer: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) for an answer or a refusal."""
    coverage = coverage_of(answer)
    if coverage == "not_covered":
        return refusal_blocks(question, answer)
    parts = parse_answer(answer)
    citations = {c["n"]: c for c in cited(answer)}
    prose = [p for p in parts.points if not _is_quote_point(p, citations)]
    blocks: list[dict[str, Any]] = []
    if coverage == "partial":
        blocks.append(_context(PARTLY_COVERED))
    if answer.get("answering"):
        blocks.append(_context(f"Answering: {answer['answering']}", 300))
    text = _answer_text(parts, prose)
    if text.strip():
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT)}})
    for c in citations.values():
        line = f"*[{c['n']}]* “{unquote(c['quote'])}” — _{c['section']}_ · {WHO.get(c['kind'], c['kind'])}"
        blocks.append(_context(line))
    suggested = suggestion_actions(answer.get("suggestions") or [])
    if suggested:
        blocks.append(suggested)
    blocks.append(feedback_actions(question, answer["answer"]))
    return answer["answer"], blocks


def refusal_blocks(question: str, answer: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The API's one-sentence refusal, then related passages as plain pointers (not citations)."""
    text = answer.get("answer") or "The report doesn't cover that."
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    closest = answer.get("closest", [])
    if closest:
        blocks.append(_context(f"*{RELATED}*"))
    for p in closest:
        excerpt = unquote(p["text"])
        excerpt = excerpt if len(excerpt) <= 200 else excerpt[:200].rsplit(" ", 1)[0] + "…"
        blocks.append(_context(f"_{p['section']}_ — {excerpt}"))
    suggested = suggestion_actions(answer.get("suggestions") or [])
    if suggested:
        blocks.append(suggested)
    blocks.append(feedback_actions(question, text))
    return text, blocks


def apology_blocks(message: str = APOLOGY) -> tuple[str, list[dict[str, Any]]]:
    """A short apology instead of silence."""
    return message, [{"type": "section", "text": {"type": "mrkdwn", "text": message}}]
