"""A second sink joining a busy sink group gets its partitions in one rebalance (ailedger.kafka_rejoin).

kafka-python 3.0 threw away a join whose SyncGroup answer arrived between two ``poll()`` calls and
sent a new JoinGroup at once; the leader's immediate re-join left noida-db's other member waiting
for a JoinGroup answer that never came (test_scale_out: "the second sink got no partition").
"""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from ailedger import kafka_rejoin

pytestmark = pytest.mark.integration


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


def test_a_join_that_ends_between_polls_is_kept_and_a_second_member_gets_partitions(broker_bootstrap):
    assert kafka_rejoin.install()
    topic = f"join{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=broker_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 4, 1)])
    finally:
        admin.close()
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
