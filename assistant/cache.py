"""The answer cache: identical requests against the same index generation are answered once, from Redis.

The key is a hash of the request as validated (question, history, k, filters), the engine's name, the published
index generation and the shape of `Answer`. A new generation therefore misses at once, however long the TTL; the
old generation's entries simply expire. Streams are not cached; whole answers (`/v1/ask`) are.
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
    """Answers in Redis under `lva:answer:<generation>:<hash>`, with a TTL."""

    def __init__(self, link: RedisLink, ttl_s: int, namespace: str = "lva:answer") -> None:
        self.link = link
        self.ttl_s = ttl_s
        self.namespace = namespace

    def key(self, request: AskRequest, engine: str, generation: str) -> str:
        """The cache key of one request."""
        material = json.dumps([request.model_dump(mode="json"), engine, _ANSWER_SHAPE], sort_keys=True)
        return f"{self.namespace}:{generation}:{hashlib.sha256(material.encode()).hexdigest()}"

    def get(self, key: str) -> Answer | None:
        """The cached answer, or None (also when Redis is down or the entry no longer fits `Answer`)."""
        if not self.link.usable():
            return None
        try:
            raw = self.link.client.get(key)
            self.link.succeeded()
        except self.link.errors as exc:
            self.link.failed("no answer cache", exc)
            return None
        if raw is None:
            return None
        try:
            return Answer.model_validate_json(raw)
        except ValidationError:
            return None

    def put(self, key: str, answer: Answer) -> None:
        """Keep the answer for the TTL; a Redis failure only costs the cache."""
        if not self.link.usable():
            return
        try:
            self.link.client.set(key, answer.model_dump_json(), ex=self.ttl_s)
            self.link.succeeded()
        except self.link.errors as exc:
            self.link.failed("no answer cache", exc)


class CachingEngine:
    """An engine whose whole answers come from the cache when an identical request was answered before."""

    def __init__(self, engine: Engine, cache: AnswerCache, generation: Callable[[], str]) -> None:
        self.engine = engine
        self.name = engine.name
        self.cache = cache
        self.generation = generation

    def answer(self, request: AskRequest) -> Answer:
        """From the cache when possible; else from the engine, then cached (fallback answers are not)."""
        if not self.cache.link.usable():
            return self.engine.answer(request)
        try:
            key = self.cache.key(request, self.name, self.generation())
        except Exception:  # no index, or the store is down: the engine raises the right error
            return self.engine.answer(request)
        started = time.perf_counter()
        cached = self.cache.get(key)
        if cached is not None:
            CACHE.labels("hit").inc()
            return cached.model_copy(update={"timings_ms": {"cache": round((time.perf_counter() - started) * 1000, 2)}})
        if not self.cache.link.usable():  # the lookup just found Redis down: not a miss, no cache at all
            return self.engine.answer(request)
        CACHE.labels("miss").inc()
        answer = self.engine.answer(request)
        if answer.engine == self.name:  # an LLM that fell back to extractive may do better next time
            self.cache.put(key, answer)
        return answer

    def stream(self, request: AskRequest) -> Iterator[tuple[str, dict]]:
        """Streams pass straight through."""
        return self.engine.stream(request)

    def __getattr__(self, name: str) -> object:
        # Anything else the engine offers (now or later) is the engine's own.
        return getattr(self.engine, name)
