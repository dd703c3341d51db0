"""One HTTP client of the assistant's API, shared by the Streamlit UI and the Slack bot.

Every failure becomes an `ApiError` whose `message` a person can act on; no client shows a traceback.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
from httpx_sse import SSEError, connect_sse

USER_HEADER = "X-LVA-User"


class ApiError(Exception):
    """A failed call, with a message for people and a short kind for code."""

    kind = "failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiUnavailable(ApiError):
    kind = "unavailable"


class ApiUnauthorized(ApiError):
    kind = "unauthorized"


class ApiRateLimited(ApiError):
    kind = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ApiTimeout(ApiError):
    kind = "timeout"


class ApiRejected(ApiError):
    kind = "rejected"


class AssistantClient:
    """Typed-enough access to /v1/* and /readyz with friendly errors."""

    def __init__(
        self, base_url: str, api_key: str | None = None, timeout: float = 60.0, user: str | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # Who the end user is (a UI session, a Slack user): the API limits per user for a trusted client key.
        self.headers = {USER_HEADER: user} if user else {}
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    # --- calls ------------------------------------------------------------------------------------

    def ready(self) -> dict[str, Any]:
        """/readyz, whether ready (200) or not (503)."""
        response = self._send("GET", "/readyz", allow={503})
        return response.json()

    def ask(self, question: str, history: list[dict] | None = None, filters: dict | None = None) -> dict[str, Any]:
        """A whole answer from /v1/ask."""
        return self._send("POST", "/v1/ask", json=_ask_body(question, history, filters)).json()

    def ask_stream(
        self, question: str, history: list[dict] | None = None, filters: dict | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, data) pairs from /v1/ask/stream: meta, delta…, done (or error)."""
        try:
            body = _ask_body(question, history, filters)
            with connect_sse(self.http, "POST", "/v1/ask/stream", json=body, headers=self.headers) as source:
                if source.response.status_code != 200:
                    source.response.read()
                    _raise_for(source.response)
                for event in source.iter_sse():
                    data = json.loads(event.data) if event.data else {}
                    if event.event == "error":
                        raise ApiError(_friendly(data.get("status", 500), data.get("detail", "the assistant failed")))
                    yield event.event, data
        except SSEError:
            raise ApiError("The assistant sent an unexpected reply. Please try again.") from None
        except httpx.TimeoutException:
            raise ApiTimeout("The assistant took too long to answer. Please try again in a moment.") from None
        except httpx.TransportError:
            raise ApiUnavailable(_unavailable(self.base_url)) from None

    def search(self, query: str, k: int = 5, filters: dict | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"query": query, "k": k}
        if filters:
            body["filters"] = filters
        return self._send("POST", "/v1/search", json=body).json()["results"]

    def source(self, chunk_id: str, start: int | None = None, end: int | None = None) -> dict[str, Any]:
        """The chunk's section with the span to highlight."""
        params = {k: v for k, v in {"start": start, "end": end}.items() if v is not None}
        return self._send("GET", f"/v1/sources/{chunk_id}", params=params).json()

    def sections(self) -> list[dict[str, Any]]:
        """The table of contents."""
        return self._send("GET", "/v1/sections").json()

    def feedback(self, question: str, answer: str, rating: str, comment: str | None = None) -> int:
        body = {"question": question, "answer": answer, "rating": rating, "comment": comment or None}
        return int(self._send("POST", "/v1/feedback", json=body).json()["id"])

    def update_feedback(self, feedback_id: int, rating: str | None = None, comment: str | None = None) -> None:
        """Flip a stored rating or attach a comment to it."""
        body = {k: v for k, v in {"rating": rating, "comment": comment}.items() if v is not None}
        self._send("PATCH", f"/v1/feedback/{feedback_id}", json=body)

    def for_user(self, user: str | None) -> AssistantClient:
        """This client (same connections) acting for one end user: its calls carry `X-LVA-User`."""
        view = copy.copy(self)
        view.headers = {**self.headers, USER_HEADER: user} if user else dict(self.headers)
        return view

    def get_conversation(self, conversation_id: str) -> dict[str, Any] | None:
        """The saved conversation `{"id", "turns", "updated_at"}`, or None when there is none."""
        response = self._send("GET", f"/v1/conversations/{conversation_id}", allow={404})
        return None if response.status_code == 404 else response.json()

    def save_conversation(self, conversation_id: str, turns: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace the saved conversation with `turns` (`{"role", "content", "answer"}`, at most 100)."""
        body = {"turns": [{"role": t["role"], "content": t["content"], "answer": t.get("answer")} for t in turns]}
        return self._send("PUT", f"/v1/conversations/{conversation_id}", json=body).json()

    def delete_conversation(self, conversation_id: str) -> None:
        """Forget the saved conversation."""
        self._send("DELETE", f"/v1/conversations/{conversation_id}")

    # --- plumbing ---------------------------------------------------------------------------------

    def _send(self, method: str, path: str, allow: set[int] | None = None, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, headers=self.headers, **kwargs)
        except httpx.TimeoutException:
            raise ApiTimeout("The assistant took too long to answer. Please try again in a moment.") from None
        except httpx.TransportError:
            raise ApiUnavailable(_unavailable(self.base_url)) from None
        if response.is_success or response.status_code in (allow or set()):
            return response
        _raise_for(response)
        raise AssertionError("unreachable")


def _ask_body(question: str, history: list[dict] | None, filters: dict | None) -> dict[str, Any]:
    body: dict[str, Any] = {"question": question, "history": (history or [])[-20:]}
    if filters:
        body["filters"] = filters
    return body


def _unavailable(url: str) -> str:
    return f"Can't reach the assistant at {url}. Check that it is running (`make run` or `lva serve`) and try again."


def _friendly(status: int, detail: object) -> str:
    if status == 401:
        return "The assistant needs a valid API key. Set LVA_API_KEY to one of the server's LVA_API_KEYS."
    if status == 429:
        return "Too many questions in a short time. Please wait a moment and ask again."
    if status == 503:
        return "The assistant isn't ready yet (its index is loading or unavailable). Please try again shortly."
    if status in (400, 413, 422):
        text = detail if isinstance(detail, str) else "; ".join(str(d.get("msg", d)) for d in detail or [])  # type: ignore[union-attr]
        return f"That request wasn't accepted: {text}"
    return "Something went wrong on the assistant's side. Please try again."


def _raise_for(response: httpx.Response) -> None:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    message = _friendly(response.status_code, detail)
    if response.status_code == 401:
        raise ApiUnauthorized(message)
    if response.status_code == 429:
        raise ApiRateLimited(message, int(response.headers.get("retry-after", "5") or 5))
    if response.status_code in (400, 404, 413, 422):
        raise ApiRejected(message)
    raise ApiError(message)
