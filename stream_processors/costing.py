"""Pure batch step of the pricing stage: decode, validate, price, split by prompt type.

``cost_batch`` takes the items of one raw message and returns the costed calls grouped by
``prompt_type`` (the key of the costed topic, so per-prompt-type tables downstream are
co-partitioned) and the items that failed, each with its reason. No broker needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from schemas.codec import dumps, parse_batch, parse_event, unpack
from schemas.costed_columns import PricedCall
from schemas.events import AICallEvent
from schemas.fast_decode import DecodedEvent, decode_batch


@dataclass
class Failure:
    reason: str
    item: Any
    event_id: str | None
    stage: str = "validate"


@dataclass
class CostedBatch:
    """Priced calls by prompt type (written with :func:`schemas.costed_columns.encode_costed`)."""

    by_prompt_type: dict[str, list[PricedCall]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    unpriced: list[AICallEvent | DecodedEvent] = field(default_factory=list)


def cost_batch(items: list[Any], catalog: Any, credits: Any = None, *, now: datetime | None = None) -> CostedBatch:
    """Validate and price every item; one bad item never affects the others."""
    out = CostedBatch()
    priced = _Pricer(out, catalog, credits, now)
    for item in items:
        event_id = item.get("event_id") if isinstance(item, dict) else None
        try:
            event = parse_event(item)
        except ValueError as exc:
            out.failures.append(Failure(str(exc), item, event_id if isinstance(event_id, str) else None))
            continue
        priced.add(event, item)
    return out


def cost_message(raw: bytes, catalog: Any, credits: Any = None, *, now: datetime | None = None) -> CostedBatch:
    """:func:`cost_batch` of one raw message's bytes. A batch of valid current events is read in
    one pass (:func:`~schemas.fast_decode.decode_batch`, else pydantic's :func:`parse_batch`);
    anything else takes the per-item path. Raises ``DecodeError`` when the bytes are not a
    message at all."""
    events = read_batch(raw)
    if events is None:
        return cost_batch(unpack(raw), catalog, credits, now=now)
    out = CostedBatch()
    priced = _Pricer(out, catalog, credits, now)
    for event in events:
        priced.add(event, event)
    return out


def read_batch(raw: bytes) -> list[DecodedEvent] | list[AICallEvent] | None:
    """The events of a batch envelope of valid current events, read in one pass: by msgspec
    (:func:`~schemas.fast_decode.decode_batch`), else by pydantic (:func:`parse_batch`);
    ``None`` for anything else."""
    events = decode_batch(raw)
    return parse_batch(raw) if events is None else events


class _Pricer:
    """Prices validated events into a :class:`CostedBatch` (one version and time per batch)."""

    def __init__(self, out: CostedBatch, catalog: Any, credits: Any, now: datetime | None):
        from stream_processors.pricing import price_call

        self.out, self.catalog, self.credits, self.price_call = out, catalog, credits, price_call
        self.now = now or datetime.now(timezone.utc)
        self.version = time.time_ns() // 1_000_000

    def add(self, event: AICallEvent | DecodedEvent, item: Any) -> None:
        try:
            cost = self.price_call(event, self.catalog, self.credits)
        except Exception as exc:  # noqa: BLE001 - a pricing bug dead-letters one event, not the stream
            self.out.failures.append(Failure(f"pricing failed: {type(exc).__name__}: {exc}", item,
                                             str(event.event_id), stage="price"))
            return
        if not cost.priced:
            self.out.unpriced.append(event)
        self.out.by_prompt_type.setdefault(event.prompt_type, []).append(
            PricedCall(event, cost, self.version, self.now))


def encode_failure_item(item: Any) -> bytes:
    """Raw bytes of a failed item for its dead letter."""
    return item if isinstance(item, (bytes, str)) else dumps(item)  # a dict, or an event model
