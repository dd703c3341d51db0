"""The Local Vision Assistant chat: a Streamlit client of the HTTP API (`lva ui`)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run ui/app.py` from a checkout

from assistant.config import Settings  # noqa: E402
from ui import session  # noqa: E402
from ui.answer_parts import front_matter_sections  # noqa: E402
from ui.answer_view import passage_dialog, render_answer  # noqa: E402
from ui.assets import CSS, SCRIPT  # noqa: E402
from ui.client import ApiError, AssistantClient  # noqa: E402
from ui.render import TocNode, conversation_markdown, friendly_error, toc_tree  # noqa: E402

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
AVATARS = {"user": ":material/person:", "assistant": ":material/menu_book:"}
KINDS = {"The whole report": None, "Enablers' words": "quote", "Report narrative": "narrative", "Key messages": "list"}


@st.cache_resource
def get_client(url: str, key: str | None) -> AssistantClient:
    """One HTTP client per API address and key, shared by every session of this process."""
    return AssistantClient(url, key)


def client() -> AssistantClient:
    """The API client for the configured address, acting for this conversation (per-user limits)."""
    settings = Settings()
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return get_client(settings.api_url, key).for_user(st.query_params.get(session.PARAM))


def init_state() -> None:
    """Per-session defaults."""
    for name, value in {"messages": [], "failed": None, "feedback": {}, "sections": []}.items():
        st.session_state.setdefault(name, value)


def load_sections() -> list[dict[str, Any]]:
    """The table of contents, fetched once per session (again later if the API was down)."""
    if not st.session_state.sections:
        try:
            st.session_state.sections = client().sections()
        except ApiError:
            return []
    return st.session_state.sections


def status() -> None:
    """Whether answers can be had, in plain words (details of the failure belong to the chat, once)."""
    try:
        ready = client().ready().get("ready")
    except ApiError:
        ready = None
    if ready:
        st.caption(":material/check_circle: Connected")
    elif ready is None:
        st.caption(":material/cloud_off: Not connected — answers are unavailable right now")
    else:
        st.caption(":material/hourglass_empty: Getting ready — the report is still loading")


def contents(tree: list[TocNode]) -> None:
    """The table of contents as a tree; a section opens in a dialog over the chat."""
    if not tree:
        return
    st.subheader("Contents")
    for i, node in enumerate(tree):
        if node.children:
            with st.expander(node.title, key=f"tocgroup-{i}", type="compact"):
                for j, child in enumerate(node.children):
                    toc_entry(child, f"toc-d1-{i}-{j}")
        else:
            toc_entry(node, f"toc-d0-{i}")


def toc_entry(node: TocNode, key: str) -> None:
    """One section of the contents: a click opens it over the chat."""
    if node.chunk_id and st.button(node.title, key=key, type="tertiary", use_container_width=True):
        passage_dialog(client(), node.chunk_id)


def sidebar(sections: list[dict[str, Any]], hidden: set[str]) -> dict[str, str] | None:
    """Status, the conversation, filters and contents; returns the filters."""
    with st.sidebar:
        st.header("Local Vision Assistant")
        st.caption(":material/format_quote: Answers are quotes from the report")
        status()
        if st.button("New conversation", icon=":material/add_comment:", use_container_width=True):
            session.start_new()
            st.rerun()
        st.subheader("Narrow the answers")
        kind = KINDS[st.selectbox("Draw on", list(KINDS), key="filter_kind")]
        tops = list(dict.fromkeys(s["section"].split(" › ")[0] for s in sections if s["section"] not in hidden))
        choice = st.selectbox("Section", ["All sections", *tops], key="filter_section")
        contents(toc_tree(sections, hidden))
        st.download_button(
            "Download conversation",
            conversation_markdown(st.session_state.messages),
            file_name="local-vision-conversation.md",
            mime="text/markdown",
            icon=":material/download:",
            use_container_width=True,
            disabled=not st.session_state.messages,
        )
    filters = {k: v for k, v in {"kind": kind, "section": None if choice == "All sections" else choice}.items() if v}
    return filters or None


def history_payload() -> list[dict[str, str]]:
    """The conversation so far, as the API's turns."""
    return [{"role": m["role"], "content": m["content"]} for m in st.session_state.messages][-20:]


def ask(question: str, filters: dict[str, str] | None, cid: str) -> None:
    """Stream an answer into the chat, keep it, save the conversation; on failure keep the question."""
    api = client()
    history = history_payload()
    st.session_state.failed = None
    with st.chat_message("user", avatar=AVATARS["user"]):
        st.markdown(question)
    final: dict[str, Any] = {}
    with st.chat_message("assistant", avatar=AVATARS["assistant"]):
        head, box = st.empty(), st.empty()
        shown = ""
        try:
            with st.spinner("Reading the report…"):
                for event, data in api.ask_stream(question, history, filters):
                    if event == "meta":  # how well the report covers it is known before the text streams
                        streaming_head(head, data)
                    elif event == "delta":
                        shown = data["text"] if data.get("replace") else shown + data["text"]
                        box.markdown(shown)
                    elif event == "done":
                        final = data
            if not final:
                raise ApiError("The answer stream ended before its final event.")
        except ApiError as exc:
            st.session_state.failed = {"question": question, "kind": exc.kind, "detail": exc.message}
            st.rerun()
    st.session_state.messages += [
        {"role": "user", "content": question},
        {"role": "assistant", "content": final["answer"], "answer": final},
    ]
    session.save(api, cid, st.session_state.messages)
    st.rerun()


def streaming_head(head: Any, meta: dict[str, Any]) -> None:
    """The label and "Answering" line from the stream's `meta`, shown while the text arrives."""
    with head.container():
        if meta.get("answerable") and meta.get("coverage") == "partial":
            st.badge("Partly covered", icon=":material/info:", color="orange")
        if meta.get("answering"):
            st.caption(f"Answering: {meta['answering']}")


def failed_turn(failed: dict[str, str]) -> str | None:
    """The question that failed, one friendly message, Retry / Edit, and the technical detail tucked away."""
    with st.chat_message("user", avatar=AVATARS["user"]):
        st.markdown(failed["question"])
    with st.chat_message("assistant", avatar=AVATARS["assistant"]):
        st.warning(friendly_error(failed["kind"], failed["detail"]), icon=":material/cloud_off:")
        with st.container(horizontal=True, gap="small"):
            retry = st.button("Retry", key="retry", icon=":material/refresh:", type="primary")
            edit = st.button("Edit question", key="edit", icon=":material/edit:")
        with st.expander("Details"):
            st.caption(failed["detail"])
    if edit:
        st.session_state.chat = failed["question"]
        st.session_state.failed = None
        st.rerun()
    return failed["question"] if retry else None


def main() -> None:
    """One run of the page: restore the conversation, draw it, and answer what was asked."""
    st.set_page_config(page_title="Local Vision Assistant", page_icon=":material/explore:", layout="centered")
    st.html(CSS)
    st.html(SCRIPT, unsafe_allow_javascript=True)
    init_state()
    cid = session.conversation_id()
    session.restore(client(), cid)
    sections = load_sections()
    hidden = front_matter_sections(sections)
    several_documents = len({s["source"] for s in sections}) > 1
    filters = sidebar(sections, hidden)
    st.title("Local Vision Assistant")
    messages = st.session_state.messages
    failed = st.session_state.failed
    question = None
    if not messages and not failed:
        st.markdown(DESCRIPTION)
        st.subheader("Try asking")
        for i, starter in enumerate(STARTERS):
            if st.button(starter, key=f"starter-{i}", use_container_width=True):
                question = starter
    for i, message in enumerate(messages):
        with st.chat_message(message["role"], avatar=AVATARS[message["role"]]):
            if message["role"] == "user":
                st.markdown(message["content"])
                continue
            asked = render_answer(
                client(),
                i,
                messages[i - 1]["content"] if i else "",
                message["answer"],
                hidden=hidden,
                several_documents=several_documents,
                latest=i == len(messages) - 1 and not failed,
            )
            question = question or asked
    if failed:
        question = failed_turn(failed) or question
    question = st.chat_input("Ask about the report…", key="chat", max_chars=2000) or question
    if question:
        ask(question, filters, cid)


try:
    main()
except Exception:  # noqa: BLE001 - the last line of defence: never show a traceback to a reader
    log.exception("ui failure")
    st.error("Something unexpected went wrong. Please reload the page; if it keeps happening, tell the team.")
