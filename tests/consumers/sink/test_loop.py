"""The sink loop against the real broker and engine: a backlog read in one poll is flushed every
``flush_rows`` rows (bounded inserts), and every call is stored once with the offsets committed."""

from __future__ import annotations

import threading
import time

from kafka import KafkaProducer

from ailedger import topics as topic_names
from ailedger.settings import ApiSettings
from consumers.sink import TopicSink
from consumers.sink.costed_writer import CostedCallsWriter
from schemas.codec import encode_batch
from tests.conftest import requires_kafka_semantics
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


@requires_kafka_semantics("Tansu stores no topic configs, so it never refuses a message as too large")
def test_a_refused_dead_letter_holds_the_commit_until_the_broker_takes_it(settings, topics, store):
    """noida-db refuses for real: the dead-letter topic's ``max.message.bytes`` is smaller than the
    letter of a malformed message. The sink stores the valid calls but commits nothing until the
    letter is on the broker; then it commits and the letter is there once."""
    from kafka import KafkaConsumer, TopicPartition

    from tests.stream_processors.test_delivery import set_topic_limit
    from tests.topic_reader import read_topic

    items = costed_items(50, seed=12)
    own = ApiSettings(**{**settings.model_dump(), "flush_rows": 1000, "flush_seconds": 0.2})
    set_topic_limit(own, topic_names.DLQ, 2000)
    costed = own.topic(topic_names.COSTED)
    producer = KafkaProducer(bootstrap_servers=own.bootstrap_servers, acks="all")
    producer.send(costed, value=encode_batch(items), key=b"k", partition=0)
    producer.send(costed, value=b"{" + b"x" * 5000, key=b"k", partition=0)  # malformed: a 5 kB dead letter
    producer.flush()
    producer.close()
    sink = TopicSink(own, store, costed, CostedCallsWriter(), name="test-sink")
    group = KafkaConsumer(bootstrap_servers=own.bootstrap_servers, group_id=own.topic(own.sink_group))
    stop = threading.Event()
    thread = threading.Thread(target=sink.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: store.rows("SELECT count() FROM ai_calls")[1] == [(len(items),)], timeout=60)
        time.sleep(1.5)  # several flushes (every 0.2 s) had their chance to commit
        assert group.committed(TopicPartition(costed, 0)) is None, "committed with the dead letter refused"
        assert sink.stats.dead_letter_failures >= 2
        set_topic_limit(own, topic_names.DLQ, 1_000_000)
        assert wait_for(lambda: group.committed(TopicPartition(costed, 0)) == 2, timeout=60), sink.stats
    finally:
        stop.set()
        thread.join(30)
        group.close()
    letters = [value for _, value in read_topic(own, topic_names.DLQ)]
    assert [(d["stage"], d["offset"], d["reason"].split(":")[0]) for d in letters] == [
        ("sink", 1, "not valid JSON (or not UTF-8)")]
    assert store.rows("SELECT count(), uniqExact(event_id) FROM ai_calls")[1] == [(len(items), len(items))]


def test_the_flush_wait_stretches_with_the_cost_of_the_flushes(settings, topics, store):
    """The loop asks the pacer how old buffered rows may get: 1 s old rows are due at the 0.5 s
    minimum, not once flushes take 0.4 s (4 x 0.4 = 1.6 s), and never beyond the maximum."""
    from kafka.structs import TopicPartition

    own = ApiSettings(**{**settings.model_dump(), "flush_rows": 1000, "flush_seconds": 0.5,
                         "flush_max_seconds": 3.0})
    tp = TopicPartition(own.topic(topic_names.COSTED), 0)
    sink = TopicSink(own, store, tp.topic, CostedCallsWriter(), name="test-sink")
    try:
        sink.buffers.add(tp, 0, [["row"]])
        sink.buffers._by_tp[tp].started = time.monotonic() - 1.0
        assert sink._due()
        sink.pacer.record(0.4)
        assert not sink._due()
        sink.pacer.record(2.0)  # smoothed 1.2 s: 4.8 s, capped at 3 s
        assert sink.pacer.interval == 3.0
        sink.buffers._by_tp[tp].started = time.monotonic() - 3.1
        assert sink._due()
    finally:
        sink.buffers.clear()
        sink.close()
