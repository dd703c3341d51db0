"""Answer ratings stored in SQLite under the data dir."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.types import FeedbackRequest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT
)
"""


class FeedbackStore:
    """Append-only feedback table; one connection per store, serialised by a lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")  # several API workers may write at once
        self._db.execute(_SCHEMA)
        self._db.commit()

    def add(self, feedback: FeedbackRequest) -> int:
        """Store one rating; returns its id."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO feedback (created_at, question, answer, rating, comment) VALUES (?, ?, ?, ?, ?)",
                (time.time(), feedback.question, feedback.answer, feedback.rating, feedback.comment),
            )
            self._db.commit()
            return int(cursor.lastrowid or 0)

    def export(self) -> Iterator[dict]:
        """Every stored rating, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, created_at, question, answer, rating, comment FROM feedback ORDER BY id"
            ).fetchall()
        for row in rows:
            yield dict(zip(("id", "created_at", "question", "answer", "rating", "comment"), row, strict=True))

    def export_jsonl(self) -> Iterator[str]:
        """`export` as JSON lines."""
        for row in self.export():
            yield json.dumps(row, ensure_ascii=False)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
