"""Packing events into messages: one account per message, size and count limits, headers."""

from __future__ import annotations

import uuid

from producers.wire import pack
from schemas.codec import encode_batch, unpack


def event(account: str, n: int = 0, prompt: str | None = None) -> dict:
    e = {"event_id": str(uuid.uuid4()), "account_id": account, "provider": "p", "model": "m", "input_tokens": n}
    if prompt is not None:
        e["prompt"] = prompt
    return e


def test_messages_hold_one_account_each_in_arrival_order():
    events = [event("a", 1), event("b", 2), event("a", 3), event("c", 4), event("b", 5)]
    messages = pack(events, batch_events=200, max_bytes=1_000_000)
    assert [m.key for m in messages] == [b"a", b"b", b"c"]
    for message in messages:
        items = unpack(message.value)
        assert {i["account_id"] for i in items} == {message.key.decode()}
    assert [i["input_tokens"] for i in unpack(messages[0].value)] == [1, 3]


def test_value_is_the_codec_batch_and_headers_follow_the_contract():
    events = [event("a", i) for i in range(3)]
    (message,) = pack(events, batch_events=200, max_bytes=1_000_000)
    assert message.value == encode_batch(events)
    headers = dict(message.headers)
    assert headers["content-type"] == b"application/json"
    assert headers["ailedger-type"] == b"ai.batch.v1"
    assert headers["ailedger-count"] == b"3"
    assert headers["ailedger-sdk"].startswith(b"python/")
    assert message.event_ids == [e["event_id"] for e in events]


def test_batch_events_caps_the_events_per_message():
    messages = pack([event("a", i) for i in range(450)], batch_events=200, max_bytes=10_000_000)
    assert [m.count for m in messages] == [200, 200, 50]
    assert [i["input_tokens"] for m in messages for i in unpack(m.value)] == list(range(450))


def test_large_events_are_split_to_fit_max_bytes_and_a_huge_one_goes_alone():
    events = [event("a", i, prompt="x" * 30_000) for i in range(10)] + [event("a", 99, prompt="y" * 200_000)]
    messages = pack(events, batch_events=200, max_bytes=100_000)
    assert all(len(m.value) <= 100_000 for m in messages if m.count > 1)
    assert messages[-1].count == 1 and len(messages[-1].value) > 100_000
    assert sum(m.count for m in messages) == 11
    assert [i["input_tokens"] for m in messages for i in unpack(m.value)] == [*range(10), 99]
