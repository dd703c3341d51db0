"""State shared by every process through Redis (`LVA_REDIS_URL`), each piece with an in-process fallback.

- `SharedLimiter`: moving-window rate limits from `limits`, in Redis so all workers and hosts share one count.
- `Once`: "first time for this key?" as `SET key 1 NX EX ttl` (the Slack bot's event de-duplication).

Without Redis, or while it is down, both work in-process as before: a failure is logged once per outage, the
process stays in-process for a short cool-down, then tries Redis again. Nothing here raises because Redis died.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from cachetools import TTLCache
from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from assistant.config import Settings

log = logging.getLogger("lva.redis")
COOL_DOWN_S = 5.0


class RedisLink:
    """One Redis client per process, with outage bookkeeping: `usable()`, `failed()`, `succeeded()`."""

    def __init__(self, url: str, timeout_s: float = 0.5) -> None:
        import redis

        self.url = url
        self.errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisLink | None:
        """A link when `LVA_REDIS_URL` is set, else None (everything stays in-process)."""
        return cls(settings.redis_url, settings.redis_timeout_s) if settings.redis_url else None

    def usable(self) -> bool:
        """False during the cool-down after a failure."""
        return time.monotonic() >= self._down_until

    def failed(self, use: str, exc: BaseException) -> None:
        """Note a failure: in-process for a cool-down; logged once per outage."""
        with self._lock:
            self._down_until = time.monotonic() + COOL_DOWN_S
            first, self._down = not self._down, True
        if first:
            log.warning("redis unavailable (%s: %s); %s in-process until it is back", exc.__class__.__name__, exc, use)

    def succeeded(self) -> None:
        """Note a success; logs the end of an outage."""
        if self._down:
            with self._lock:
                was, self._down = self._down, False
            if was:
                log.warning("redis is back; shared state resumes")

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


class SharedLimiter:
    """`hit(item, *ids)` → (allowed, retry_after_s), counted in Redis when linked and reachable."""

    def __init__(self, link: RedisLink | None) -> None:
        self.link = link
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if link is not None:
            from limits.storage import RedisStorage

            # The link's pool: one set of connections (and one timeout) for everything Redis does here.
            storage = RedisStorage(
                link.url, connection_pool=link.client.connection_pool, key_prefix="lva:limits", wrap_exceptions=True
            )
            self.shared = MovingWindowRateLimiter(storage)

    def hit(self, item: RateLimitItem, *identifiers: str) -> tuple[bool, int]:
        """Count one hit; when refused, also say how many seconds until the window lets one through."""
        if self.shared is not None and self.link is not None and self.link.usable():
            try:
                result = self._hit(self.shared, item, identifiers)
                self.link.succeeded()
                return result
            except Exception as exc:  # limits wraps Redis errors in StorageError; any failure means in-process
                self.link.failed("rate limits", exc)
        return self._hit(self.local, item, identifiers)

    @staticmethod
    def _hit(limiter: MovingWindowRateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]) -> tuple[bool, int]:
        if limiter.hit(item, *identifiers):
            return True, 0
        reset_at, _ = limiter.get_window_stats(item, *identifiers)
        return False, max(1, math.ceil(reset_at - time.time()))


class Once:
    """`first_time(key)` is True once per key within `ttl_s`: across processes with Redis, else per process."""

    def __init__(self, link: RedisLink | None, namespace: str, ttl_s: int = 3600) -> None:
        self.link = link
        self.namespace = namespace
        self.ttl_s = ttl_s
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=50_000, ttl=ttl_s)
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        """True for the first caller of `key` anywhere; False for every later one."""
        if self.link is not None and self.link.usable():
            try:
                first = bool(self.link.client.set(f"{self.namespace}:{key}", 1, nx=True, ex=self.ttl_s))
                self.link.succeeded()
                self._remember(key)
                return first
            except self.link.errors as exc:
                self.link.failed("de-duplication", exc)
        return self._remember(key)

    def _remember(self, key: str) -> bool:
        # Also kept in-process, so a Redis outage does not make this process repeat what it already did.
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = True
            return True
