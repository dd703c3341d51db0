"""Thumbs up or down on an answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from assistant.api.deps import FeedbackDep
from assistant.types import FeedbackReceipt, FeedbackRequest, FeedbackUpdate

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post("/feedback", response_model=FeedbackReceipt, status_code=201)
def feedback(request: FeedbackRequest, store: FeedbackDep) -> FeedbackReceipt:
    """Store a rating (and optional comment) of one answer."""
    return FeedbackReceipt(id=store.add(request))


@router.patch("/feedback/{feedback_id}", response_model=FeedbackReceipt)
def update_feedback(
    feedback_id: Annotated[int, Path(ge=1, le=2**63 - 1)], change: FeedbackUpdate, store: FeedbackDep
) -> FeedbackReceipt:
    """Flip a stored rating or add a comment to it (404 for an unknown id)."""
    store.update(feedback_id, change)
    return FeedbackReceipt(id=feedback_id)
