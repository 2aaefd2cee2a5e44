"""The columns form of costed calls: nothing is lost, shared values are written once, amounts are
plain text, and a malformed envelope is a DecodeError."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

import orjson
import pytest

from ailedger.demo_traffic import generate
from schemas.codec import DecodeError, encode_batch, event_to_dict
from schemas.costed import ZERO, CallCost, CostedCall
from schemas.costed_columns import COLUMNS_TYPE, PricedCall, decode_costed, encode_costed, encode_costed_messages
from stream_processors.costing import cost_batch
from stream_processors.pricing import load_catalog, price_call

NOW = datetime(2026, 11, 22, 8, 30, 1, 250000, tzinfo=timezone.utc)
CATALOG = load_catalog(None)


def priced(events, version: int = 7) -> list[PricedCall]:
    return [PricedCall(e, price_call(e, CATALOG), version, NOW) for e in events]


def test_a_columns_message_loses_nothing_and_is_smaller_than_the_row_form():
    events = list(generate(300, seed=9))
    events[0] = events[0].model_copy(update={"error_type": "timeout", "success": False, "metadata": {"page": 3},
                                             "latency_ms": 0.0, "cached": True, "prompt": "hi", "trace_id": "t1"})
    batch = cost_batch([event_to_dict(e) for e in events], CATALOG, now=NOW)
    by_id = {e.event_id: e for e in events}
    seen = 0
    for calls in batch.by_prompt_type.values():
        message = encode_costed(calls)
        items = decode_costed(message).items()
        assert len(items) == len(calls)
        for call, item in zip(calls, items):
            model = CostedCall.model_validate(item)
            assert model.event == by_id[call.event.event_id] == call.event
            assert model.cost == price_call(call.event, CATALOG) and model.version == call.version
            assert model.priced_at == NOW
            seen += 1
        assert len(message) < len(encode_batch(items))
    assert seen == len(events)


def test_shared_values_are_written_once_and_defaults_are_left_out():
    events = list(generate(20, seed=3))
    events = [e.model_copy(update={"prompt_type": "chat", "metadata": {}, "success": True, "error_type": None})
              for e in events]
    columns = orjson.loads(encode_costed(priced(events)))["columns"]
    assert columns["prompt_type"] == "chat" and columns["version"] == 7
    assert columns["priced_at"] == "2026-11-22T08:30:01.250000Z"
    assert isinstance(columns["event_id"], list) and isinstance(columns["occurred_at"], list)
    for left_out in ("type", "metadata", "extra_usage", "prompt", "response", "error_type", "success", "mode"):
        assert left_out not in columns
    one = orjson.loads(encode_costed(priced(events[:1]), mode="repair"))["columns"]
    assert one["event_id"] == [str(events[0].event_id)] and one["mode"] == "repair"
    withmeta = [events[0].model_copy(update={"metadata": {"k": 1}}), *events[1:]]
    columns = orjson.loads(encode_costed(priced(withmeta)))["columns"]
    assert columns["metadata"] == [{"k": 1}] + [{}] * (len(events) - 1)


def test_amounts_are_plain_decimal_text_and_unknown_stays_unknown():
    event = next(generate(1, seed=8))
    cost = CallCost(priced=True, input_usd=Decimal("2.25E-7"), cache_read_usd=Decimal("0"),
                    output_usd=Decimal("1E+2"), total_usd=Decimal("100.000000225"), credits=Decimal("-0.5"))
    unpriced = CallCost(priced=False, unpriced_reason="no price")
    other = event.model_copy(update={"event_id": uuid.uuid4()})
    columns = orjson.loads(encode_costed([PricedCall(event, cost, 1, NOW), PricedCall(other, unpriced, 1, NOW)]))
    columns = columns["columns"]
    assert columns["input_usd"] == ["0.000000225", None] and columns["output_usd"] == ["100", None]
    assert columns["cache_read_usd"] == ["0", None] and columns["credits"] == ["-0.5", None]
    assert columns["total_usd"] == ["100.000000225", None] and "reasoning_usd" not in columns
    assert columns["priced"] == [True, False] and columns["unpriced_reason"] == [None, "no price"]


def test_the_empty_buckets_zero_and_any_other_zero_are_written_alike():
    events = list(generate(3, seed=8))
    amounts = [ZERO, Decimal("0E-9"), Decimal("0.00")]
    calls = [PricedCall(e, CallCost(priced=True, input_usd=a, total_usd=Decimal("1.5")), 1, NOW)
             for e, a in zip(events, amounts)]
    columns = orjson.loads(encode_costed(calls))["columns"]
    assert columns["input_usd"] == ["0", "0.000000000", "0.00"] and columns["total_usd"] == "1.5"
    assert [Decimal(t) for t in columns["input_usd"]] == amounts


@pytest.mark.parametrize("message", [
    {"type": COLUMNS_TYPE, "n": -1, "columns": {}},
    {"type": COLUMNS_TYPE, "n": True, "columns": {}},
    {"type": COLUMNS_TYPE, "n": 2, "columns": []},
    {"type": COLUMNS_TYPE, "n": 2, "columns": {"event_id": ["a"]}},
    {"type": "ai.batch.v1", "items": {}},
    "text",
])
def test_a_malformed_message_is_a_decode_error(message):
    with pytest.raises(DecodeError):
        decode_costed(orjson.dumps(message))
    with pytest.raises(DecodeError):
        decode_costed(b"\xff not json")


def test_the_row_form_is_still_read():
    assert decode_costed(encode_batch([{"a": 1}, {"b": 2}])) == [{"a": 1}, {"b": 2}]
    assert decode_costed(b'{"a": 1}') == [{"a": 1}]
    with pytest.raises(ValueError):
        encode_costed([])


def test_messages_are_cut_by_bytes_as_well_as_calls_in_order():
    events = [e.model_copy(update={"prompt": f"{i} " + "p" * 3000, "response": f"{i} " + "r" * 1000})
              for i, e in enumerate(generate(40, seed=6))]  # distinct: equal values are written once
    calls = priced(events)
    messages = encode_costed_messages(calls, 25, 20_000)
    assert all(len(value) <= 20_000 for _, value in messages) and len(messages) > 2
    assert sum(count for count, _ in messages) == len(calls)
    ids = [item["event"]["event_id"] for _, value in messages for item in decode_costed(value).items()]
    assert ids == [str(c.event.event_id) for c in calls]  # every call once, in order
    assert [count for count, _ in encode_costed_messages(calls, 25, 10**7)] == [25, 15]


def test_a_call_larger_than_the_limit_goes_alone():
    events = list(generate(3, seed=6))
    events[1] = events[1].model_copy(update={"prompt": "x" * 50_000})  # the others have no prompt
    messages = encode_costed_messages(priced(events), 500, 20_000)
    assert [count for count, _ in messages] == [1, 1, 1] and len(messages[1][1]) > 20_000
