"""The Local Vision Assistant chat: a Streamlit client of the HTTP API (`lva ui`)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run ui/app.py` from a checkout

from assistant.config import Settings  # noqa: E402
from ui.client import ApiError, AssistantClient  # noqa: E402
from ui.render import CSS, conversation_markdown, quote_card_html, refusal_html, source_html  # noqa: E402

log = logging.getLogger("lva.ui")
DESCRIPTION = (
    "Ask a leadership question and get an answer built from *The Revolution will be Improvised* — Richard Vize's "
    "report for the Systems Leadership Steering Group, drawing on 25 Local Vision programmes and the feedback of "
    "their enablers. Every answer quotes the report word for word and cites the section; when the report "
    "doesn't cover something, the assistant says so."
)
STARTERS = [
    "How do we handle the Better Care Fund tension?",
    "What are the biggest hurdles to transforming a system?",
    "What were the light bulb moments for leaders?",
    "What are the building blocks for success?",
]
KINDS = {"Any kind": None, "Enablers' words": "quote", "Report narrative": "narrative", "Key messages": "list"}


@st.cache_resource
def get_client(url: str, key: str | None) -> AssistantClient:
    return AssistantClient(url, key)


def client() -> AssistantClient:
    settings = Settings()
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return get_client(settings.api_url, key)


def init_state() -> None:
    defaults: dict[str, Any] = {"messages": [], "open_source": None, "browse": None, "feedback": {}, "pending": None}
    for name, value in defaults.items():
        st.session_state.setdefault(name, value)


def sidebar() -> dict[str, str] | None:
    """Status, filters, table of contents, and conversation tools; returns the filters."""
    with st.sidebar:
        st.header("Local Vision Assistant")
        try:
            ready = client().ready()
            if ready.get("ready"):
                st.caption(f"Engine: **{ready['engine']}** · Index: **{ready['chunks']}** passages · ready")
            else:
                st.warning(f"The index isn't ready: {ready.get('detail') or 'try again shortly'}")
        except ApiError as exc:
            st.error(exc.message)
        st.subheader("Filters")
        kind = KINDS[st.selectbox("Kind of passage", list(KINDS), key="filter_kind")]
        sections = _sections()
        tops = list(dict.fromkeys(s["section"].split(" › ")[0] for s in sections))
        choice = st.selectbox("Section", ["All sections", *tops], key="filter_section")
        st.subheader("Browse the report")
        with st.expander("Table of contents"):
            for s in sections:
                depth = s["section"].count(" › ")
                label = ("  " * depth) + s["section"].split(" › ")[-1]
                if st.button(label, key=f"toc-{s['first_chunk_id']}", use_container_width=True):
                    st.session_state.browse = s["first_chunk_id"]
        st.subheader("Conversation")
        if st.button("Clear chat", use_container_width=True):
            st.session_state.messages = []
            st.session_state.open_source = None
            st.session_state.feedback = {}
        st.download_button(
            "Download conversation (.md)",
            conversation_markdown(st.session_state.messages),
            file_name="local-vision-conversation.md",
            mime="text/markdown",
            use_container_width=True,
            disabled=not st.session_state.messages,
        )
    filters = {k: v for k, v in {"kind": kind, "section": None if choice == "All sections" else choice}.items() if v}
    return filters or None


def _sections() -> list[dict[str, Any]]:
    try:
        return client().sections()
    except ApiError:
        return []


def show_source(chunk_id: str, start: int | None, end: int | None, highlight: bool = True) -> None:
    try:
        view = client().source(chunk_id, start, end)
    except ApiError as exc:
        st.error(exc.message)
        return
    st.markdown(f"**{view['chunk']['section']}** — {view['chunk']['title']}")
    st.html(source_html(view, highlight))


def citation_card(citation: dict[str, Any], key: str) -> None:
    with st.container(border=True):
        st.html(quote_card_html(citation))
        target = {"chunk_id": citation["chunk_id"], "start": citation["start"], "end": citation["end"], "key": key}
        is_open = st.session_state.open_source == target
        if st.button("Close" if is_open else "Open in report", key=f"open-{key}", help="Show the quote in its section"):
            st.session_state.open_source = None if is_open else target
            st.rerun()
        if is_open:
            show_source(citation["chunk_id"], citation["start"], citation["end"])


def feedback_controls(index: int, question: str, answer: dict[str, Any]) -> None:
    sent = st.session_state.feedback.get(index)
    if sent:
        st.caption(f"Thanks for the feedback ({'👍' if sent == 'up' else '👎'}).")
        return
    comment = st.text_input("Comment (optional)", key=f"comment-{index}", placeholder="What was good or missing?")
    up, down, _ = st.columns([1, 1, 6])
    for column, rating, label in ((up, "up", "👍"), (down, "down", "👎")):
        if column.button(label, key=f"fb-{rating}-{index}", help=f"Rate this answer {rating}"):
            try:
                client().feedback(question, answer["answer"], rating, comment)
                st.session_state.feedback[index] = rating
                st.rerun()
            except ApiError as exc:
                st.error(exc.message)


def render_answer(index: int, question: str, answer: dict[str, Any]) -> None:
    if answer.get("standalone_question") and answer["standalone_question"].strip() != question.strip():
        st.caption(f"Searched for: {answer['standalone_question']}")
    if not answer["answerable"]:
        st.html(refusal_html(answer))
        for i, passage in enumerate(answer.get("closest", []), start=1):
            suggestion = {**passage, "n": i, "quote": passage["text"]}
            citation_card(suggestion, f"{index}-closest-{i}")
    else:
        st.markdown(answer["answer"])
        for citation in answer["citations"]:
            citation_card(citation, f"{index}-{citation['n']}")
    feedback_controls(index, question, answer)


def history_payload() -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in st.session_state.messages][-20:]


def ask(question: str, filters: dict[str, str] | None) -> None:
    """Stream an answer into the chat, then keep it in the history."""
    history = history_payload()
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        final: dict[str, Any] = {}

        def deltas():  # type: ignore[no-untyped-def]
            for event, data in client().ask_stream(question, history, filters):
                if event == "delta":
                    yield data["text"]
                elif event == "done":
                    final.update(data)

        try:
            with st.spinner("Reading the report…"):
                st.write_stream(deltas())
        except ApiError as exc:
            st.session_state.messages.pop()
            st.error(exc.message)
            return
    if final:
        st.session_state.messages.append({"role": "assistant", "content": final["answer"], "answer": final})
    st.rerun()


def main() -> None:
    st.set_page_config(page_title="Local Vision Assistant", page_icon="🧭", layout="centered")
    st.html(CSS)
    init_state()
    filters = sidebar()
    st.title("Local Vision Assistant")
    if st.session_state.browse:
        with st.container(border=True):
            st.subheader("From the report")
            show_source(st.session_state.browse, None, None, highlight=False)
            if st.button("Close section", key="close-browse"):
                st.session_state.browse = None
                st.rerun()
    starter = None
    if not st.session_state.messages:
        st.markdown(DESCRIPTION)
        st.subheader("Try asking")
        for i, question in enumerate(STARTERS):
            if st.button(question, key=f"starter-{i}", use_container_width=True):
                starter = question
    messages = st.session_state.messages
    for i, message in enumerate(messages):
        with st.chat_message(message["role"]):
            if message["role"] == "user":
                st.markdown(message["content"])
            else:
                render_answer(i, messages[i - 1]["content"] if i else "", message["answer"])
    question = st.chat_input("Ask about the report…") or starter
    if question:
        ask(question, filters)


try:
    main()
except Exception:  # noqa: BLE001 - the last line of defence: never show a traceback to a reader
    log.exception("ui failure")
    st.error("Something unexpected went wrong. Please reload the page; if it keeps happening, tell the team.")
