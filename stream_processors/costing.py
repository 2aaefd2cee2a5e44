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

from schemas.codec import dumps, parse_event
from schemas.costed import COSTED_TYPE
from schemas.events import AICallEvent


@dataclass
class Failure:
    reason: str
    item: Any
    event_id: str | None
    stage: str = "validate"


@dataclass
class CostedBatch:
    by_prompt_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    unpriced: list[AICallEvent] = field(default_factory=list)


def costed_call_dict(event: AICallEvent, cost: Any, version: int, priced_at: datetime) -> dict[str, Any]:
    """The ``ai.call.costed.v1`` wire form, built without re-validating the event."""
    return {
        "type": COSTED_TYPE,
        "event": event.__dict__,  # the validated fields as they are: orjson encodes them natively
        "cost": cost.__dict__,
        "version": version,
        "priced_at": priced_at,
    }


def cost_batch(items: list[Any], catalog: Any, credits: Any = None, *, now: datetime | None = None) -> CostedBatch:
    """Validate and price every item; one bad item never affects the others."""
    from stream_processors.pricing import price_call

    now = now or datetime.now(timezone.utc)
    version = time.time_ns() // 1_000_000
    out = CostedBatch()
    for item in items:
        event_id = item.get("event_id") if isinstance(item, dict) else None
        try:
            event = parse_event(item)
        except ValueError as exc:
            out.failures.append(Failure(str(exc), item, event_id if isinstance(event_id, str) else None))
            continue
        try:
            cost = price_call(event, catalog, credits)
        except Exception as exc:  # noqa: BLE001 - a pricing bug dead-letters one event, not the stream
            out.failures.append(Failure(f"pricing failed: {type(exc).__name__}: {exc}", item, str(event.event_id),
                                        stage="price"))
            continue
        if not cost.priced:
            out.unpriced.append(event)
        out.by_prompt_type.setdefault(event.prompt_type, []).append(costed_call_dict(event, cost, version, now))
    return out


def encode_failure_item(item: Any) -> bytes:
    """Raw bytes of a failed item for its dead letter."""
    return item if isinstance(item, (bytes, str)) else dumps(item)
