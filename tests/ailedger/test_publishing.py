"""BatchPublisher against the real broker: events by account, in the SDK's wire form."""

from __future__ import annotations

import orjson
import pytest

from ailedger import topics as topic_names
from ailedger.demo_traffic import generate
from ailedger.publishing import BatchPublisher
from schemas.codec import event_to_dict, parse_batch
from tests.topic_reader import read_topic

pytestmark = pytest.mark.integration


def test_events_and_their_wire_forms_are_published_alike_keyed_by_account(topics):
    events = list(generate(30, seed=21))
    publisher = BatchPublisher(topics, batch_size=4)
    try:
        for n, event in enumerate(events):
            if n % 2:
                publisher.add(event)
            else:
                publisher.add_item(event_to_dict(event))
        assert publisher.flush() == 30
    finally:
        publisher.close()
    messages = read_topic(topics, topic_names.RAW, decode=lambda value: value)
    published = []
    for key, value in messages:
        batch = parse_batch(value)  # every message is a batch of valid current events
        assert batch is not None and 1 <= len(batch) <= 4
        assert {event.account_id.encode() for event in batch} == {key}
        published += batch
    assert sorted(published, key=lambda e: str(e.event_id)) == sorted(events, key=lambda e: str(e.event_id))
    assert orjson.loads(messages[0][1])["type"] == "ai.batch.v1"
