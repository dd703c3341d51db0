"""PostgreSQL goes away (or is not there yet): answers keep working, feedback and conversations answer 503 with
Retry-After, and both come back on their own when PostgreSQL does."""

from __future__ import annotations

import time

import httpx

from assistant.api.main import create_app
from assistant.factory import Resources
from conftest import LiveServer, with_settings
from tests.services import PostgresServer

QUESTION = {"question": "How do we handle the Better Care Fund tension?"}
FEEDBACK = {"question": "q", "answer": "a", "rating": "up"}
TURNS = {"turns": [{"role": "user", "content": "hello", "answer": None}]}


def until_status(call, status: int, timeout: float = 30.0) -> httpx.Response:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        response = call()
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "storage_unavailable" and int(response.headers["retry-after"]) > 0
    assert "Traceback" not in response.text


def test_postgres_down_at_start_then_killed_then_back(report_resources: Resources) -> None:
    server = PostgresServer()  # its port is chosen now; it is not started yet
    settings = with_settings(
        report_resources.settings, database_url=server.url, database_timeout_s=2, rate_limit="100000/minute"
    )
    try:
        with LiveServer(create_app(settings, report_resources)) as api, httpx.Client(base_url=api.url, timeout=30) as c:
            # The API started without its database: it is ready, answers, and says 503 only where it must.
            assert c.get("/readyz").status_code == 200
            assert c.post("/v1/ask", json=QUESTION).status_code == 200
            assert_unavailable(c.post("/v1/feedback", json=FEEDBACK))
            assert_unavailable(c.put("/v1/conversations/pg-test-1", json=TURNS))

            server.start()  # the schema is migrated on first use
            assert until_status(lambda: c.post("/v1/feedback", json=FEEDBACK), 201).status_code == 201
            assert c.put("/v1/conversations/pg-test-1", json=TURNS).status_code == 200

            server.kill()
            started = time.monotonic()
            assert c.post("/v1/ask", json=QUESTION).status_code == 200
            assert_unavailable(c.post("/v1/feedback", json=FEEDBACK))
            assert_unavailable(c.get("/v1/conversations/pg-test-1"))
            assert time.monotonic() - started < 10  # fails fast, not after the pool's default 30 s
            assert c.get("/readyz").status_code == 200

            server.start()  # same data dir and port: pooled connections are dead, and are replaced
            assert until_status(lambda: c.post("/v1/feedback", json=FEEDBACK), 201).status_code == 201
            saved = c.get("/v1/conversations/pg-test-1")
            assert saved.status_code == 200 and saved.json()["turns"] == TURNS["turns"]
            rows = list(api.server.config.app.state.feedback.export())  # type: ignore[attr-defined]
            assert len(rows) == 2
    finally:
        server.cleanup()
