"""Answer ratings, stored in the database (`assistant.db`): SQLite by default, PostgreSQL when configured."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import insert, select, update

from assistant.db import Database, FeedbackRow
from assistant.errors import FeedbackNotFound
from assistant.types import FeedbackRequest, FeedbackUpdate

FIELDS = ("id", "created_at", "question", "answer", "rating", "comment")


class FeedbackStore:
    """Ratings, one row per rated answer (a later comment or flipped thumb updates it). Pass a `Database`, or a
    path to open that SQLite file."""

    def __init__(self, database: Database | Path) -> None:
        self._owned = not isinstance(database, Database)
        self.db = Database(f"sqlite:///{Path(database).expanduser().resolve()}") if self._owned else database  # type: ignore[arg-type]

    def add(self, feedback: FeedbackRequest) -> int:
        """Store one rating; returns its id."""
        values = feedback.model_dump(include={"question", "answer", "rating", "comment"})
        with self.db.session() as session:
            inserted = session.execute(insert(FeedbackRow).values(created_at=time.time(), **values))
            return int(inserted.inserted_primary_key[0])  # type: ignore[index]

    def update(self, feedback_id: int, change: FeedbackUpdate) -> None:
        """Flip a stored rating or attach a comment to it; raises `FeedbackNotFound` for an unknown id."""
        values = change.model_dump(exclude_none=True)
        with self.db.session() as session:
            if session.get(FeedbackRow, feedback_id) is None:
                raise FeedbackNotFound(f"no feedback with id {feedback_id}")
            if values:
                session.execute(update(FeedbackRow).where(FeedbackRow.id == feedback_id).values(**values))

    def export(self) -> Iterator[dict]:
        """Every stored rating, oldest first."""
        with self.db.session() as session:
            rows = session.execute(select(*(getattr(FeedbackRow, f) for f in FIELDS)).order_by(FeedbackRow.id)).all()
        for row in rows:
            yield dict(zip(FIELDS, row, strict=True))

    def export_jsonl(self) -> Iterator[str]:
        """`export` as JSON lines."""
        for row in self.export():
            yield json.dumps(row, ensure_ascii=False)

    def close(self) -> None:
        """Close the database when this store opened it."""
        if self._owned:
            self.db.close()
