"""cost_message: the one-pass path for valid batches gives exactly what the per-item path gives,
and a batch with a bad or old item still prices every valid item."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from ailedger.demo_traffic import generate
from schemas.codec import encode_batch, event_to_dict, unpack
from stream_processors.costing import cost_batch, cost_message
from stream_processors.pricing import load_catalog

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
CATALOG = load_catalog(None)


def _items(n: int, seed: int) -> list[dict]:
    return [event_to_dict(e) for e in generate(n, seed=seed)]


def _without_version(batch) -> dict:
    return {pt: [{**c, "version": 0} for c in calls] for pt, calls in batch.by_prompt_type.items()}


def test_a_valid_batch_costs_the_same_on_both_paths():
    items = _items(300, seed=5)
    fast = cost_message(encode_batch(items), CATALOG, now=NOW)
    slow = cost_batch(unpack(encode_batch(items)), CATALOG, now=NOW)
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


def test_the_compact_wire_form_loses_nothing():
    """Fields left out of a costed call (None, or their default) come back as they were, for the
    model, for live statistics and for the sink's rows."""
    from consumers.clickhouse.rows import costed_to_row
    from schemas.codec import dumps
    from schemas.costed import CallCost, CostedCall
    from stream_processors.pricing import price_call
    from stream_processors.stats.calls import parse_costed

    events = list(generate(300, seed=9))
    events[0] = events[0].model_copy(update={"error_type": "timeout", "success": False, "metadata": {},
                                             "prompt_type": "default", "latency_ms": 0.0, "cached": True})
    by_id = {str(e.event_id): e for e in events}
    batch = cost_batch([event_to_dict(e) for e in events], load_catalog(None), now=NOW)
    items = unpack(encode_batch([c for calls in batch.by_prompt_type.values() for c in calls]))
    assert len(items) == len(events)
    shorter = 0
    for item in items:
        event = by_id[item["event"]["event_id"]]
        model = CostedCall.model_validate(item)
        assert model.event == event and model.cost == price_call(event, CATALOG)
        full = {"type": model.type, "event": model.event.model_dump(mode="json"),
                "cost": {**{name: None for name in CallCost.model_fields}, "price_version": "", "price_source": "",
                         **item["cost"]},
                "version": model.version, "priced_at": item["priced_at"]}
        assert parse_costed(item) == parse_costed(full)
        assert costed_to_row(item, 0, 0, True) == costed_to_row(full, 0, 0, True)
        shorter += len(dumps(item)) < len(dumps(full))
    assert shorter == len(items)


def test_cost_fields_are_plain_text_and_leave_out_only_none_and_empty():
    from decimal import Decimal

    from schemas.codec import plain_decimal
    from schemas.costed import CallCost
    from stream_processors.costing import costed_call_dict

    event = generate(1, seed=8).__next__()
    amounts = {"input_usd": Decimal("2.25E-7"), "cache_read_usd": Decimal("0"), "output_usd": Decimal("1E+2"),
               "total_usd": Decimal("100.000000225")}
    cost = CallCost(priced=True, credits=Decimal("-0.5"), price_version="v1", price_source="", **amounts)
    wire = costed_call_dict(event, cost, 3, NOW)["cost"]
    assert wire == {"priced": True, "input_usd": "0.000000225", "cache_read_usd": "0", "output_usd": "100",
                    "total_usd": "100.000000225", "credits": "-0.5", "price_version": "v1"}
    assert all(wire[name] == plain_decimal(value) for name, value in amounts.items())
