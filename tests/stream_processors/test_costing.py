"""cost_message: the one-pass path for valid batches gives exactly what the per-item path gives,
and a batch with a bad or old item still prices every valid item."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import msgspec

from ailedger.demo_traffic import generate
from schemas.codec import encode_batch, event_to_dict, unpack
from schemas.events import AICallEvent
from schemas.fast_decode import DecodedEvent
from stream_processors.costing import cost_batch, cost_message
from stream_processors.pricing import load_catalog

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
CATALOG = load_catalog(None)


def _items(n: int, seed: int) -> list[dict]:
    return [event_to_dict(e) for e in generate(n, seed=seed)]


def _fields(event) -> dict:
    return msgspec.structs.asdict(event) if isinstance(event, DecodedEvent) else dict(event.__dict__)


def _without_version(batch) -> dict:
    return {pt: [(_fields(c.event), c.cost, c.priced_at) for c in calls] for pt, calls in batch.by_prompt_type.items()}


def test_a_valid_batch_costs_the_same_on_both_paths():
    items = _items(300, seed=5)
    fast = cost_message(encode_batch(items), CATALOG, now=NOW)
    slow = cost_batch(unpack(encode_batch(items)), CATALOG, now=NOW)
    assert {type(c.event) for calls in fast.by_prompt_type.values() for c in calls} == {DecodedEvent}
    assert {type(c.event) for calls in slow.by_prompt_type.values() for c in calls} == {AICallEvent}
    assert _without_version(fast) == _without_version(slow)
    assert sum(len(c) for c in fast.by_prompt_type.values()) == 300 and not fast.failures


def test_a_bad_item_is_reported_and_the_rest_are_priced():
    items = _items(50, seed=6)
    bad_id = str(uuid.uuid4())
    items[7] = {**items[7], "event_id": bad_id, "output_tokens": -5}
    batch = cost_message(encode_batch(items), CATALOG, now=NOW)
    assert [(f.event_id, f.stage) for f in batch.failures] == [(bad_id, "validate")]
    assert "output_tokens" in batch.failures[0].reason
    assert sum(len(c) for c in batch.by_prompt_type.values()) == 49


def test_an_old_version_in_a_batch_is_upcast_not_rejected():
    items = _items(3, seed=7)
    legacy = {"type": "ai.call.v0", "id": 1, "user_id": "u1", "provider": "openai", "model_name": "gpt-4o-mini",
              "prompt_tokens": 10, "completion_tokens": 5, "response_time_ms": 1500,
              "created_at": "2026-11-20T10:00:00Z", "section": "chat"}
    batch = cost_message(encode_batch([*items, legacy]), CATALOG, now=NOW)
    assert not batch.failures, batch.failures
    assert sum(len(c) for c in batch.by_prompt_type.values()) == 4
