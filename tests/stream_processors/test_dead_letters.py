"""Bad input on the raw topic: each bad message or event is dead-lettered with its reason and
lands in ``dead_letters``; every valid event in the same messages is still stored."""

from __future__ import annotations

import time
import uuid

import pytest
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from hypothesis import strategies as st
from kafka import KafkaProducer

from ailedger.topics import RAW
from ailedger.settings import ApiSettings
from consumers.serve import Services
from schemas.codec import encode_batch
from tests.bad_events import corrupt, corruption, is_named

pytestmark = pytest.mark.integration


def event(**overrides) -> dict:
    base = {"event_id": str(uuid.uuid4()), "occurred_at": "2026-11-20T10:00:00Z", "account_id": "acme",
            "provider": "openai", "model": "gpt-4o-mini", "input_tokens": 100, "output_tokens": 20}
    return {**base, **overrides}


def _run_until_stored(settings, store, worker_factory, calls: int, letters: int, timeout: float = 90) -> None:
    """Run the worker and the sinks until ``calls`` calls and ``letters`` dead letters are stored."""
    worker_factory()
    services = Services(ApiSettings(**settings.model_dump()), store=store).start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stored = store.rows("SELECT count() FROM ai_calls FINAL")[1][0][0]
            lettered = store.rows("SELECT count() FROM dead_letters FINAL")[1][0][0]
            if stored >= calls and lettered >= letters:
                break
            time.sleep(0.25)
    finally:
        services.stop()


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

    expected_letters = len(raw_messages) + len(bad_events)
    _run_until_stored(settings, store, worker_factory, len(good), expected_letters)

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


@hypothesis_settings(max_examples=1, phases=[Phase.generate], database=None, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(corruption, min_size=20, max_size=30))
def test_generated_bad_events_are_each_dead_lettered_by_field(settings, topics, store, worker_factory, faults):
    """One generated campaign per run (a broker and a worker per example would be minutes)."""
    good = [event() for _ in range(30)]
    bad = [corrupt(event(), field, value) for field, value in faults]
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    raw_topic = settings.topic(RAW)
    for start in range(0, 30, 10):  # three messages, good and bad events mixed
        producer.send(raw_topic, key=b"acme", value=encode_batch(good[start:start + 10] + bad[start:start + 10]))
    producer.flush()
    producer.close()

    _run_until_stored(settings, store, worker_factory, len(good), len(bad))

    _, rows = store.rows("SELECT event_id FROM ai_calls FINAL")
    assert sorted(str(r[0]) for r in rows) == sorted(e["event_id"] for e in good)
    letters = store.dicts("SELECT reason, event_id FROM dead_letters FINAL")
    assert len(letters) == len(bad)
    by_id = {l["event_id"]: l["reason"] for l in letters}
    for (field, _), item in zip(faults, bad):
        if field != "event_id":
            assert is_named(field, by_id[item["event_id"]]), by_id[item["event_id"]]
