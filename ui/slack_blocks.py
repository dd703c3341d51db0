"""Block Kit for the Slack bot: answers with one context block per quote, refusals, apologies."""

from __future__ import annotations

import json
import re
from typing import Any

SECTION_LIMIT = 2900
CONTEXT_LIMIT = 2900
APOLOGY = "Sorry — I couldn't reach the report assistant just now. Please try again in a minute."
RATE_LIMITED = "You're asking faster than I can read — please wait a minute and ask again."
EMPTY_QUESTION = (
    "Ask me a leadership question about *The Revolution will be Improvised*, "
    "e.g. _How do we handle the Better Care Fund tension?_"
)


def slack_mrkdwn(text: str) -> str:
    """Markdown from the API → Slack mrkdwn: *italic* → _italic_, **bold** → *bold*, bullets → •."""
    text = re.sub(r"(?<!\*)\*(?!\*)([^*\n]+)(?<!\*)\*(?!\*)", r"_\1_", text)
    text = re.sub(r"\*\*([^*\n]+)\*\*", r"*\1*", text)
    return re.sub(r"^- ", "• ", text, flags=re.M)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def feedback_actions(question: str, answer_text: str) -> dict[str, Any]:
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


def answer_blocks(question: str, answer: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) for an answer or a refusal."""
    if not answer.get("answerable"):
        return refusal_blocks(question, answer)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(slack_mrkdwn(answer["answer"]), SECTION_LIMIT)}}
    ]
    for c in answer.get("citations", []):
        who = "Enabler" if c["kind"] == "quote" else "Report"
        line = f"*[{c['n']}]* “{c['quote']}” — _{c['section']}_ ({who})"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(line, CONTEXT_LIMIT)}]})
    searched = answer.get("standalone_question", "")
    if searched and searched.strip() != question.strip():
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(f"Searched for: {searched}", 300)}]}
        )
    blocks.append(feedback_actions(question, answer["answer"]))
    return answer["answer"], blocks


def refusal_blocks(question: str, answer: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    text = "I'm sorry — the report doesn't cover that, so I won't guess."
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    closest = answer.get("closest", [])
    if closest:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "The closest passages it does have:"}})
    for p in closest:
        line = f"_{p['section']}_: {_clip(p['text'], 280)}"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line}]})
    blocks.append(feedback_actions(question, text))
    return text, blocks


def apology_blocks(message: str = APOLOGY) -> tuple[str, list[dict[str, Any]]]:
    return message, [{"type": "section", "text": {"type": "mrkdwn", "text": message}}]
