"""The orjson codec: batches round-trip, Decimal stays exact, bad bytes fail with a reason."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from schemas.codec import DecodeError, dumps, encode_batch, loads, parse_batch, parse_event, plain_decimal, unpack
from schemas.costed import CallCost
from schemas.dead_letter import DeadLetter
from schemas.upcasting import UnknownSchemaVersion


def test_batch_round_trip_keeps_every_event(valid_event):
    events = [parse_event({**valid_event, "event_id": str(uuid.uuid4())}) for _ in range(3)]
    items = unpack(encode_batch(events))
    assert [parse_event(i) for i in items] == events


def test_single_event_and_plain_list_are_accepted(valid_event):
    assert unpack(dumps(valid_event)) == [valid_event]
    assert unpack(dumps([valid_event, valid_event])) == [valid_event, valid_event]


def test_decimal_money_is_exact_through_json():
    cost = CallCost(priced=True, total_usd=Decimal("0.000000000123"), input_usd=Decimal("1E-12"))
    decoded = loads(dumps(cost))
    assert decoded["total_usd"] == "0.000000000123"
    assert CallCost.model_validate(decoded) == cost


@pytest.mark.parametrize("raw", [b"\xff\xfe not utf-8", b"{not json", b"42", b'"text"',
                                 b'{"type": "ai.batch.v1", "items": 3}'])
def test_malformed_messages_raise_decode_error(raw):
    with pytest.raises(DecodeError):
        unpack(raw)


def test_unknown_schema_version_is_named(valid_event):
    valid_event["type"] = "ai.call.v9"
    with pytest.raises(UnknownSchemaVersion, match="ai.call.v9"):
        parse_event(valid_event)


def test_non_object_event_is_rejected():
    with pytest.raises(ValueError, match="JSON object"):
        parse_event(["not", "an", "event"])


def test_legacy_v0_rows_are_upcast_with_deterministic_ids():
    legacy = {"type": "ai.call.v0", "created_at": "2025-10-11T14:30:00Z", "user": "admin", "section": "chat",
              "prompt_tokens": 150, "completion_tokens": 80, "response_time_ms": 1200, "success": False,
              "model_name": "gemini-1.5-flash", "error_message": "quota", "metadata": {"c": 1}}
    first, second = parse_event(dict(legacy)), parse_event(dict(legacy))
    assert first.event_id == second.event_id  # importing the same row twice dedups
    assert (first.input_tokens, first.output_tokens, first.latency_ms) == (150, 80, 1200.0)
    assert (first.prompt_type, first.account_id, first.success, first.error_type) == ("chat", "admin", False, "error")


def test_dead_letter_keeps_raw_bytes_even_when_not_utf8():
    letter = DeadLetter.of("decode", "bad", b"\xff\x00raw", topic="t", partition=1, offset=7)
    back = DeadLetter.model_validate(loads(dumps(letter)))
    assert back.raw == b"\xff\x00raw" and (back.topic, back.partition, back.offset) == ("t", 1, 7)


def test_parse_batch_reads_a_valid_batch_in_one_pass(valid_event):
    second = {**valid_event, "event_id": str(uuid.uuid4()), "model": "gpt-4o-mini"}
    events = parse_batch(encode_batch([valid_event, second]))
    assert [str(e.event_id) for e in events] == [valid_event["event_id"], second["event_id"]]
    assert events == [parse_event(valid_event), parse_event(second)]


@pytest.mark.parametrize("mutate", [
    lambda e: {**e, "input_tokens": -1},  # one invalid item
    lambda e: {**e, "type": "ai.call.v0"},  # an older version: needs the upcaster
    lambda e: {**e, "occurred_at": "2026-11-20T10:00:00"},  # no timezone
])
def test_parse_batch_declines_anything_but_valid_current_events(valid_event, mutate):
    assert parse_batch(encode_batch([valid_event, mutate(valid_event)])) is None


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"[1, 2]", b'{"type": "ai.call.v1"}', None])
def test_parse_batch_declines_what_is_not_a_batch(raw):
    assert parse_batch(raw) is None


@pytest.mark.parametrize("text", ["0", "2", "0.000472275", "2.25E-7", "1E-12", "123456789.000000001", "-3E-8"])
def test_plain_decimal_never_uses_exponents(text):
    written = plain_decimal(Decimal(text))
    assert "E" not in written and Decimal(written) == Decimal(text)


def test_legacy_rows_with_integer_ids_get_distinct_deterministic_uuids():
    row = {"type": "ai.call.v0", "id": 1, "created_at": "2025-10-11T14:30:00Z", "user": "admin",
           "model_name": "gpt-4o-mini", "prompt_tokens": 10}
    first, again, other = parse_event(dict(row)), parse_event(dict(row)), parse_event({**row, "id": 2})
    assert first.event_id == again.event_id != other.event_id
