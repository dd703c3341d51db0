"""Questions in, grounded answers out: whole, or streamed as server-sent events."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool

from assistant.api.deps import EngineDep
from assistant.api.errors import STATUS_BY_ERROR
from assistant.api.observability import ANSWERS, FALLBACKS
from assistant.errors import AssistantError
from assistant.types import Answer, AskRequest

router = APIRouter(prefix="/v1", tags=["answers"])
log = logging.getLogger("lva.answers")


def record(answer: dict, configured: str) -> None:
    """Count the outcome and log the per-stage timings of one answer."""
    outcome = answer.get("coverage") or ("answered" if answer["answerable"] else "not_covered")
    ANSWERS.labels(answer["engine"], outcome).inc()
    if configured != "extractive" and answer["engine"] == "extractive":
        FALLBACKS.labels(configured).inc()
    log.info("answer", extra={"engine": answer["engine"], "outcome": outcome, "timings_ms": answer["timings_ms"]})


@router.post("/ask", response_model=Answer)
def ask(request: AskRequest, engine: EngineDep) -> Answer:
    """Answer from the report with verbatim, cited quotes, or refuse when the evidence is too weak."""
    answer = engine.answer(request)
    record(answer.model_dump(include={"answerable", "coverage", "engine", "timings_ms"}), engine.name)
    return answer


@router.post("/ask/stream", response_class=EventSourceResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def ask_stream(request: AskRequest, engine: EngineDep) -> EventSourceResponse:
    """Events: `meta` (citations, standalone question) first, `delta`s of answer text, then `done` or `error`."""

    async def events() -> AsyncIterator[dict[str, str]]:
        stream = engine.stream(request)
        try:
            async for name, data in iterate_in_threadpool(stream):
                if name == "done":
                    record(data, engine.name)
                yield {"event": name, "data": json.dumps(data, ensure_ascii=False)}
        except AssistantError as exc:
            status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(exc, t)), 400)
            body = {"error": exc.code, "detail": str(exc), "status": status}
            yield {"event": "error", "data": json.dumps(body)}
        finally:
            # A client that disconnects mid-answer must not leave the engine (or a local model) busy.
            with contextlib.suppress(ValueError):
                stream.close()

    return EventSourceResponse(events(), ping=15)
