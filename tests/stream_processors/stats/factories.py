"""Costed calls for tests, built through the real wire path (event -> columns message -> row form -> Call)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from schemas.costed import CallCost
from schemas.costed_columns import PricedCall, decode_costed, encode_costed
from schemas.events import AICallEvent
from stream_processors.stats.calls import Call, parse_costed

NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)


def costed_dict(*, cost: str | None = "0.01", at: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """The ``ai.call.costed.v1`` dict of one call, as a reader of the costed topic gets it."""
    event = AICallEvent(**{
        "event_id": uuid.uuid4(),
        "occurred_at": at or NOW,
        "account_id": "acme",
        "user_id": "u1",
        "prompt_type": "summarise",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 100,
        "output_tokens": 50,
        "latency_ms": 800.0,
        **fields,
    })
    if cost is None:
        call_cost = CallCost(priced=False, unpriced_reason="model not in catalog")
    else:
        call_cost = CallCost(priced=True, total_usd=Decimal(cost), input_usd=Decimal(cost), output_usd=Decimal(0),
                             cache_read_usd=Decimal(0), cache_write_usd=Decimal(0), reasoning_usd=Decimal(0),
                             other_usd=Decimal(0), price_version="test")
    return decode_costed(encode_costed([PricedCall(event, call_cost, 1, NOW)])).items()[0]


def call(**kwargs: Any) -> Call:
    return parse_costed(costed_dict(**kwargs))
