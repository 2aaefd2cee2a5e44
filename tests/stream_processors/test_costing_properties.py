"""Bad-input campaign on the worker's pure path, generated: any mix of malformed events in a raw
message (wrong types, negative or absurd counts, huge metadata, implausible times, unknown
versions, unknown fields, duplicates) gives one failure per bad event, naming the field, and
prices every valid event of the same message; arbitrary bytes are a ``DecodeError``, never a
crash. (The same inputs through the broker: ``test_dead_letters.py``.)"""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.codec import BATCH_TYPE, DecodeError, encode_batch, unpack
from stream_processors.costing import cost_message
from stream_processors.pricing import load_catalog
from tests.bad_events import corrupt, corruption, is_named, valid_events

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
CATALOG = load_catalog(None)
VALID = valid_events(40, seed=21, now=NOW)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.integers(min_value=0, max_value=len(VALID) - 1), corruption, max_size=8),
       st.lists(st.integers(min_value=0, max_value=len(VALID) - 1), max_size=3))
def test_each_bad_event_fails_alone_and_every_valid_one_is_priced(corruptions, duplicated):
    # one fault per event, so each is named
    items = [corrupt(item, *corruptions[i]) if i in corruptions else item for i, item in enumerate(VALID)]
    good = [i for i in range(len(items)) if i not in corruptions]
    items += [dict(items[i]) for i in duplicated if i in good]  # a producer's re-sent events

    raw = encode_batch(items)
    wire = unpack(raw)  # what the worker sees (JSON has no infinity: -inf is null)
    batch = cost_message(raw, CATALOG, now=NOW)

    assert len(batch.failures) == len(corruptions)
    for failure, index in zip(batch.failures, sorted(corruptions)):
        assert failure.item == wire[index]
        assert is_named(corruptions[index][0], failure.reason), failure.reason
    priced = [str(call.event.event_id) for calls in batch.by_prompt_type.values() for call in calls]
    assert sorted(priced) == sorted([items[i]["event_id"] for i in good] +
                                    [items[i]["event_id"] for i in duplicated if i in good])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.binary(max_size=40).map(
                     lambda b: b'{"type": "' + BATCH_TYPE.encode() + b'", "items": [{"event_id": "' + b + b'"}]}')))
def test_arbitrary_bytes_are_a_decode_error_or_failures_never_a_crash(raw):
    try:
        batch = cost_message(raw, CATALOG, now=NOW)
    except DecodeError as exc:
        assert str(exc)
        return
    assert not batch.by_prompt_type  # nothing here is a valid event
    for failure in batch.failures:
        assert failure.reason
