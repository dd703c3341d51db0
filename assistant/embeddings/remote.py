"""Embeddings from a server speaking OpenAI's `/v1/embeddings` (vLLM, Text Embeddings Inference, Ollama, the
llama.cpp server, OpenAI): batched, a few requests in flight, retried with backoff on 429, 5xx and lost connections.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import numpy as np
from langchain_core.embeddings import Embeddings
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from assistant.errors import EmbeddingsUnavailable

if TYPE_CHECKING:
    from openai import OpenAI

MAX_RETRY_AFTER_S = 30.0


def base_url(url: str) -> str:
    """The OpenAI base URL: `http://host:port` becomes `http://host:port/v1`, as every server here serves it."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise EmbeddingsUnavailable(f"LVA_EMBEDDINGS_URL must look like http://host:port/v1, got {url!r}")
    return url.rstrip("/") if parsed.path.strip("/") else url.rstrip("/") + "/v1"


def _retryable(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError):  # refused, reset, timed out
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code == 429 or exc.status_code >= 500)


class RemoteEmbeddings(Embeddings):
    """Vectors from an OpenAI-compatible embeddings endpoint, L2-normalised like the local model's."""

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        batch_size: int = 32,
        timeout_s: float = 30.0,
        max_retries: int = 4,
        concurrency: int = 4,
        backoff_s: float = 0.5,
    ) -> None:
        self.url = base_url(url)
        self.model_name = model
        self.api_key = api_key or "not-needed"
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.concurrency = concurrency
        self.backoff_s = backoff_s
        self.texts_embedded = 0
        self._dimension: int | None = None
        self._client: OpenAI | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> OpenAI:
        """One HTTP client (a connection pool), built on first use; its own retries are off, ours apply."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from openai import OpenAI

                    self._client = OpenAI(
                        base_url=self.url, api_key=self.api_key, timeout=self.timeout_s, max_retries=0
                    )
        return self._client

    @property
    def dimension(self) -> int:
        """Length of the server's vectors (one small request the first time, unless a batch already told us)."""
        if self._dimension is None:
            self._dimension = len(self._embed_batch(["dimension probe"])[0])
        return self._dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts, `batch_size` per request and up to `concurrency` requests at once, in order."""
        if not texts:
            return []
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        if len(batches) == 1 or self.concurrency == 1:
            results = [self._embed_batch(batch) for batch in batches]
        else:
            pool = ThreadPoolExecutor(min(self.concurrency, len(batches)), thread_name_prefix="lva-embed")
            try:
                futures = [pool.submit(self._embed_batch, batch) for batch in batches]
                results = [future.result() for future in futures]
            finally:
                pool.shutdown(wait=True, cancel_futures=True)  # after a failure, send nothing more
        self.texts_embedded += len(texts)
        return [vector for batch in results for vector in batch]

    def embed_query(self, text: str) -> list[float]:
        """Embed one query. Someone is waiting for it, so it is retried once at most."""
        return self._embed_batch([text], retries=min(self.max_retries, 1))[0]

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, or the server's `Retry-After` when it sends one (capped)."""
        exc = state.outcome.exception() if state.outcome else None
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            try:
                return min(float(retry_after), MAX_RETRY_AFTER_S)
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        return wait_exponential_jitter(initial=self.backoff_s, max=MAX_RETRY_AFTER_S, jitter=self.backoff_s)(state)

    def _embed_batch(self, batch: list[str], retries: int | None = None) -> list[list[float]]:
        import openai

        attempts = (self.max_retries if retries is None else retries) + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self.client.embeddings.create(
                        model=self.model_name, input=batch, encoding_format="float"
                    )
        except openai.APIConnectionError as exc:
            raise EmbeddingsUnavailable(
                f"cannot reach the embeddings server at {self.url} ({exc.__class__.__name__}, "
                f"{attempts} attempts); start it, or unset LVA_EMBEDDINGS_URL to embed locally"
            ) from None
        except openai.APIStatusError as exc:
            hint = {
                401: "check LVA_EMBEDDINGS_API_KEY",
                403: "check LVA_EMBEDDINGS_API_KEY",
                404: "check LVA_EMBEDDINGS_MODEL and that LVA_EMBEDDINGS_URL ends in /v1",
            }.get(exc.status_code, "check the server's logs")
            tries = f", {attempts} attempts" if _retryable(exc) else ""
            raise EmbeddingsUnavailable(
                f"the embeddings server at {self.url} answered HTTP {exc.status_code}{tries}; {hint}"
            ) from None
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(batch):
            raise EmbeddingsUnavailable(
                f"the embeddings server at {self.url} returned {len(data)} vectors for {len(batch)} texts"
            )
        vectors = np.asarray([item.embedding for item in data], dtype=np.float32)
        vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        self._dimension = self._dimension or vectors.shape[1]
        return vectors.tolist()
