"""Feedback and saved conversations on SQLite and on a real PostgreSQL: migrations, stores, the HTTP routes and
`lva feedback export`, each run against both."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from assistant.api.main import create_app
from assistant.conversations import ConversationStore
from assistant.db import Database, database_url
from assistant.factory import Resources
from assistant.feedback import FeedbackStore
from assistant.types import ConversationTurn, FeedbackRequest
from conftest import VENV_BIN, make_settings, with_settings
from tests.services import PostgresServer, fresh_database

ANSWER = {"answer": "Pool the budgets [1].", "answerable": True, "citations": [{"n": 1}], "engine": "extractive"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lva.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return database_url(make_settings(tmp_path, database_url=fresh_database(server, "t" + uuid.uuid4().hex[:12])))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.close()


def test_migrations_create_both_tables_and_are_idempotent(db: Database) -> None:
    db.upgrade()
    db.upgrade()  # a second worker, or a restart: nothing to do, nothing fails
    tables = set(inspect(db.engine).get_table_names())
    assert {"feedback", "conversations", "alembic_version"} <= tables


def test_feedback_round_trip(db: Database) -> None:
    store = FeedbackStore(db)
    first = store.add(FeedbackRequest(question="q1", answer="a1", rating="up", comment="useful"))
    second = store.add(FeedbackRequest(question="q2", answer="a2", rating="down"))
    rows = list(store.export())
    assert second > first and [r["question"] for r in rows] == ["q1", "q2"]
    assert rows[0]["comment"] == "useful" and rows[1]["comment"] is None and rows[1]["rating"] == "down"
    assert json.loads(next(store.export_jsonl()))["answer"] == "a1"


def test_conversations_save_replace_get_delete(db: Database) -> None:
    store = ConversationStore(db)
    assert store.get("missing-conversation") is None
    turns = [
        ConversationTurn(role="user", content="How?"),
        ConversationTurn(role="assistant", content="So.", answer=ANSWER),
    ]
    saved = store.save("conv-0001", turns)
    again = store.get("conv-0001")
    assert again is not None and again.turns == turns and again.updated_at == pytest.approx(saved.updated_at)
    store.save("conv-0001", turns[:1])  # replaces, never appends
    assert len(store.get("conv-0001").turns) == 1  # type: ignore[union-attr]
    store.delete("conv-0001")
    store.delete("conv-0001")  # deleting twice is fine
    assert store.get("conv-0001") is None


def test_an_old_feedback_file_is_adopted_with_its_rows(tmp_path: Path) -> None:
    """Data dirs from before Alembic hold feedback.sqlite3 with a hand-made table: the migration keeps it."""
    path = tmp_path / "feedback.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, question TEXT NOT NULL,"
        " answer TEXT NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')), comment TEXT)"
    )
    old.execute("INSERT INTO feedback (created_at, question, answer, rating) VALUES (1.0, 'old q', 'old a', 'up')")
    old.commit()
    old.close()
    store = FeedbackStore(path)
    store.add(FeedbackRequest(question="new q", answer="new a", rating="down"))
    assert [r["question"] for r in store.export()] == ["old q", "new q"]
    store.close()


def test_feedback_export_cli_is_the_same_on_both(db_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "cli-data"
    env = {**os.environ, "LVA_DATA_DIR": str(data_dir)}
    overrides = {}
    if db_url.startswith("postgresql"):
        env["LVA_DATABASE_URL"] = overrides["database_url"] = db_url.replace("postgresql+psycopg://", "postgresql://")
    upgrade = subprocess.run([str(VENV_BIN / "lva"), "db", "upgrade"], env=env, capture_output=True, text=True)
    assert upgrade.returncode == 0, upgrade.stderr
    db = Database.from_settings(make_settings(data_dir, **overrides))
    FeedbackStore(db).add(FeedbackRequest(question="Ünïcode?", answer="yes", rating="up", comment=None))
    db.close()
    out = subprocess.run([str(VENV_BIN / "lva"), "feedback", "export"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["question"] == "Ünïcode?" and rows[0]["rating"] == "up"
    assert set(rows[0]) == {"id", "created_at", "question", "answer", "rating", "comment"}


# --- the HTTP routes ------------------------------------------------------------------------------------------


@pytest.fixture
def api(db_url: str, report_resources: Resources, tmp_path: Path) -> Iterator[TestClient]:
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    changes: dict[str, object] = {"rate_limit": "100000/minute", "data_dir": tmp_path / "api-data"}
    if url.startswith("postgresql"):
        changes["database_url"] = url
    settings = with_settings(report_resources.settings, **changes)
    with TestClient(create_app(settings, report_resources)) as client:
        yield client


def test_conversation_routes(api: TestClient) -> None:
    body = {
        "turns": [
            {"role": "user", "content": "How?", "answer": None},
            {"role": "assistant", "content": "So.", "answer": ANSWER},
        ]
    }
    missing = api.get("/v1/conversations/abcdefgh")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found" and missing.json()["detail"]
    saved = api.put("/v1/conversations/abcdefgh", json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["id"] == "abcdefgh" and saved.json()["turns"] == body["turns"]
    assert isinstance(saved.json()["updated_at"], float)
    assert api.get("/v1/conversations/abcdefgh").json() == saved.json()
    assert api.delete("/v1/conversations/abcdefgh").status_code == 204
    assert api.get("/v1/conversations/abcdefgh").status_code == 404


@pytest.mark.parametrize("conversation_id", ["short", "has space__", "x" * 65, "semi;colon1", "..%2F..%2Fetc"])
def test_bad_conversation_ids_are_4xx_with_the_error_shape(api: TestClient, conversation_id: str) -> None:
    response = api.put(f"/v1/conversations/{conversation_id}", json={"turns": []})
    assert 400 <= response.status_code < 500 and set(response.json()) == {"error", "detail"}


def test_conversation_bodies_are_bounded(api: TestClient) -> None:
    turn = {"role": "user", "content": "q", "answer": None}
    assert api.put("/v1/conversations/abcdefgh", json={"turns": [turn] * 101}).status_code == 422
    assert api.put("/v1/conversations/abcdefgh", json={"turns": [{**turn, "role": "system"}]}).status_code == 422
    big = {"turns": [{**turn, "content": "x" * 19_000}] * 4}
    assert api.put("/v1/conversations/abcdefgh", json=big).status_code == 413
    assert api.put("/v1/conversations/abcdefgh", json={"turns": [turn] * 100}).status_code == 200


def test_feedback_route_stores_in_the_configured_database(api: TestClient) -> None:
    receipt = api.post("/v1/feedback", json={"question": "q", "answer": "a", "rating": "up"})
    assert receipt.status_code == 201
    assert [r["id"] for r in api.app.state.feedback.export()] == [receipt.json()["id"]]  # type: ignore[attr-defined]


def test_the_shared_client_saves_reads_and_deletes_conversations(api_server: str) -> None:
    from ui.client import AssistantClient

    client = AssistantClient(api_server).for_user("session-1")
    turns = [{"role": "user", "content": "How?"}, {"role": "assistant", "content": "So.", "answer": ANSWER}]
    conversation_id = "ui-" + uuid.uuid4().hex
    assert client.get_conversation(conversation_id) is None
    saved = client.save_conversation(conversation_id, turns)
    assert saved["turns"][1]["answer"] == ANSWER and saved["turns"][0]["answer"] is None
    assert client.get_conversation(conversation_id) == saved
    client.delete_conversation(conversation_id)
    assert client.get_conversation(conversation_id) is None
