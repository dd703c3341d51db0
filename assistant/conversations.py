"""Saved chat conversations, stored in the database (`assistant.db`) and replaced whole on every save."""

from __future__ import annotations

import time

from sqlalchemy import delete

from assistant.db import ConversationRow, Database
from assistant.types import Conversation, ConversationTurn


class ConversationStore:
    """Get, save (replace) and delete conversations by their client-chosen id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, conversation_id: str) -> Conversation | None:
        """The stored conversation, or None."""
        with self.db.session() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                return None
            return Conversation(id=row.id, turns=row.turns, updated_at=row.updated_at)  # type: ignore[arg-type]

    def save(self, conversation_id: str, turns: list[ConversationTurn]) -> Conversation:
        """Replace the stored turns (creating the conversation if need be)."""
        payload = [turn.model_dump() for turn in turns]
        now = time.time()
        with self.db.session() as session:
            # One upsert, so two saves of a new conversation at once cannot both try to insert it.
            upsert = _insert_for(session.get_bind().dialect.name)(ConversationRow).values(
                id=conversation_id, turns=payload, updated_at=now
            )
            session.execute(
                upsert.on_conflict_do_update(index_elements=["id"], set_={"turns": payload, "updated_at": now})
            )
        return Conversation(id=conversation_id, turns=turns, updated_at=now)

    def delete(self, conversation_id: str) -> None:
        """Forget the conversation (nothing happens if there is none)."""
        with self.db.session() as session:
            session.execute(delete(ConversationRow).where(ConversationRow.id == conversation_id))


def _insert_for(dialect: str):  # type: ignore[no-untyped-def]
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
