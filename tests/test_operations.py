"""Operations, on a real `lva serve` process: JSON logs with request ids and stage timings, Prometheus metrics
summed over workers, and a graceful shutdown that lets requests in flight finish."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.embeddings import MiniLMEmbeddings
from assistant.factory import build_index
from conftest import CORPUS, VENV_BIN, free_port, make_settings
from ingest.pipeline import ingest
from tests.fake_openai import FakeOpenAI, passages_in

BCF = "How do we handle the Better Care Fund tension?"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbeddings) -> Path:
    data = tmp_path_factory.mktemp("ops-data")
    settings = make_settings(data)
    ingest(CORPUS, index=build_index(settings), embedder=embedder, settings=settings)
    return data


def serve(data: Path, log: Path, workers: int = 1, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {**os.environ, "LVA_DATA_DIR": str(data), "LVA_RATE_LIMIT": "100000/minute", **env}
    handle = log.open("wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "lva"), "serve", "--port", str(port), "--workers", str(workers)],
        env=environment,
        stdout=handle,
        stderr=handle,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"lva serve did not become ready: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def two_workers(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("ops-log") / "serve.log"
    proc, url = serve(data_dir, log, workers=2)
    yield url, log
    proc.terminate()
    proc.wait(30)


def test_logs_are_json_with_request_ids_and_stage_timings(two_workers: tuple[str, Path]) -> None:
    url, log = two_workers
    response = httpx.post(f"{url}/v1/ask", json={"question": BCF}, headers={"X-Request-ID": "trace-me-123"}, timeout=30)
    assert response.headers["x-request-id"] == "trace-me-123"
    time.sleep(0.5)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    mine = [r for r in records if r.get("request_id") == "trace-me-123"]
    assert {r["message"] for r in mine} >= {"answer", "request"}
    answer = next(r for r in mine if r["message"] == "answer")
    assert set(answer["timings_ms"]) == {"retrieve", "answer", "total"}
    access = next(r for r in mine if r["message"] == "request")
    assert access["status"] == 200 and access["path"] == "/v1/ask" and access["duration_ms"] > 0
    non_json = [line for line in log.read_text().splitlines() if line.strip() and not line.startswith("{")]
    assert not non_json, non_json[:3]


def test_metrics_count_requests_and_refusals_across_workers(two_workers: tuple[str, Path]) -> None:
    url, _ = two_workers

    def total(text: str, prefix: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))

    before = httpx.get(f"{url}/metrics").text
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(6):
            client.post("/v1/ask", json={"question": BCF})
        for _ in range(4):
            client.post("/v1/ask", json={"question": "What is the capital of France?"})
    after = httpx.get(f"{url}/metrics").text
    asked = 'lva_requests_total{method="POST",route="/v1/ask",status="200"}'
    assert total(after, asked) - total(before, asked) == 10
    refused = 'lva_answers_total{engine="extractive",outcome="not_covered"}'
    assert total(after, refused) - total(before, refused) == 4
    assert "lva_request_seconds_bucket" in after


def test_graceful_shutdown_lets_requests_in_flight_finish(data_dir: Path, tmp_path: Path) -> None:
    with FakeOpenAI() as slow_llm:
        slow_llm.delay = 3.0
        slow_llm.reply = lambda m: f"The report notes that {passages_in(m)[1]} [1]" if passages_in(m) else "ok"
        proc, url = serve(
            data_dir,
            tmp_path / "serve.log",
            LVA_LLM="openai",
            LVA_LLM_BASE_URL=slow_llm.url,
            LVA_LLM_MODEL="fake",
            LVA_LLM_TIMEOUT_S="20",
        )
        result: dict[str, httpx.Response] = {}
        thread = threading.Thread(
            target=lambda: result.setdefault("r", httpx.post(f"{url}/v1/ask", json={"question": BCF}, timeout=30))
        )
        thread.start()
        time.sleep(1.0)  # the request is now waiting on the model
        proc.send_signal(signal.SIGTERM)
        thread.join(30)
        code = proc.wait(30)
    assert result["r"].status_code == 200 and result["r"].json()["answerable"]
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM once it has shut down cleanly
    assert "Application shutdown complete" in (tmp_path / "serve.log").read_text()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/healthz", timeout=2)
