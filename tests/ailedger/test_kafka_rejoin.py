"""The kafka-python group-join fix (ailedger.kafka_rejoin).

kafka-python 3.0 throws away a join that finishes between two ``poll()`` calls and joins again
at once. On a broker whose joins take seconds (Tansu: half the session timeout) a consumer that
polls briefly and sleeps between polls, as alert delivery does when idle, never gets its
assignment; on noida-db the leader's immediate re-join left a joining member waiting for a
JoinGroup answer that never came (test_scale_out: "the second sink got no partition").
"""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.coordinator.base import BaseCoordinator

from ailedger import kafka_rejoin
from tests.ailedger.conftest import create_topic


def _new_topic(bootstrap: str, prefix: str, partitions: int) -> str:
    return create_topic(bootstrap, f"{prefix}{uuid.uuid4().hex[:10]}", partitions)


def test_the_installed_kafka_python_is_patched():
    assert kafka_rejoin.install()
    assert kafka_rejoin.install()  # idempotent
    assert hasattr(BaseCoordinator.join_group_async, "__ailedger_original__")


@pytest.mark.integration
def test_a_consumer_that_polls_briefly_and_sleeps_between_polls_joins_and_consumes(broker_bootstrap):
    kafka_rejoin.install()
    topic = _new_topic(broker_bootstrap, "rejoin", 1)
    producer = KafkaProducer(bootstrap_servers=broker_bootstrap, acks="all")
    producer.send(topic, b"hello")
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=broker_bootstrap, group_id=f"g-{topic}", enable_auto_commit=False,
                             auto_offset_reset="earliest", session_timeout_ms=10_000, heartbeat_interval_ms=1_000,
                             max_poll_interval_ms=10_000)
    consumer.subscribe([topic])
    try:
        got, deadline = [], time.monotonic() + 60
        while not got and time.monotonic() < deadline:
            got = [r.value for records in consumer.poll(timeout_ms=20).values() for r in records]
            if not got:
                time.sleep(0.5)  # as consumers.alerts.delivery when idle
        assert got == [b"hello"], "the consumer never got its assignment (joins thrown away?)"
    finally:
        consumer.close(timeout_ms=5000)


def _consumer(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             session_timeout_ms=10_000, heartbeat_interval_ms=1_000)
    consumer.subscribe([topic])
    return consumer


def _generation(consumer: KafkaConsumer) -> int:
    return consumer._coordinator._generation.generation_id  # noqa: SLF001 - what the test is about


def _poll_until_assigned(consumers, deadline: float) -> None:
    while time.monotonic() < deadline and not all(c.assignment() for c in consumers):
        for c in consumers:
            c.poll(timeout_ms=20)
        time.sleep(0.3)  # most join/sync answers arrive while no poll() is waiting for them


@pytest.mark.integration
def test_a_join_that_ends_between_polls_is_kept_and_a_second_member_gets_partitions(broker_bootstrap):
    assert kafka_rejoin.install()
    topic = _new_topic(broker_bootstrap, "join", 4)
    group = f"g-{topic}"
    first = _consumer(broker_bootstrap, topic, group)
    second = None
    try:
        _poll_until_assigned([first], time.monotonic() + 60)
        assert first.assignment(), "the first member never got its assignment"
        joined_at = _generation(first)
        for _ in range(5):  # stable: no spurious rejoin after a join that ended between polls
            first.poll(timeout_ms=20)
            time.sleep(0.3)
        assert _generation(first) == joined_at, "the member rejoined after its join had succeeded"

        second = _consumer(broker_bootstrap, topic, group)
        _poll_until_assigned([first, second], time.monotonic() + 60)
        assert second.assignment(), "the second member got no partition"
        settle = time.monotonic() + 30  # the leader may read its own SyncGroup answer a poll later
        while time.monotonic() < settle and (_generation(first) != _generation(second)
                                             or first.assignment() & second.assignment()):
            for c in (first, second):
                c.poll(timeout_ms=20)
            time.sleep(0.1)
        # one rebalance for one new member
        assert _generation(first) == _generation(second) == joined_at + 1
        owned = [{tp.partition for tp in c.assignment()} for c in (first, second)]
        assert not (owned[0] & owned[1]) and owned[0] | owned[1] == {0, 1, 2, 3}
    finally:
        for c in (first, second):
            if c is not None:
                c.close(timeout_ms=5000)
