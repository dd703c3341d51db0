"""Faults: a Chroma server killed under load, ingest beside live queries, two ingests at once, an unusable
data dir at start-up. The service answers 503 (never 500, never a hang) and recovers by itself."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from filelock import FileLock, Timeout

from assistant.api.main import create_app
from assistant.embeddings import MiniLMEmbeddings
from assistant.factory import build_resources
from conftest import CORPUS, VENV_BIN, ChromaServer, LiveServer, make_settings
from ingest.pipeline import ingest

BCF = "How do we handle the Better Care Fund tension?"


class Hammer:
    """Clients asking questions in a loop until stopped; records every status and duration."""

    def __init__(self, url: str, clients: int) -> None:
        self.url = url
        self.results: list[tuple[int, float]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    status = client.post("/v1/ask", json={"question": BCF}).status_code
                except httpx.HTTPError:
                    status = -1
                self.results.append((status, time.monotonic() - started))

    def __enter__(self) -> Hammer:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma").start()
    yield server
    server.stop()


def test_chroma_server_killed_during_load_gives_503_then_recovers(
    chroma: ChromaServer, tmp_path: Path, embedder: MiniLMEmbeddings
) -> None:
    settings = make_settings(tmp_path / "data", chroma_url=chroma.url, chroma_timeout_s=2.0, rate_limit="100000/minute")
    resources = build_resources(settings)
    resources.embedder = embedder
    resources.retriever.embedder = embedder
    ingest(CORPUS, index=resources.index, embedder=embedder, settings=settings)
    with LiveServer(create_app(settings, resources)) as api, Hammer(api.url, 4) as hammer:
        time.sleep(1.0)
        chroma.kill()
        time.sleep(3.0)
        down = httpx.get(f"{api.url}/readyz", timeout=10)
        ask = httpx.post(f"{api.url}/v1/ask", json={"question": BCF}, timeout=10)
        chroma.start()  # same path and port: the data is still there
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and httpx.get(f"{api.url}/readyz", timeout=10).status_code != 200:
            time.sleep(0.5)
        back = httpx.post(f"{api.url}/v1/ask", json={"question": BCF}, timeout=10)
    statuses = {status for status, _ in hammer.results}
    assert down.status_code == 503 and down.json()["ready"] is False
    assert ask.status_code == 503 and ask.json()["error"] == "index_unavailable" and ask.headers["retry-after"]
    assert statuses <= {200, 503}, statuses
    assert 503 in statuses and 200 in statuses
    assert max(duration for _, duration in hammer.results) < 2.0 * 2 + 3  # never hangs past the timeout
    assert back.status_code == 200 and back.json()["answerable"]


def test_ingest_while_eight_clients_query(tmp_path: Path, embedder: MiniLMEmbeddings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report.md").write_text((CORPUS / "the-revolution-will-be-improvised.md").read_text("utf-8"))
    settings = make_settings(tmp_path / "data", project_root=tmp_path, rate_limit="100000/minute")
    resources = build_resources(settings)
    ingest(docs, index=resources.index, embedder=embedder, settings=settings)
    (docs / "extra.md").write_text(
        "## Pooled budgets\n\nThe pilot pooled budgets for frailty services across three boroughs.\n"
    )
    env = {**os.environ, "LVA_DATA_DIR": str(tmp_path / "data"), "LVA_PROJECT_ROOT": str(tmp_path)}
    with LiveServer(create_app(settings, resources)) as api, Hammer(api.url, 8) as hammer:
        time.sleep(0.5)
        result = subprocess.run(
            [str(VENV_BIN / "lva"), "ingest", str(docs)], env=env, capture_output=True, text=True, timeout=300
        )
        time.sleep(1.0)
        found = httpx.post(f"{api.url}/v1/search", json={"query": "frailty services pooled budgets", "k": 1}).json()
    assert result.returncode == 0, result.stderr
    statuses = [status for status, _ in hammer.results]
    assert len(statuses) > 50 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert "frailty" in found["results"][0]["text"]


def test_two_ingests_at_once_one_refuses_and_the_index_stays_whole(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    paragraphs = [
        f"## Topic {i}\n\nPartnership {i} reviewed its shared plan and agreed point {i}. It took time."
        for i in range(1500)
    ]
    (docs / "many.md").write_text("\n\n".join(paragraphs) + "\n")
    env = {
        **os.environ,
        "LVA_DATA_DIR": str(tmp_path / "data"),
        "LVA_PROJECT_ROOT": str(tmp_path),
        "LVA_EMBED_PROGRESS": "false",
    }
    first = subprocess.Popen([str(VENV_BIN / "lva"), "ingest", str(docs)], env=env, stderr=subprocess.PIPE, text=True)
    # Start the second only once the first holds the lock (a fixed sleep raced a fast machine's whole ingest).
    lock_file = tmp_path / "data" / "ingest.lock"
    probe = FileLock(str(lock_file), timeout=0)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        if lock_file.exists():
            try:
                probe.acquire()
                probe.release()
            except Timeout:
                break
        time.sleep(0.02)
    assert first.poll() is None, "the first ingest ended before it was seen holding the lock"
    second = subprocess.run(
        [str(VENV_BIN / "lva"), "ingest", str(docs)], env=env, capture_output=True, text=True, timeout=300
    )
    assert first.wait(300) == 0
    assert second.returncode == 2 and "another ingest is running" in second.stderr
    index = build_resources(make_settings(tmp_path / "data")).index
    assert index.count() > 1500 and len(index.all_chunks()) == 1500


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """A read-only file system and a full one, mounted for the test."""
    ro, full = tmp_path / "ro", tmp_path / "full"
    ro.mkdir()
    full.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], check=True)
    (full / "data").mkdir()
    with open(full / "filler", "wb") as filler, contextlib.suppress(OSError):
        filler.write(b"\0" * 128 * 1024)  # fills the disk, as intended
    try:
        yield {"read-only": ro / "data", "disk full": full / "data"}
    finally:
        subprocess.run(["umount", str(ro)], check=False)
        subprocess.run(["umount", str(full)], check=False)


@pytest.mark.parametrize("case", ["read-only", "disk full"])
@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["ingest"]])
def test_unusable_data_dir_is_a_clear_error_naming_the_path(mounted, case: str, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    data = mounted[case]
    env = {**os.environ, "LVA_DATA_DIR": str(data)}
    result = subprocess.run([str(VENV_BIN / "lva"), *command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert str(data) in result.stderr and "not writable" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
