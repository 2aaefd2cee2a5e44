"""Bad-input campaign on the worker's pure path, generated: any mix of malformed events in a raw
message (wrong types, negative or absurd counts, huge metadata, implausible times, unknown
versions, unknown fields, duplicates) gives one failure per bad event, naming the field, and
prices every valid event of the same message; arbitrary bytes are a ``DecodeError``, never a
crash. (The same inputs through the broker: ``test_dead_letters.py``.)"""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ailedger.demo_traffic import generate
from schemas.codec import BATCH_TYPE, DecodeError, encode_batch, event_to_dict, unpack
from schemas.events import MAX_LATENCY_MS, MAX_METADATA_BYTES, MAX_TOKENS_PER_BUCKET
from stream_processors.costing import cost_message
from stream_processors.pricing import load_catalog

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
CATALOG = load_catalog(None)
VALID = unpack(encode_batch([event_to_dict(e) for e in generate(40, seed=21, now=NOW)]))  # as on the wire
TOKEN_FIELDS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"]
WORDS = st.from_regex(r"[a-z]{1,12}", fullmatch=True)
INT64 = {"min_value": -2**63, "max_value": 2**63 - 1}  # what JSON carries here
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=201, max_size=300)

bad_count = st.one_of(st.integers(min_value=-2**63, max_value=-1),
                      st.integers(min_value=MAX_TOKENS_PER_BUCKET + 1, max_value=2**63 - 1),
                      WORDS, st.lists(st.integers(**INT64), max_size=2), st.floats(min_value=0.1, max_value=0.9))
bad_time = st.one_of(
    st.datetimes(min_value=datetime(2100, 1, 1), max_value=datetime(9999, 1, 1)).map(lambda d: d.isoformat() + "Z"),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(2014, 12, 1)).map(lambda d: d.isoformat() + "Z"),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1)).map(lambda d: d.isoformat()),
    WORDS, st.integers(min_value=-2**62, max_value=-1),
)
#: (field, bad value) pairs; the field must be named in the failure's reason.
corruption = st.one_of(
    st.tuples(st.sampled_from(TOKEN_FIELDS), bad_count),
    st.tuples(st.just("latency_ms"), st.one_of(st.floats(max_value=-0.001), WORDS,
                                                st.floats(min_value=MAX_LATENCY_MS * 2, allow_infinity=False))),
    st.tuples(st.just("occurred_at"), bad_time),
    st.tuples(st.just("event_id"), st.one_of(WORDS, st.integers(**INT64), st.none())),
    st.tuples(st.sampled_from(["account_id", "provider", "model"]),
              st.one_of(st.just(""), TEXT.filter(lambda s: len(s.strip()) > 200), st.integers(**INT64), st.none())),
    st.tuples(st.just("prompt_type"), st.from_regex(r"[a-z]{1,5}[ !@#$%^&*()]{1,3}[a-z]{1,5}", fullmatch=True)),
    st.tuples(st.just("metadata"), st.integers(min_value=1, max_value=4).map(
        lambda n: {f"k{i}": "x" * MAX_METADATA_BYTES for i in range(n)})),
    st.tuples(st.just("metadata"), st.one_of(WORDS, st.lists(st.integers(**INT64), max_size=3))),
    st.tuples(st.just("extra_usage"),
              st.dictionaries(WORDS, st.integers(min_value=-2**63, max_value=-1), min_size=1, max_size=2)),
    st.tuples(st.just("type"), st.integers(min_value=2, max_value=99).map(lambda v: f"ai.call.v{v}")),
    st.tuples(st.just("error_type"), WORDS),  # on a successful call
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.integers(min_value=0, max_value=len(VALID) - 1), corruption, max_size=8),
       st.lists(st.integers(min_value=0, max_value=len(VALID) - 1), max_size=3))
def test_each_bad_event_fails_alone_and_every_valid_one_is_priced(corruptions, duplicated):
    items = [dict(item) for item in VALID]
    bad: dict[int, str] = {}
    for index, (field, value) in corruptions.items():  # one fault per event: each is named
        items[index] = {**items[index], field: value}
        if field == "error_type":
            items[index]["success"] = True
        bad[index] = field
    good = [i for i in range(len(items)) if i not in bad]
    items += [dict(items[i]) for i in duplicated if i in good]  # a producer's re-sent events

    raw = encode_batch(items)
    wire = unpack(raw)  # what the worker sees (JSON has no infinity: -inf is null)
    batch = cost_message(raw, CATALOG, now=NOW)

    assert len(batch.failures) == len(bad)
    for failure, index in zip(batch.failures, sorted(bad)):
        assert failure.item == wire[index]
        field = bad[index]
        assert field in failure.reason or (field == "type" and "version" in failure.reason), failure.reason
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

