"""Price overrides from the compacted ``ai.pricing.v1`` topic reach every worker and replay.

Every reader consumes all partitions from the beginning without a consumer group (a "global
table"), so each worker holds every override; a price set through the API reaches all of them.
A bad record is logged and skipped: it never stops pricing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ailedger import topics
from ailedger.settings import CommonSettings

log = logging.getLogger(__name__)


def _apply(catalog: Any, key: bytes | None, value: bytes | None) -> None:
    try:
        catalog.apply_message(key, value)
    except Exception as exc:  # noqa: BLE001 - one bad price record must not stop pricing
        log.warning("ignored pricing record %r: %s", key, exc)


def load_pricing_topic(settings: CommonSettings, catalog: Any, timeout: float = 30.0) -> int:
    """Apply every record currently on the pricing topic (synchronously, for replay and imports)."""
    from kafka import KafkaConsumer, TopicPartition

    topic = settings.topic(topics.PRICING)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
                             group_id=None, client_id="ailedger-pricing-loader")
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return 0
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        applied = 0
        remaining = {tp for tp in tps if ends[tp] > 0}
        deadline = time.monotonic() + timeout
        while remaining and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=200).items():
                for record in records:
                    _apply(catalog, record.key, record.value)
                    applied += 1
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        if remaining:
            raise TimeoutError(f"pricing topic {topic} not read to its end within {timeout:.0f}s")
        return applied
    finally:
        consumer.close()


async def follow_pricing_topic(settings: CommonSettings, catalog: Any, caught_up: asyncio.Event) -> None:
    """Tail the pricing topic forever; set ``caught_up`` once the records present at start are applied."""
    from aiokafka import AIOKafkaConsumer

    topic = settings.topic(topics.PRICING)
    # group_id=None with a topic: every partition is assigned to this consumer, no group.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                                group_id=None, auto_offset_reset="earliest", client_id="ailedger-pricing-feed")
    await consumer.start()
    try:
        ends = None
        while True:
            batches = await consumer.getmany(timeout_ms=300)
            for records in batches.values():
                for record in records:
                    _apply(catalog, record.key, record.value)
            if caught_up.is_set():
                continue
            assigned = consumer.assignment()
            if not assigned:
                continue
            if ends is None:
                ends = await consumer.end_offsets(list(assigned))
            positions = {tp: await consumer.position(tp) for tp in assigned}
            if all(positions[tp] >= ends.get(tp, 0) for tp in assigned):
                log.info("pricing overrides loaded from %s", topic)
                caught_up.set()
    finally:
        await consumer.stop()
