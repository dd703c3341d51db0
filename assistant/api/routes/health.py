"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from assistant.api.deps import ResourcesDep
from assistant.embeddings import embedding_model_name
from assistant.errors import AssistantError
from assistant.types import Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(resources: ResourcesDep) -> JSONResponse:
    """Whether an index is loaded and answering; 503 until then."""
    engine = resources.engine.name
    try:
        index = resources.index.active_name()  # asks the store now, so a dead Chroma server shows at once
        chunks = len(resources.retriever.chunks) if index else 0
        ready, detail = chunks > 0, None if chunks else "no index yet: run `lva ingest`"
    except AssistantError as exc:
        chunks, index, ready, detail = 0, None, False, str(exc)
    body = Readiness(
        ready=ready,
        chunks=chunks,
        model=embedding_model_name(resources.embedder),
        engine=engine,
        index=index,
        detail=detail,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
