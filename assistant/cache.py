"""The answer cache: identical requests against the same index generation are answered once, from Redis.

The key is a hash of the request as validated (question, history, k, filters), the engine's name, the published
index generation and the shape of `Answer`. A new generation therefore misses at once, however long the TTL; the
old generation's entries simply expire. Whole answers (`/v1/ask`) are cached as the `Answer`; streams
(`/v1/ask/stream`) as the engine's own events, replayed as they came, so the cache needs no knowledge of them
beyond the final `done`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import Counter
from pydantic import ValidationError

from assistant.factory import Engine
from assistant.shared import RedisLink
from assistant.types import Answer, AskRequest

log = logging.getLogger("lva.cache")
CACHE = Counter("lva_answer_cache_total", "Answer cache lookups by result (hit, miss)", ["result"])
_ANSWER_SHAPE = hashlib.sha256(json.dumps(Answer.model_json_schema(), sort_keys=True).encode()).hexdigest()[:12]


class AnswerCache:
    """Values in Redis under `lva:answer:<generation>:<hash>`, with a TTL; any Redis failure is a miss."""

    def __init__(self, link: RedisLink, ttl_s: int, namespace: str = "lva:answer") -> None:
        self.link = link
        self.ttl_s = ttl_s
        self.namespace = namespace

    def key(self, request: AskRequest, engine: str, generation: str, kind: str = "answer") -> str:
        """The cache key of one request (`kind`: answer or stream)."""
        material = json.dumps([request.model_dump(mode="json"), engine, kind, _ANSWER_SHAPE], sort_keys=True)
        return f"{self.namespace}:{generation}:{hashlib.sha256(material.encode()).hexdigest()}"

    def get(self, key: str) -> bytes | None:
        """The stored value, or None (also when Redis is down)."""
        if not self.link.usable():
            return None
        try:
            raw = self.link.client.get(key)
            self.link.succeeded()
            return raw  # type: ignore[return-value]
        except self.link.errors as exc:
            self.link.failed("no answer cache", exc)
            return None

    def put(self, key: str, value: str) -> None:
        """Keep the value for the TTL; a Redis failure only costs the cache."""
        if not self.link.usable():
            return
        try:
            self.link.client.set(key, value, ex=self.ttl_s)
            self.link.succeeded()
        except self.link.errors as exc:
            self.link.failed("no answer cache", exc)


class CachingEngine:
    """An engine whose answers and streams come from the cache when an identical request was answered before."""

    def __init__(self, engine: Engine, cache: AnswerCache, generation: Callable[[], str]) -> None:
        self.engine = engine
        self.name = engine.name
        self.cache = cache
        self.generation = generation

    def _key(self, request: AskRequest, kind: str) -> str | None:
        if not self.cache.link.usable():
            return None
        try:
            return self.cache.key(request, self.name, self.generation(), kind)
        except Exception:  # no index, or the store is down: the engine raises the right error
            return None

    def answer(self, request: AskRequest) -> Answer:
        """From the cache when possible; else from the engine, then cached (fallback answers are not)."""
        key = self._key(request, "answer")
        if key is None:
            return self.engine.answer(request)
        started = time.perf_counter()
        raw = self.cache.get(key)
        cached = _answer(raw) if raw is not None else None
        if cached is not None:
            CACHE.labels("hit").inc()
            return cached.model_copy(update={"timings_ms": {"cache": _ms(started)}})
        if not self.cache.link.usable():  # the lookup just found Redis down: not a miss, no cache at all
            return self.engine.answer(request)
        CACHE.labels("miss").inc()
        answer = self.engine.answer(request)
        if answer.engine == self.name:  # an LLM that fell back to extractive may do better next time
            self.cache.put(key, answer.model_dump_json())
        return answer

    def stream(self, request: AskRequest) -> Iterator[tuple[str, dict]]:
        """A cached stream replayed, or the engine's stream, recorded when it ends with a `done` of this engine."""
        key = self._key(request, "stream")
        if key is None:
            yield from self._passthrough(request)
            return
        started = time.perf_counter()
        raw = self.cache.get(key)
        if raw is not None:
            CACHE.labels("hit").inc()
            for name, data in json.loads(raw):
                if name == "done" and isinstance(data, dict):
                    data = {**data, "timings_ms": {"cache": _ms(started)}}
                yield name, data
            return
        if self.cache.link.usable():
            CACHE.labels("miss").inc()
        events: list[tuple[str, dict]] = []
        inner = self._passthrough(request)
        try:
            for name, data in inner:
                events.append((name, data))
                yield name, data
        finally:
            inner.close()
        last_name, last = events[-1] if events else ("", {})
        if last_name == "done" and isinstance(last, dict) and last.get("engine") == self.name:
            self.cache.put(key, json.dumps(events, ensure_ascii=False))

    def _passthrough(self, request: AskRequest) -> Iterator[tuple[str, dict]]:
        stream = self.engine.stream(request)
        try:
            yield from stream
        finally:
            # A reader that goes away closes this generator: close the engine's too, so a local model is released.
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def __getattr__(self, name: str) -> object:
        # Anything else the engine offers (now or later) is the engine's own.
        return getattr(self.engine, name)


def _answer(raw: bytes) -> Answer | None:
    try:
        return Answer.model_validate_json(raw)
    except ValidationError:  # written by another version of `Answer`: a miss
        return None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
