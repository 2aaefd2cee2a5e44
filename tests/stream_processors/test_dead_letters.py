"""Bad input on the raw topic: each bad message or event is dead-lettered with its reason and
lands in ``dead_letters``; every valid event in the same messages is still stored."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaProducer

from ailedger.topics import RAW
from ailedger.settings import ApiSettings
from consumers.serve import Services
from schemas.codec import encode_batch

pytestmark = pytest.mark.integration


def event(**overrides) -> dict:
    base = {"event_id": str(uuid.uuid4()), "occurred_at": "2026-11-20T10:00:00Z", "account_id": "acme",
            "provider": "openai", "model": "gpt-4o-mini", "input_tokens": 100, "output_tokens": 20}
    return {**base, **overrides}


def test_bad_messages_and_events_are_dead_lettered_with_reasons(settings, topics, store, worker_factory):
    good = [event() for _ in range(5)]
    bad_events = [
        event(input_tokens=-5),
        event(type="ai.call.v7"),
        event(occurred_at="2099-01-01T00:00:00Z"),
        event(metadata={"x": "y" * 20000}),
        {"event_id": "no-other-fields"},
    ]
    raw_messages = [b"\xff\xfe\x00 not utf-8", b"{truncated json", b"12345"]
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    raw_topic = settings.topic(RAW)
    for value in raw_messages:
        producer.send(raw_topic, key=b"acme", value=value)
    producer.send(raw_topic, key=b"acme", value=encode_batch(good[:3] + bad_events))
    producer.send(raw_topic, key=b"acme", value=encode_batch(good[3:]))
    producer.flush()
    producer.close()

    worker_factory()
    services = Services(ApiSettings(**settings.model_dump()), store=store).start()
    try:
        expected_letters = len(raw_messages) + len(bad_events)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            calls = store.rows("SELECT count() FROM ai_calls FINAL")[1][0][0]
            letters = store.rows("SELECT count() FROM dead_letters FINAL")[1][0][0]
            if calls >= len(good) and letters >= expected_letters:
                break
            time.sleep(0.25)
    finally:
        services.stop()

    _, rows = store.rows("SELECT event_id FROM ai_calls FINAL ORDER BY event_id")
    assert sorted(str(r[0]) for r in rows) == sorted(e["event_id"] for e in good)
    letters = store.dicts("SELECT stage, reason, event_id, source_topic, source_offset FROM dead_letters FINAL")
    assert len(letters) == expected_letters
    assert all(l["source_topic"] == raw_topic and l["source_offset"] >= 0 for l in letters)
    reasons = " | ".join(sorted(l["reason"] for l in letters))
    for fragment in ("input_tokens", "ai.call.v7", "in the future", "metadata is", "not valid JSON", "account_id"):
        assert fragment in reasons
    assert sum(l["stage"] == "decode" for l in letters) == len(raw_messages)
    by_id = {l["event_id"]: l["reason"] for l in letters if l["event_id"]}
    assert "input_tokens" in by_id[bad_events[0]["event_id"]]
