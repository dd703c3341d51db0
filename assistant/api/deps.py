"""Dependencies handed to routes: the objects built once in the lifespan, auth and the rate limit."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse

from assistant.config import Settings
from assistant.conversations import ConversationStore
from assistant.factory import Engine, Resources
from assistant.feedback import FeedbackStore
from assistant.shared import RedisLink, SharedLimiter

USER_HEADER = "x-lva-user"


class RateLimited(Exception):
    """Too many requests for this key or address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit exceeded; retry in {retry_after}s")
        self.retry_after = retry_after


def get_resources(request: Request) -> Resources:
    """The process's heavy objects, built in the lifespan."""
    return request.app.state.resources


def get_engine(request: Request) -> Engine:
    """The configured answer engine (behind the answer cache when Redis is configured)."""
    return request.app.state.engine


def get_feedback_store(request: Request) -> FeedbackStore:
    """The feedback table."""
    return request.app.state.feedback


def get_conversation_store(request: Request) -> ConversationStore:
    """The saved conversations."""
    return request.app.state.conversations


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


ResourcesDep = Annotated[Resources, Depends(get_resources)]
EngineDep = Annotated[Engine, Depends(get_engine)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
ConversationsDep = Annotated[ConversationStore, Depends(get_conversation_store)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def _digest(value: str) -> str:
    # Bucket names may live in Redis: never a key in clear, and never a user-chosen string of any length.
    return hashlib.sha256(value.encode()).hexdigest()[:24]


class RateLimit:
    """Moving-window limits from `limits`: per end user behind a trusted client key, else per key or address.

    Counted in Redis when `LVA_REDIS_URL` is set (shared by every worker and host), else in this process."""

    def __init__(self, settings: Settings, link: RedisLink | None = None) -> None:
        self.item = parse(settings.rate_limit)
        self.user_item = parse(settings.user_rate_limit)
        self.trusted = [key.get_secret_value().encode() for key in settings.trusted_client_keys]
        # Without LVA_API_KEYS nobody checks bearer tokens: a made-up one must not buy a fresh bucket.
        self.keys_checked = bool(settings.api_keys)
        self.limiter = SharedLimiter(link)

    def bucket(self, request: Request) -> tuple[RateLimitItem, str]:
        """(limit, bucket) for this request. Only a trusted key's `X-LVA-User` chooses the bucket."""
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        trusted = bool(token) and self._is_trusted(token.encode())
        if trusted or (token and self.keys_checked):
            user = request.headers.get(USER_HEADER, "").strip()
            if trusted and user:
                return self.user_item, f"user:{_digest(token)}:{_digest(user)}"
            return self.item, "key:" + _digest(token)
        return self.item, "ip:" + (request.client.host if request.client else "unknown")

    def _is_trusted(self, token: bytes) -> bool:
        matched = False
        for key in self.trusted:  # every key is compared, so timing reveals nothing
            matched |= hmac.compare_digest(token, key)
        return matched

    def __call__(self, request: Request) -> None:
        item, bucket = self.bucket(request)
        allowed, retry_after = self.limiter.hit(item, "lva", bucket)
        if not allowed:
            raise RateLimited(retry_after)


def enforce_rate_limit(request: Request) -> None:
    """Apply the app's rate limit."""
    request.app.state.rate_limit(request)
