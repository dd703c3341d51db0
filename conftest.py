"""Fixtures shared by tests/ and evals/: temp data dirs, an ingested report index, a `chroma run` server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.config import Settings  # noqa: E402
from assistant.embeddings import MiniLMEmbeddings  # noqa: E402
from assistant.factory import Resources, build_engine, build_index  # noqa: E402
from assistant.retrieve import HybridRetriever  # noqa: E402

# Real redis-server and PostgreSQL fixtures (`redis_server`, `postgres`), started on free ports when a test asks.
pytest_plugins = ("tests.services",)
REPO = Path(__file__).resolve().parent
CORPUS = REPO / "corpus"
REPORT = CORPUS / "the-revolution-will-be-improvised.md"
# The report's original extracted text, kept in the repo (tests/data/README.md) so a bare clone passes.
ORIGINAL_REPORT = REPO / "tests" / "data" / "the-revolution-will-be-improvised.txt"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout}s")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: its own data dir, sources relative to the repo, no progress bars."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "project_root": REPO,
        "corpus_dir": CORPUS,
        "embed_progress": False,
        "index_refresh_s": 0.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def with_settings(settings: Settings, **changes: object) -> Settings:
    """A validated copy of settings with some values changed (model_copy would skip validation)."""
    return Settings.model_validate({**settings.model_dump(), **changes})


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> MiniLMEmbeddings:
    """One embedding model for the whole session (it is the slow part to load), on the configured backend
    (`LVA_EMBEDDING_BACKEND`); an ONNX export is made once per session."""
    backend = Settings().embedding_backend
    return MiniLMEmbeddings(progress=False, backend=backend, models_dir=tmp_path_factory.mktemp("models"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh, empty data dir for one test."""
    path = tmp_path / "lva-data"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def report_resources(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbeddings) -> Resources:
    """The report ingested once into an embedded index, with a retriever over it."""
    from ingest.pipeline import ingest

    settings = make_settings(tmp_path_factory.mktemp("report-index"))
    index = build_index(settings)
    ingest(CORPUS, index=index, embedder=embedder, settings=settings)
    retriever = HybridRetriever(index, embedder, settings)
    return Resources(settings, embedder, index, retriever, build_engine(settings, retriever))


class ServerProcess:
    """A real server process a test started, which the test may kill (SIGKILL) or stop (SIGTERM, then SIGKILL)."""

    proc: subprocess.Popen | None = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class ChromaServer(ServerProcess):
    """A real `chroma run` process on a fixed port and path, which a test may kill and start again."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ChromaServer:
        chroma = shutil.which("chroma", path=str(VENV_BIN)) or shutil.which("chroma")
        assert chroma, "the chroma CLI is not installed"
        self.path.mkdir(parents=True, exist_ok=True)
        log = open(self.path / "server.log", "ab")  # noqa: SIM115 - closed with the process
        command = [chroma, "run", "--path", str(self.path / "db"), "--port", str(self.port)]
        self.proc = subprocess.Popen(command, stdout=log, stderr=log)
        wait_for_port(self.port, 60, self.proc)
        return self


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on a free port; yields its URL and stops it afterwards."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    try:
        yield server.url
    finally:
        server.stop()


class LiveServer:
    """A uvicorn server running an app in a background thread, on a free port."""

    def __init__(self, app: object) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture(scope="session")
def api_server(report_resources: Resources) -> Iterator[str]:
    """The real API over the report index, served by uvicorn on a free port; yields its URL."""
    from assistant.api.main import create_app

    settings = with_settings(report_resources.settings, rate_limit="100000/minute")
    with LiveServer(create_app(settings, report_resources)) as server:
        yield server.url


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the groundedness suite (`pytest evals/ --engine openai --llm-base-url … --llm-model …`)."""
    group = parser.getgroup("lva-evals")
    group.addoption("--engine", default="extractive", choices=["extractive", "openai", "llamacpp"])
    group.addoption("--llm-base-url", default=None, help="OpenAI-compatible base URL for --engine openai")
    group.addoption("--llm-model", default=None, help="model name (openai) or model key/GGUF (llamacpp)")
    group.addoption("--api-url", default=None, help="evaluate a running deployment over HTTP instead")
    group.addoption("--api-key", default=None, help="bearer key for --api-url")
    group.addoption(
        "--untuned",
        action="store_true",
        help="evaluate the engine without `lva tune`'s models (packaged encoder, hand rules): the pre-model baseline",
    )
