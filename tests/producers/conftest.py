"""Helpers for the producer tests: read a topic to its end, read a spool directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ailedger.settings import CommonSettings
from ailedger.topics import RAW
from producers.config import LedgerSettings
from producers.sender import KafkaSender
from schemas.codec import unpack


def consume_raw(settings: CommonSettings) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Every message of the raw topic up to its current end: (message, its events)."""
    from kafka import KafkaConsumer, TopicPartition

    topic = settings.topic(RAW)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        out = []
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                out.extend((r, unpack(r.value)) for r in records)
        return out
    finally:
        consumer.close()


def consumed_events(settings: CommonSettings) -> list[dict[str, Any]]:
    return [event for _, events in consume_raw(settings) for event in events]


def spooled_lines(directory: Path) -> list[dict[str, Any]]:
    """Every event line in a spool directory's segments, in order (acknowledged or not)."""
    events = []
    for segment in sorted(directory.glob("*.jsonl")):
        if segment.stem.isdigit():
            events.extend(orjson.loads(line) for line in segment.read_bytes().splitlines() if line)
    return events


def rejected_letters(directory: Path) -> list[dict[str, Any]]:
    path = directory / "rejects.jsonl"
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


@pytest.fixture
def offline_settings(tmp_path: Path) -> LedgerSettings:
    """Settings pointing at a port where no broker listens: every event ends in the spool."""
    from ailedger.broker import free_port

    return LedgerSettings(
        home=tmp_path / "home",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        connect_timeout_s=0.2,
        retry_interval_s=60,
        linger_ms=0,
    )


@pytest.fixture
def ledger_settings(topics: CommonSettings, tmp_path: Path) -> LedgerSettings:
    """Producer settings on the session broker with this test's topics."""
    return LedgerSettings(
        home=tmp_path / "sdk",
        kafka_bootstrap=topics.kafka_bootstrap,
        topic_prefix=topics.topic_prefix,
        partitions=topics.partitions,
        linger_ms=5,
    )


@pytest.fixture
def sender(ledger_settings: LedgerSettings):
    """A publisher to this test's raw topic on the session broker."""
    s = KafkaSender(ledger_settings)
    yield s
    s.close(timeout=5)
