"""The sink loop against the real broker and engine: a backlog read in one poll is flushed every
``flush_rows`` rows (bounded inserts), and every call is stored once with the offsets committed."""

from __future__ import annotations

import threading

from kafka import KafkaProducer

from ailedger import topics as topic_names
from ailedger.settings import ApiSettings
from consumers.sink import TopicSink
from consumers.sink.costed_writer import CostedCallsWriter
from schemas.codec import encode_batch
from tests.consumers.conftest import wait_for
from tests.consumers.sink.test_costed_rows import costed_items


def test_a_backlog_is_flushed_in_bounded_inserts_and_stored_once(settings, topics, store):
    items = costed_items(600, seed=9)
    own = ApiSettings(**{**settings.model_dump(), "flush_rows": 100, "flush_seconds": 0.5})
    producer = KafkaProducer(bootstrap_servers=own.bootstrap_servers, acks="all")
    for start in range(0, len(items), 40):
        producer.send(own.topic(topic_names.COSTED), value=encode_batch(items[start:start + 40]), key=b"k")
    producer.flush()
    producer.close()
    sink = TopicSink(own, store, own.topic(topic_names.COSTED), CostedCallsWriter(), name="test-sink")
    stop = threading.Event()
    thread = threading.Thread(target=sink.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: sink.stats.rows_written == len(items), timeout=60), sink.stats
    finally:
        stop.set()
        thread.join(30)
    assert sink.stats.flushes >= len(items) // 120  # ~every 100 rows, not once per poll
    _, rows = store.rows("SELECT count(), uniqExact(event_id) FROM ai_calls")
    assert rows == [(len(items), len(items))]
    _, rollup = store.rows("SELECT sum(calls) FROM ai_calls_daily")
    assert rollup == [(len(items),)]
