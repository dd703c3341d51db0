"""The chat's conversation survives a reload: an id in the URL (`?c=…`), the turns saved through the API."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

import streamlit as st

from ui.client import ApiError, AssistantClient

log = logging.getLogger("lva.ui")
PARAM = "c"
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TURNS = 100  # what PUT /v1/conversations/{id} accepts


def new_id() -> str:
    """An unguessable conversation id (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


def conversation_id() -> str:
    """The id in the URL, or a new one written there (so a reload or a shared link finds the same chat)."""
    cid = st.query_params.get(PARAM)
    if not cid or not CONVERSATION_ID.match(cid):
        cid = new_id()
        st.query_params[PARAM] = cid
    return cid


def turns_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as the API's turns: role, content and, for answers, the Answer object."""
    return [{"role": m["role"], "content": m["content"], "answer": m.get("answer")} for m in messages][-MAX_TURNS:]


def restore(client: AssistantClient, cid: str) -> None:
    """Load the saved conversation once per id (none saved: start empty; API down: try again next run)."""
    if st.session_state.get("restored") == cid:
        return
    try:
        saved = client.get_conversation(cid)
    except ApiError as exc:  # the API is down: try again on the next run, and never save over what it holds
        log.info("conversation %s not loaded yet: %s", cid, exc.kind)
        return
    st.session_state.restored = cid
    turns = (saved or {}).get("turns") or []
    st.session_state.messages = [
        {"role": t["role"], "content": t["content"], **({"answer": t["answer"]} if t.get("answer") else {})}
        for t in turns
        if t["role"] == "user" or t.get("answer")
    ]


def save(client: AssistantClient, cid: str, messages: list[dict[str, Any]]) -> bool:
    """Save the whole conversation; False (and a log line) when the API can't take it or it was never loaded."""
    if st.session_state.get("restored") != cid:
        return False  # saving before the saved turns were read would overwrite them
    try:
        client.save_conversation(cid, turns_of(messages))
        return True
    except ApiError as exc:
        log.warning("conversation %s not saved: %s", cid, exc.kind)
        return False


def start_new() -> None:
    """A fresh conversation under a new id; the old one stays saved under its own link."""
    st.query_params[PARAM] = new_id()
    for name in ("messages", "failed", "feedback"):
        st.session_state.pop(name, None)
    st.session_state.restored = st.query_params[PARAM]
