"""A local HTTP server that speaks OpenAI's `/v1/embeddings`, scripted by each test.

It stands in for vLLM, TEI or OpenAI (none can run here); the real `openai` client talks to it over real HTTP.
Its vectors are deterministic: words feature-hashed into `dimension` signed slots, so a text's nearest vector
is its own and search through it is meaningful.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from conftest import free_port

# Request number (1-based) → an HTTP status to answer instead of vectors, or None to answer normally.
Script = Callable[[int], int | None]


def hashed_vector(text: str, dimension: int) -> list[float]:
    """The fake model: feature hashing of lower-cased words, normalised (a bias slot keeps empty texts valid)."""
    vector = np.zeros(dimension, dtype=np.float64)
    vector[0] = 0.1
    for word in text.lower().split():
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
        vector[1 + h % (dimension - 1)] += 1.0 if h & (1 << 31) else -1.0
    return (vector / np.linalg.norm(vector)).tolist()


class FakeEmbeddings:
    """Answers POST /v1/embeddings; records every request; fails, stalls or limits as a test scripts it."""

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.script: Script = lambda n: None
        self.delay = 0.0
        self.requests: list[dict] = []  # bodies, in arrival order
        self.headers: list[dict[str, str]] = []
        self.failed: list[int] = []  # statuses answered instead of vectors
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with fake._lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    number = len(fake.requests)
                time.sleep(fake.delay)
                status = fake.script(number) if self.path == "/v1/embeddings" else 404
                try:
                    if status:
                        with fake._lock:
                            fake.failed.append(status)
                        message = {"error": {"message": f"scripted {status}", "type": "server_error", "code": status}}
                        self._send(status, message, {"retry-after": "0"} if status == 429 else {})
                    else:
                        self._send(200, fake.answer(body), {})
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test), as a real client would

            def _send(self, status: int, payload: dict, headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, body: dict) -> dict:
        """OpenAI's response shape; items come back in reverse order, as the protocol allows (`index` orders them)."""
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": hashed_vector(text, self.dimension)}
            for i, text in enumerate(texts)
        ]
        tokens = sum(len(t.split()) for t in texts)
        return {
            "object": "list",
            "data": data[::-1],
            "model": body.get("model", ""),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    @property
    def texts(self) -> int:
        """Texts received so far, in all requests."""
        return sum(len(r["input"]) if isinstance(r["input"], list) else 1 for r in self.requests)

    def __enter__(self) -> FakeEmbeddings:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
