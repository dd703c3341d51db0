"""The retriever over HTTP."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import ResourcesDep
from assistant.types import SearchRequest, SearchResponse

router = APIRouter(prefix="/v1", tags=["search"])


@router.post("/search", response_model=SearchResponse)
async def search(request: SearchRequest, resources: ResourcesDep) -> SearchResponse:
    """Hybrid search results with scores and offsets."""
    results = await run_in_threadpool(resources.retriever.search, request.query, request.k, request.filters)
    return SearchResponse(query=request.query, results=results)
