"""Reading a whole topic back in the integration tests: what the broker holds, from the beginning
to the end offsets it reported when the read began (and the rest of a batch already fetched)."""

from __future__ import annotations

import time
from typing import Any, Callable

import orjson
from kafka import KafkaConsumer, TopicPartition

from ailedger.settings import CommonSettings


def read_topic(settings: CommonSettings, name: str, *, full_name: bool = False,
               decode: Callable[[bytes], Any] = orjson.loads, timeout: float = 60.0) -> list[tuple[bytes, Any]]:
    """Every (key, ``decode``d value) on a topic (``None`` for a tombstone); fails after ``timeout``
    seconds rather than return part of it."""
    topic = name if full_name else settings.topic(name)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        out = []

        def take(polled: dict) -> dict:
            for records in polled.values():
                out.extend((r.key, None if r.value is None else decode(r.value)) for r in records)
            return polled

        while any(consumer.position(tp) < ends[tp] for tp in tps):
            assert time.monotonic() < deadline, f"{topic} not read to its end offsets {ends} in {timeout}s"
            take(consumer.poll(timeout_ms=500))
        # The rest of a record batch already fetched: Tansu reports a partition's end as its last
        # batch's first offset + 1, so a poll cut at max_poll_records would leave that batch's
        # other records behind. Nothing is waited for: only what the consumer holds is taken.
        while take(consumer.poll(timeout_ms=0)):
            pass
        return out
    finally:
        consumer.close()


def group_lag(settings: CommonSettings, group: str, name: str = "") -> int:
    """Messages of the raw topic (or of topic ``name``) consumer group ``group`` has not committed
    (:func:`ailedger.lag.group_lag`, each partition at least 0); the topic must exist."""
    from ailedger.lag import group_lag as lag_of
    from ailedger.topics import RAW

    topic = settings.topic(name or RAW)
    behind = lag_of(settings.bootstrap_servers, group, topic)
    assert behind is not None, f"the broker has no topic {topic}"
    return behind


def costed_items(raw: bytes) -> list[Any]:
    """The calls of a costed message in the row form (``ai.call.costed.v1`` dicts), whichever
    form it was sent in (the items of any other batch message)."""
    from schemas.costed_columns import CostedColumns, decode_costed

    decoded = decode_costed(raw)
    return decoded.items() if isinstance(decoded, CostedColumns) else decoded


def costed_calls(settings: CommonSettings) -> int:
    """How many calls the costed topic holds (more than were published after a pricing replay)."""
    from ailedger.topics import COSTED

    return sum(len(items) for _, items in read_topic(settings, COSTED, decode=costed_items))
