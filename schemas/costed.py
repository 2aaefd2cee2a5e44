"""A priced call (type ``ai.call.costed.v1``): the original event plus its cost and credits.

The pricing stage writes costed calls by column (:mod:`schemas.costed_columns`); this row form
is what :meth:`~schemas.costed_columns.CostedColumns.items` gives back, and what earlier
versions wrote (one dict per call in a batch envelope, still read). In a row, event fields that
are ``None`` or at their default, and cost fields that are ``None`` or empty, may be left out;
validating with :class:`CostedCall` restores them. An absent amount means unknown, never $0."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import AICallEvent

COSTED_TYPE = "ai.call.costed.v1"
#: The amount of an empty bucket. Pricing uses this one object, so writers can tell it by
#: identity (``is``), which costs nothing, where formatting or comparing a Decimal does not.
ZERO = Decimal(0)


class CallCost(BaseModel):
    """Cost of one call in exact Decimal USD, per disjoint token bucket.

    An unpriced call (no price known for its model at its time) has ``priced=False`` and every
    amount ``None``: it is never recorded as $0.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    priced: bool
    input_usd: Decimal | None = None
    cache_read_usd: Decimal | None = None
    cache_write_usd: Decimal | None = None
    output_usd: Decimal | None = None
    reasoning_usd: Decimal | None = None
    other_usd: Decimal | None = Field(default=None, description="Per-request, per-image and other units.")
    total_usd: Decimal | None = None
    credits: Decimal | None = None
    price_version: str = ""
    price_source: str = ""
    unpriced_reason: str | None = None

    @property
    def cache_usd(self) -> Decimal | None:
        if self.cache_read_usd is None or self.cache_write_usd is None:
            return None
        return self.cache_read_usd + self.cache_write_usd


class CostedCall(BaseModel):
    """An event with its cost. ``version`` orders re-ratings: the highest version of an
    ``event_id`` wins in ClickHouse (ReplacingMergeTree)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["ai.call.costed.v1"] = COSTED_TYPE
    event: AICallEvent
    cost: CallCost
    version: int = Field(ge=0, description="Row version: pricing time in ms since the epoch.")
    priced_at: datetime
