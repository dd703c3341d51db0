"""`create_app()`: the FastAPI service. Heavy objects are built once in the lifespan and handed to routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import RateLimit, enforce_rate_limit
from assistant.api.errors import ERROR_RESPONSES, install_error_handlers
from assistant.api.middleware import ApiKeyMiddleware, GuardBodyMiddleware
from assistant.api.observability import ObservabilityMiddleware, metrics_response
from assistant.api.routes import ask, conversations, feedback, health, search, sources
from assistant.cache import AnswerCache, CachingEngine
from assistant.config import Settings, get_settings
from assistant.conversations import ConversationStore
from assistant.db import Database
from assistant.errors import AssistantError, StorageUnavailable
from assistant.factory import Engine, Resources, build_resources
from assistant.feedback import FeedbackStore
from assistant.shared import RedisLink

log = logging.getLogger("lva.api")


def _warm_up(resources: Resources) -> None:
    """Load the model and the BM25 index now, so the first request is as fast as the rest."""
    import os

    import torch

    # Several workers on few cores: one BLAS pool each, sized to its share, instead of all fighting for all.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, resources.settings.workers)))
    try:
        resources.embedder.embed_query("warm up")
        _ = resources.retriever.chunks
    except AssistantError as exc:
        log.warning("index not ready at start-up: %s", exc)


def _migrate(db: Database) -> None:
    """Bring the schema up to date now; a database that is down is retried on first use instead."""
    try:
        db.ensure_schema()
    except StorageUnavailable as exc:
        log.warning("starting without the database: %s", exc)


def _engine(resources: Resources, settings: Settings, link: RedisLink | None) -> Engine:
    """The engine routes use: behind the Redis answer cache when one is configured."""
    ttl = settings.answer_cache_ttl_s
    if link is None or ttl <= 0:
        return resources.engine
    return CachingEngine(resources.engine, AnswerCache(link, ttl), lambda: resources.index.active().name)  # type: ignore[return-value]


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> FastAPI:
    """The API. Pass `resources` to share already-built objects (tests, the CLI); else they are built here."""
    settings = settings or (resources.settings if resources else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.resources = resources or build_resources(settings)
        app.state.engine = _engine(app.state.resources, settings, link)
        app.state.db = Database.from_settings(settings)
        app.state.feedback = FeedbackStore(app.state.db)
        app.state.conversations = ConversationStore(app.state.db)
        await run_in_threadpool(_warm_up, app.state.resources)
        await run_in_threadpool(_migrate, app.state.db)
        yield
        app.state.db.close()
        if link is not None:
            link.close()

    app = FastAPI(
        title="Local Vision Assistant",
        version="0.1.0",
        summary="Grounded answers from 'The Revolution will be Improvised', with verified verbatim quotes.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    link = RedisLink.from_settings(settings)
    app.state.rate_limit = RateLimit(settings, link)
    install_error_handlers(app)
    app.include_router(health.router)
    app.add_route("/metrics", metrics_response, include_in_schema=False)
    for router in (ask.router, search.router, sources.router, feedback.router, conversations.router):
        app.include_router(router, dependencies=[Depends(enforce_rate_limit)], responses=ERROR_RESPONSES)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-LVA-User"],
        )
    # Added innermost first, so a request meets: observability (id, log, metrics) → API key → body guard → routes.
    app.add_middleware(GuardBodyMiddleware, max_bytes=settings.max_body_bytes)
    keys = [key.get_secret_value().encode() for key in settings.api_keys]
    if keys:  # a trusted client is a client: its key opens the API too
        keys += [key.get_secret_value().encode() for key in settings.trusted_client_keys]
    app.add_middleware(ApiKeyMiddleware, keys=keys)
    app.add_middleware(ObservabilityMiddleware)
    return app
