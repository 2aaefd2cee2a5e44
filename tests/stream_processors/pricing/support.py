"""Helpers shared by the pricing tests: events at a given time, catalogs with overrides."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from schemas.events import AICallEvent
from schemas.pricing import PRICE_FIELDS, PriceOverride

#: A time at which the genai-prices 0.2.3 rows used in the known bills are in force.
WHEN = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def call(provider: str, model: str, when: datetime = WHEN, **usage: Any) -> AICallEvent:
    """An event of ``provider``/``model`` at ``when`` with the given token buckets."""
    return AICallEvent(
        event_id=uuid.uuid4(),
        occurred_at=when,
        account_id="acct-1",
        provider=provider,
        model=model,
        **usage,
    )


def override(provider: str, model: str, effective_from: datetime | str, **prices: Any) -> PriceOverride:
    """An override with Decimal prices given as strings or numbers."""
    values = {k: (Decimal(str(v)) if k in PRICE_FIELDS else v) for k, v in prices.items()}
    return PriceOverride(provider=provider, model=model, effective_from=effective_from, **values)


def usd(text: str) -> Decimal:
    return Decimal(text)
