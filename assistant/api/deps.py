"""Dependencies handed to routes: the objects built once in the lifespan, auth and the rate limit."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from assistant.config import Settings
from assistant.factory import Engine, Resources
from assistant.feedback import FeedbackStore


class RateLimited(Exception):
    """Too many requests for this key or address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit exceeded; retry in {retry_after}s")
        self.retry_after = retry_after


def get_resources(request: Request) -> Resources:
    """The process's heavy objects, built in the lifespan."""
    return request.app.state.resources


def get_engine(request: Request) -> Engine:
    """The configured answer engine."""
    return request.app.state.resources.engine


def get_feedback_store(request: Request) -> FeedbackStore:
    """The feedback table."""
    return request.app.state.feedback


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


ResourcesDep = Annotated[Resources, Depends(get_resources)]
EngineDep = Annotated[Engine, Depends(get_engine)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def caller_key(request: Request) -> str:
    """Who is calling: the bearer key when present (never logged), else the client address."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return "key:" + auth[7:].strip()
    return "ip:" + (request.client.host if request.client else "unknown")


class RateLimit:
    """A moving-window limit per caller, from the `limits` library (in memory, per worker)."""

    def __init__(self, spec: str) -> None:
        self.item = parse(spec)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def __call__(self, request: Request) -> None:
        key = caller_key(request)
        if not self.limiter.hit(self.item, "lva", key):
            reset_at, _ = self.limiter.get_window_stats(self.item, "lva", key)
            raise RateLimited(max(1, math.ceil(reset_at - time.time())))


def enforce_rate_limit(request: Request) -> None:
    """Apply the app's rate limit."""
    request.app.state.rate_limit(request)
