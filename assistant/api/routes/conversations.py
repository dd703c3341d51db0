"""Saved chat conversations, so a chat UI can stay a plain HTTP client and survive reloads and restarts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from assistant.api.deps import ConversationsDep
from assistant.types import CONVERSATION_ID_PATTERN, Conversation, ConversationSave

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
ConversationId = Annotated[
    str, Path(pattern=CONVERSATION_ID_PATTERN, description="8–64 of A–Z a–z 0–9 _ -; choose it unguessable.")
]


@router.get("/{conversation_id}", response_model=Conversation)
def get_conversation(conversation_id: ConversationId, store: ConversationsDep) -> Conversation:
    """The saved conversation; 404 when there is none."""
    conversation = store.get(conversation_id)
    if conversation is None:
        raise HTTPException(404, f"no saved conversation {conversation_id}")
    return conversation


@router.put("/{conversation_id}", response_model=Conversation)
def save_conversation(conversation_id: ConversationId, body: ConversationSave, store: ConversationsDep) -> Conversation:
    """Save the whole conversation (at most 100 turns), replacing what was stored under this id."""
    return store.save(conversation_id, body.turns)


@router.delete("/{conversation_id}", status_code=204, response_class=Response)
def delete_conversation(conversation_id: ConversationId, store: ConversationsDep) -> Response:
    """Forget the conversation; 204 whether or not it existed."""
    store.delete(conversation_id)
    return Response(status_code=204)
