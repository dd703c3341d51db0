"""Questions in, grounded answers out: whole, or streamed as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool

from assistant.api.deps import EngineDep
from assistant.api.errors import STATUS_BY_ERROR
from assistant.errors import AssistantError
from assistant.types import Answer, AskRequest, ErrorBody

router = APIRouter(prefix="/v1", tags=["answers"])
ERRORS = {401: {"model": ErrorBody}, 422: {"model": ErrorBody}, 429: {"model": ErrorBody}, 503: {"model": ErrorBody}}


@router.post("/ask", response_model=Answer, responses=ERRORS)
def ask(request: AskRequest, engine: EngineDep) -> Answer:
    """Answer from the report with verbatim, cited quotes, or refuse when the evidence is too weak."""
    return engine.answer(request)


@router.post("/ask/stream", responses={200: {"content": {"text/event-stream": {}}}, **ERRORS})
async def ask_stream(request: AskRequest, engine: EngineDep) -> EventSourceResponse:
    """Events: `meta` (citations, standalone question) first, `delta`s of answer text, then `done` or `error`."""

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            async for name, data in iterate_in_threadpool(engine.stream(request)):
                yield {"event": name, "data": json.dumps(data, ensure_ascii=False)}
        except AssistantError as exc:
            status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(exc, t)), 400)
            body = {"error": exc.code, "detail": str(exc), "status": status}
            yield {"event": "error", "data": json.dumps(body)}

    return EventSourceResponse(events(), ping=15)
