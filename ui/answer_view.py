"""One answer in the chat: coverage label, compact text with `[n]` links, sources one click away, feedback,
suggested follow-ups; and the dialog that shows a passage in its section."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.answer_parts import cited as visible_citations
from ui.answer_parts import coverage_of
from ui.client import ApiError, AssistantClient
from ui.render import answer_html, card_html, card_key, related_label, source_html


def show_passage(client: AssistantClient, chunk_id: str, start: int | None, end: int | None) -> None:
    """A passage in its whole section, the span highlighted (the script scrolls it into view)."""
    try:
        view = client.source(chunk_id, start, end)
    except ApiError as exc:
        st.warning("That part of the report can't be shown right now — try again in a minute.")
        with st.expander("Details"):
            st.caption(exc.message)
        return
    st.markdown(f"**{view['chunk']['section']}**")
    st.html(source_html(view, highlight=start is not None))


@st.dialog("From the report", width="large")
def passage_dialog(client: AssistantClient, chunk_id: str, start: int | None = None, end: int | None = None) -> None:
    """The report at the reader's position, over the chat (a dialog, not a jump up the page)."""
    show_passage(client, chunk_id, start, end)


def source_card(client: AssistantClient, citation: dict[str, Any], key: str, several_documents: bool) -> None:
    """A citation's card: number, kind, section, the quote once, and "Open in report"."""
    with st.container(border=True, key=card_key(key, citation["n"])):
        st.html(card_html(citation, several_documents))
        if st.button(
            "Open in report",
            key=f"open-{key}-{citation['n']}",
            icon=":material/menu_book:",
            type="tertiary",
            help="Show this quote highlighted in its section",
        ):
            passage_dialog(client, citation["chunk_id"], citation["start"], citation["end"])


def feedback(client: AssistantClient, index: int, question: str, answer: dict[str, Any]) -> None:
    """Native thumbs; the rating is stored at once, a comment can follow it."""
    sent = st.session_state.setdefault("feedback", {})
    rating = st.feedback("thumbs", key=f"fb-{index}")
    if rating is None:
        return
    value = "up" if rating == 1 else "down"
    record = sent.get(index)
    if record is None or record["rating"] != value:
        try:
            if record is None:  # the click alone counts; a flip or a comment later updates the same row
                sent[index] = record = {"id": client.feedback(question, answer["answer"], value), "commented": False}
            else:
                client.update_feedback(record["id"], rating=value)
            record["rating"] = value
        except ApiError:
            st.caption("Your rating couldn't be saved just now — try again in a minute.")
            return
    if record["commented"]:
        st.caption("Thanks — your comment was sent.")
        return
    with st.popover("Add a comment", icon=":material/chat_bubble:", type="tertiary"):
        comment = st.text_area("What was good or missing?", key=f"comment-{index}", max_chars=2000)
        if st.button("Send", key=f"send-comment-{index}") and comment.strip():
            try:
                client.update_feedback(record["id"], comment=comment.strip())
                record["commented"] = True
                st.rerun()
            except ApiError:
                st.caption("Your comment couldn't be sent just now — try again in a minute.")
    st.caption("Thanks for the feedback.")


def related_passages(client: AssistantClient, index: int, answer: dict[str, Any], hidden: set[str]) -> None:
    """Closest passages after a refusal: plain links into the report, never numbered like citations."""
    closest = [p for p in answer.get("closest", []) if p["section"] not in hidden]
    if not closest:
        return
    st.caption("Related passages you might explore")
    for j, passage in enumerate(closest):
        if st.button(
            related_label(passage),
            key=f"related-{index}-{j}",
            type="tertiary",
            icon=":material/arrow_outward:",
            help=passage["section"],
        ):
            passage_dialog(client, passage["chunk_id"], passage["start"], passage["end"])


def suggestions(index: int, answer: dict[str, Any]) -> str | None:
    """Two or three follow-up questions as buttons; the one clicked, if any."""
    asked = None
    questions = [q for q in answer.get("suggestions") or [] if q.strip()][:3]
    if not questions:
        return None
    with st.container(horizontal=True, gap="small", key=f"suggest-{index}"):
        for j, question in enumerate(questions):
            icon = ":material/subdirectory_arrow_right:"
            # A whole question, wrapped on a phone rather than cut off with an ellipsis.
            if st.button(question, key=f"suggestion-{index}-{j}", icon=icon, wrap=True):
                asked = question
    return asked


def render_answer(
    client: AssistantClient,
    index: int,
    question: str,
    answer: dict[str, Any],
    *,
    hidden: set[str],
    several_documents: bool,
    latest: bool,
) -> str | None:
    """Draw one answer; returns a suggested question the reader clicked."""
    coverage = coverage_of(answer)
    key = str(index)
    if coverage == "partial":
        st.badge("Partly covered", icon=":material/info:", color="orange")
    if answer.get("answering"):
        st.caption(f"Answering: {answer['answering']}")
    if coverage == "not_covered":
        st.markdown(answer["answer"])
        related_passages(client, index, answer, hidden)
    else:
        st.html(answer_html(answer, key, hidden))
        citations = visible_citations(answer, hidden)
        if citations:
            with st.expander(f"Sources ({len(citations)})", key=f"sources-{key}", icon=":material/format_quote:"):
                for citation in citations:
                    source_card(client, citation, key, several_documents)
    feedback(client, index, question, answer)
    return suggestions(index, answer) if latest else None
