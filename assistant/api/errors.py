"""Every error leaves as `{"error", "detail"}` with a 4xx (or 503); never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.deps import RateLimited
from assistant.errors import (
    AssistantError,
    FeedbackNotFound,
    IndexNotReady,
    IndexUnavailable,
    InputError,
    LLMUnavailable,
    SourceNotFound,
    StorageUnavailable,
)
from assistant.types import ErrorBody

log = logging.getLogger("lva.api")
STATUS_BY_ERROR: dict[type[AssistantError], int] = {
    SourceNotFound: 404,
    FeedbackNotFound: 404,
    InputError: 400,
    IndexNotReady: 503,
    IndexUnavailable: 503,
    LLMUnavailable: 503,
    StorageUnavailable: 503,
}
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Body is not valid UTF-8 JSON",
        401: "Missing or wrong API key (when LVA_API_KEYS is set)",
        404: "No such source or conversation",
        413: "Request body too large",
        422: "Invalid request",
        429: "Rate limit exceeded; see Retry-After",
        503: "Index (or, for feedback and conversations, the database) unavailable; see Retry-After",
    }.items()
}
_HTTP_NAMES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def error_response(
    status: int, error: str, detail: object = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape."""
    return JSONResponse({"error": error, "detail": jsonable_encoder(detail)}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map validation, HTTP, domain and unexpected errors onto the error shape."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{k: e.get(k) for k in ("loc", "msg", "type")} for e in exc.errors()]
        return error_response(422, "invalid_request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 400 and "parsing the body" in str(detail):
            detail = "the request body is not valid UTF-8 JSON"
        return error_response(exc.status_code, _HTTP_NAMES.get(exc.status_code, "http_error"), detail)

    @app.exception_handler(RateLimited)
    async def _limited(_: Request, exc: RateLimited) -> JSONResponse:
        return error_response(429, "rate_limited", str(exc), headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(AssistantError)
    async def _domain(_: Request, exc: AssistantError) -> JSONResponse:
        status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(exc, t)), 400)
        headers = {"Retry-After": "5"} if status == 503 else None
        return error_response(status, exc.code, str(exc), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        request_id = getattr(request.state, "request_id", "")
        return error_response(500, "internal_error", f"unexpected error; quote request id {request_id}")
