"""Thumbs up or down on an answer."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.api.deps import FeedbackDep
from assistant.types import FeedbackReceipt, FeedbackRequest

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post("/feedback", response_model=FeedbackReceipt, status_code=201)
def feedback(request: FeedbackRequest, store: FeedbackDep) -> FeedbackReceipt:
    """Store a rating (and optional comment) of one answer."""
    return FeedbackReceipt(id=store.add(request))
