"""A local HTTP server that speaks the Slack Web API methods the bot uses, and records every call.

It stands in for Slack's servers (which cannot be reached here); the bot's real slack_sdk client talks to it
through LVA_SLACK_API_URL.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from conftest import free_port

BOT_USER = "UBOT"


class FakeSlack:
    """Records (method, params); answers like Slack."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.thread_messages: list[dict[str, Any]] = []
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _params(self) -> dict[str, Any]:
                url = urlparse(self.path)
                params: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if raw:
                    if "json" in (self.headers.get("content-type") or ""):
                        params.update(json.loads(raw))
                    else:
                        params.update({k: v[0] for k, v in parse_qs(raw).items()})
                return params

            def _handle(self) -> None:
                method = urlparse(self.path).path.rsplit("/", 1)[-1]
                params = self._params()
                with fake._lock:
                    fake.calls.append((method, params))
                body = json.dumps(fake.reply(method, params)).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _handle  # noqa: N815 - the stdlib's names
            do_POST = _handle  # noqa: N815

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1", "user": "lva", "team": "t"}
        if method == "chat.postMessage":
            ts = f"{1700000000 + next(self._ts)}.000100"
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "conversations.replies":
            return {"ok": True, "messages": self.thread_messages, "has_more": False}
        return {"ok": True}

    def methods(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for method, params in self.calls if method == name]

    def wait_for(self, name: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.methods(name)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} {name} call(s), saw {[m for m, _ in self.calls]}")

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
        self.thread_messages = []

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
