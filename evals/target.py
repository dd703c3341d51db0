"""What the evals talk to: the engine in-process, or a running deployment over HTTP."""

from __future__ import annotations

from typing import Protocol

import httpx

from assistant.factory import Resources
from assistant.types import Answer, AskRequest, Chunk


class EvalTarget(Protocol):
    """An assistant under evaluation."""

    name: str

    def ask(self, request: AskRequest) -> Answer: ...

    def search(self, query: str, k: int) -> list[str]: ...

    def chunk(self, chunk_id: str) -> Chunk | None: ...


class InProcessTarget:
    """The engine, retriever and index of this process."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.name = f"in-process:{resources.engine.name}"

    def ask(self, request: AskRequest) -> Answer:
        return self.resources.engine.answer(request)

    def search(self, query: str, k: int) -> list[str]:
        return [p.text for p in self.resources.retriever.search(query, k)]

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.resources.index.get_chunk(chunk_id)


class HttpTarget:
    """A deployment reached through its HTTP API."""

    def __init__(self, url: str, api_key: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=120)
        self.name = f"http:{url}"
        self._chunks: dict[str, Chunk | None] = {}

    def ask(self, request: AskRequest) -> Answer:
        response = self.client.post("/v1/ask", json=request.model_dump(exclude_none=True))
        response.raise_for_status()
        return Answer.model_validate(response.json())

    def search(self, query: str, k: int) -> list[str]:
        response = self.client.post("/v1/search", json={"query": query, "k": k})
        response.raise_for_status()
        return [r["text"] for r in response.json()["results"]]

    def chunk(self, chunk_id: str) -> Chunk | None:
        if chunk_id not in self._chunks:
            response = self.client.get(f"/v1/sources/{chunk_id}")
            self._chunks[chunk_id] = Chunk.model_validate(response.json()["chunk"]) if response.is_success else None
        return self._chunks[chunk_id]
