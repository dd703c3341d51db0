"""A local HTTP server that speaks the OpenAI chat-completions protocol, scripted by each test.

It stands in for a hosted LLM (which cannot run here); the real `langchain-openai` client talks to it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import free_port

Reply = Callable[[list[dict]], str]


def passages_in(messages: list[dict]) -> dict[int, str]:
    """The numbered passages the engine put in its prompt."""
    text = messages[-1]["content"]
    return {int(n): body for n, body in re.findall(r"^\[(\d+)\] \([^)]*\) (.*)$", text, re.M)}


class FakeOpenAI:
    """Answers /v1/chat/completions with `reply(messages)`, after `delay` seconds; streams when asked."""

    def __init__(self) -> None:
        self.reply: Reply = lambda messages: ""
        self.delay = 0.0
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                fake.requests.append(body)
                time.sleep(fake.delay)
                content = fake.reply(body.get("messages", []))
                try:
                    if body.get("stream"):
                        self._stream(content)
                    else:
                        self._json(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test), as a real client would

            def _json(self, content: str) -> None:
                payload = json.dumps(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": "fake",
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, content: str) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                words = re.findall(r"\S+\s*", content)
                for word in words:
                    chunk = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": "fake",
                        "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
