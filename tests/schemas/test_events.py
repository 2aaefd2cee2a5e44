"""The ai.call.v1 model: valid events pass; each impossible value is rejected naming its field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest
from pydantic import ValidationError

from schemas import events
from schemas.codec import parse_batch, parse_event
from schemas.events import MAX_METADATA_BYTES, MAX_TOKENS_PER_BUCKET, AICallEvent, event_json_schema


def test_valid_event_is_parsed_and_frozen(valid_event):
    event = parse_event(valid_event)
    assert event.total_tokens == 1500
    assert event.occurred_at == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    with pytest.raises(ValidationError):
        event.model = "other"  # frozen: events are facts


def test_offset_timestamps_are_normalised_to_utc(valid_event):
    valid_event["occurred_at"] = "2026-11-20T12:00:00+02:00"
    assert parse_event(valid_event).occurred_at == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("input_tokens", -1, "input_tokens"),
        ("output_tokens", MAX_TOKENS_PER_BUCKET + 1, "output_tokens"),
        ("reasoning_tokens", "many", "reasoning_tokens"),
        ("latency_ms", -5, "latency_ms"),
        ("event_id", "not-a-uuid", "event_id"),
        ("account_id", "", "account_id"),
        ("model", None, "model"),
        ("occurred_at", "2026-11-20T10:00:00", "timezone"),
        ("occurred_at", "2001-01-01T00:00:00Z", "before 2015"),
        ("prompt_type", "has spaces!", "prompt_type"),
        ("metadata", "not an object", "metadata"),
        ("extra_usage", {"input_image_tokens": -3}, "extra_usage.input_image_tokens"),
        ("extra_usage", {"requests": MAX_TOKENS_PER_BUCKET + 1}, "extra_usage.requests"),
        ("surprise", 1, "surprise"),
    ],
)
def test_impossible_values_are_rejected_naming_the_field(valid_event, field, value, message):
    valid_event[field] = value
    with pytest.raises(ValueError) as info:
        parse_event(valid_event)
    assert message in str(info.value)


def test_far_future_timestamp_is_rejected(valid_event):
    valid_event["occurred_at"] = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    with pytest.raises(ValueError, match="in the future"):
        parse_event(valid_event)


@pytest.mark.parametrize("text", ["2026-11-20T10:00:00Z", "2026-11-20T12:00:00+02:00", "2026-11-20T10:00:00.000Z"])
def test_times_are_held_in_utc_itself_from_json_and_from_dicts(valid_event, text):
    valid_event["occurred_at"] = text
    batch = parse_batch(b'{"type": "ai.batch.v1", "items": [' + orjson.dumps(valid_event) + b"]}")
    for event in (parse_event(valid_event), batch[0]):
        assert event.occurred_at == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
        assert event.occurred_at.tzinfo is timezone.utc  # not an equal zone of another class


@pytest.mark.parametrize("value", [1795168800, datetime(2026, 11, 20, 12, tzinfo=timezone(timedelta(hours=2)))])
def test_times_that_are_not_iso_text_take_pydantics_parser(valid_event, value):
    valid_event["occurred_at"] = value
    event = parse_event(valid_event)
    assert event.occurred_at == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    assert event.occurred_at.tzinfo is timezone.utc


def test_text_that_is_no_time_gets_pydantics_reason(valid_event):
    valid_event["occurred_at"] = "yesterday"
    with pytest.raises(ValueError, match="occurred_at: Input should be a valid datetime"):
        parse_event(valid_event)


def test_a_time_past_a_stale_future_bound_is_checked_against_a_fresh_one(valid_event, monkeypatch):
    monkeypatch.setattr(events, "_latest", [events.EARLIEST_EVENT_TIME])  # a bound read long ago
    now = datetime.now(timezone.utc)
    valid_event["occurred_at"] = (now + timedelta(hours=23)).isoformat()
    assert parse_event(valid_event).occurred_at > now
    assert events._latest[0] >= now + timedelta(days=1)  # refreshed
    valid_event["occurred_at"] = (now + timedelta(hours=25)).isoformat()
    with pytest.raises(ValueError, match="in the future"):
        parse_event(valid_event)


def test_huge_metadata_is_rejected(valid_event):
    valid_event["metadata"] = {"blob": "x" * (MAX_METADATA_BYTES + 1)}
    with pytest.raises(ValueError, match="metadata is .* bytes"):
        parse_event(valid_event)


def test_error_type_on_a_successful_call_is_rejected(valid_event):
    valid_event["error_type"] = "RateLimitError"
    with pytest.raises(ValueError, match="success=false"):
        parse_event(valid_event)
    valid_event["success"] = False
    assert parse_event(valid_event).error_type == "RateLimitError"


def test_json_schema_describes_the_disjoint_buckets():
    schema = event_json_schema()
    assert schema["title"] == "ai.call.v1"
    for bucket in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"):
        assert schema["properties"][bucket]["minimum"] == 0
    extra = schema["properties"]["extra_usage"]["additionalProperties"]  # other languages' producers see the range
    assert (extra["minimum"], extra["maximum"]) == (0, MAX_TOKENS_PER_BUCKET)
    assert set(schema["required"]) == {"event_id", "occurred_at", "account_id", "provider", "model"}
    assert AICallEvent.model_fields["prompt_type"].default == "default"
