"""Ratings of calls (+1, 0, -1): ``POST /v1/calls/{event_id}/rating``.

A rating is published as an ``ai.rating.v1`` event on the ratings topic (keyed by event id) and
written to ``ai_ratings`` at once. ``ai_ratings`` is a ReplacingMergeTree keyed by
(account_id, event_id, rated_by), so a consumer replaying the ratings topic into it with
:func:`store_rating` rewrites the same row instead of counting it twice; a later rating by the
same rater replaces the earlier one.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from ailedger import topics
from consumers.api.auth import Principal, authenticate
from consumers.clickhouse.store import Store
from schemas.codec import dumps

router = APIRouter(tags=["ratings"])

RATING_TYPE = "ai.rating.v1"


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal[-1, 0, 1] = Field(description="+1 good, 0 neutral, -1 bad")


class RatingEvent(BaseModel):
    """The event on the ratings topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["ai.rating.v1"] = RATING_TYPE
    event_id: uuid.UUID
    account_id: str
    rated_by: str
    rating: Literal[-1, 0, 1]
    rated_at: datetime


def store_rating(store: Store, rating: RatingEvent) -> None:
    """Write one rating to ``ai_ratings`` (idempotent per event, account and rater)."""
    store.insert("ai_ratings", [[rating.event_id, rating.account_id, rating.rated_by, rating.rating,
                                 rating.rated_at]], ["event_id", "account_id", "rated_by", "rating", "rated_at"])


@router.post("/v1/calls/{event_id}/rating", summary="Rate a call (+1, 0, -1)")
def rate_call(event_id: uuid.UUID, body: RatingIn, request: Request,
              principal: Principal = Depends(authenticate)) -> dict:
    store: Store = request.app.state.store
    args = {"event_id": str(event_id)}
    account = ""
    if not principal.is_admin:
        account, args["account_id"] = " AND account_id = {account_id:String}", principal.account_id
    _, rows = store.rows(f"SELECT account_id FROM ai_calls WHERE event_id = {{event_id:UUID}}{account} LIMIT 1", args)
    if not rows:
        raise HTTPException(404, f"no call with event_id {event_id}")
    rating = RatingEvent(event_id=event_id, account_id=rows[0][0], rated_by=principal.key_id, rating=body.rating,
                         rated_at=datetime.now(timezone.utc))
    publisher = request.app.state.publisher
    if publisher is not None:
        settings = request.app.state.settings
        publisher(settings.topic(topics.RATINGS), str(event_id).encode(), dumps(rating))
    store_rating(store, rating)
    return {"event_id": str(event_id), "rating": body.rating, "rated_by": principal.key_id,
            "published": publisher is not None}
