"""The kafka-python group-join fix (ailedger.kafka_rejoin): a consumer that polls briefly and
sleeps between polls, as alert delivery does when idle, still joins its group and consumes.

Without the fix, kafka-python 3.0 throws away a join that finishes between two polls and joins
again; on a broker whose joins take seconds (Tansu: half the session timeout) such a consumer
never gets its assignment.
"""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.coordinator.base import BaseCoordinator

from ailedger import kafka_rejoin


def test_the_installed_kafka_python_is_patched():
    assert kafka_rejoin.install()
    assert kafka_rejoin.install()  # idempotent
    assert hasattr(BaseCoordinator.join_group_async, "__ailedger_original__")


@pytest.mark.integration
def test_a_consumer_that_polls_briefly_and_sleeps_between_polls_joins_and_consumes(broker_bootstrap):
    kafka_rejoin.install()
    topic = f"rejoin{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=broker_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        admin.close()
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
