"""Fetch pacing (ailedger.kafka_pacing): an idle consumer stops spinning on a broker that answers
empty fetches at once, and records are still delivered, whether they arrive while it waits or
in a burst that takes many fetches.

The bounds are loose on purpose (speed is measured in benchmarks/bench_fetch_pacing.py): with an
interval of ``INTERVAL_MS`` one idle consumer (one node) may send about one fetch per interval;
without the shim it sends thousands per second on noida-db. On a broker that honours
``max_wait_ms`` (Tansu, Kafka) the idle count is far lower anyway.
"""

from __future__ import annotations

import asyncio
import time

import aiokafka
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ailedger import kafka_pacing
from tests.ailedger.conftest import create_topic

INTERVAL_MS = 100
IDLE_S = 2.0
# At most ~one fetch per interval, doubled, plus some for start-up: 2 s / 0.1 s * 2 + 10 = 50.
IDLE_FETCH_BOUND = int(IDLE_S / (INTERVAL_MS / 1000) * 2 + 10)
PARTITIONS = 4


@pytest.fixture
def pacing():
    """The shim installed with INTERVAL_MS; the process's previous state restored afterwards."""
    was_installed, previous = kafka_pacing.installed(), (kafka_pacing.backoff_ms(), kafka_pacing.max_backoff_ms())
    kafka_pacing.install(INTERVAL_MS)
    yield
    if was_installed:
        kafka_pacing.install(*previous)
    else:
        kafka_pacing.uninstall()


@pytest.fixture
def topic(broker_bootstrap, unique_id) -> str:
    return create_topic(broker_bootstrap, f"pacing-{unique_id}", PARTITIONS)


def publish(bootstrap: str, topic: str, values: list[bytes], partition: int | None = None) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    try:
        for i, value in enumerate(values):
            producer.send(topic, value=value, partition=i % PARTITIONS if partition is None else partition)
        producer.flush(30)
    finally:
        producer.close()


# -- install ---------------------------------------------------------------------------------

def test_install_is_idempotent_and_reads_the_environment(monkeypatch):
    from aiokafka.consumer.fetcher import Fetcher as AioFetcher
    from kafka.consumer.fetcher import Fetcher as KpFetcher

    was_installed, previous = kafka_pacing.installed(), (kafka_pacing.backoff_ms(), kafka_pacing.max_backoff_ms())
    kafka_pacing.uninstall()
    originals = (AioFetcher._proc_fetch_request, KpFetcher.fetch_records)
    try:
        monkeypatch.setenv(kafka_pacing.ENV, "45")
        kafka_pacing.install()
        patched = (AioFetcher._proc_fetch_request, KpFetcher.fetch_records)
        assert patched != originals and kafka_pacing.backoff_ms() == 45
        kafka_pacing.install()  # again: same wrappers, not wrappers of wrappers
        assert (AioFetcher._proc_fetch_request, KpFetcher.fetch_records) == patched
        monkeypatch.setenv(kafka_pacing.ENV, "0")
        kafka_pacing.install()
        assert kafka_pacing.backoff_ms() == 0
        monkeypatch.delenv(kafka_pacing.ENV)
        kafka_pacing.install()
        assert kafka_pacing.backoff_ms() == kafka_pacing.DEFAULT_BACKOFF_MS
        assert kafka_pacing.max_backoff_ms() == kafka_pacing.DEFAULT_MAX_BACKOFF_MS
        monkeypatch.setenv(kafka_pacing.MAX_ENV, "500")
        kafka_pacing.install()
        assert kafka_pacing.max_backoff_ms() == 500
        kafka_pacing.install(1000)  # the maximum is never below the interval
        assert kafka_pacing.max_backoff_ms() == 1000
        kafka_pacing.uninstall()
        assert (AioFetcher._proc_fetch_request, KpFetcher.fetch_records) == originals
    finally:
        kafka_pacing.uninstall()
        if was_installed:
            kafka_pacing.install(*previous)


def test_only_an_early_empty_fetch_holds_the_same_partitions_at_the_same_offsets(pacing):
    interval = kafka_pacing.backoff_ms() / 1000
    holds = kafka_pacing._Holds()
    asked = frozenset({("t", 0, 5), ("t", 1, 7)})
    now = time.monotonic()
    holds.record(1, asked, sent_at=now, empty=True)
    assert 0 < holds.held(1, asked, now) <= interval + 1e-9  # (now + interval) - now: float rounding
    assert holds.held(1, frozenset({("t", 1, 7)}), now) > 0  # a subset: still nothing new to ask
    assert holds.held(1, frozenset({("t", 0, 6), ("t", 1, 7)}), now) == 0  # partition 0 moved on
    assert holds.held(1, asked | {("t", 2, 0)}, now) == 0  # another partition to fetch
    assert holds.held(2, asked, now) == 0  # another node
    assert holds.held(1, asked, now + interval) == 0  # the interval has passed
    holds.record(1, asked, sent_at=now, empty=False)  # records (or an error) came back
    assert holds.held(1, asked, now) == 0 and holds.remaining(now) == 0
    holds.record(1, asked, sent_at=time.monotonic() - interval, empty=True)  # took max_wait_ms
    assert holds.remaining(time.monotonic()) == 0


def test_holds_double_while_the_same_partitions_stay_empty_and_reset_on_news(pacing):
    kafka_pacing.install(10, 80)
    holds = kafka_pacing._Holds()
    asked = frozenset({("t", 0, 5), ("t", 1, 7)})
    lengths = []
    for _ in range(6):  # an idle topic: every fetch of the same offsets comes back empty at once
        now = time.monotonic()
        holds.record(1, asked, sent_at=now, empty=True)
        lengths.append(round(holds.held(1, asked, now), 3))
    assert lengths == [0.01, 0.02, 0.04, 0.08, 0.08, 0.08]
    now = time.monotonic()
    moved = frozenset({("t", 0, 6), ("t", 1, 7)})  # partition 0 had a record: a busy consumer
    holds.record(1, moved, sent_at=now, empty=True)
    assert round(holds.held(1, moved, now), 3) == 0.01
    holds.record(1, moved, sent_at=now, empty=False)  # records came back: the next hold starts over
    holds.record(1, moved, sent_at=now, empty=True)
    assert round(holds.held(1, moved, now), 3) == 0.01
    kafka_pacing.install(10, 10)  # maximum == interval: no growth
    holds.record(1, moved, sent_at=now, empty=True)
    assert round(holds.held(1, moved, now), 3) == 0.01


# -- aiokafka ----------------------------------------------------------------------------------

async def _aiokafka_consumer(bootstrap: str, topic: str, **config) -> tuple[aiokafka.AIOKafkaConsumer, list[int]]:
    """A consumer of all partitions (no group: no join wait), counting its fetch requests."""
    consumer = aiokafka.AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                         enable_auto_commit=False, **config)
    await consumer.start()
    fetches = [0]
    send = consumer._client.send

    def counting_send(node_id, request, *args, **kwargs):
        if type(request).__name__.startswith("FetchRequest"):
            fetches[0] += 1
        return send(node_id, request, *args, **kwargs)

    consumer._client.send = counting_send
    consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    return consumer, fetches


@pytest.mark.integration
def test_aiokafka_idle_consumer_is_paced_and_records_arriving_while_it_waits_are_delivered(
        pacing, broker_bootstrap, topic):
    async def run():
        consumer, fetches = await _aiokafka_consumer(broker_bootstrap, topic)
        try:
            await consumer.getmany(timeout_ms=500)  # positions reset, first fetches sent
            start, end = fetches[0], time.monotonic() + IDLE_S
            while time.monotonic() < end:
                assert not await consumer.getmany(timeout_ms=200)
            idle_fetches = fetches[0] - start

            sent = [f"m{i}".encode() for i in range(40)]
            await asyncio.to_thread(publish, broker_bootstrap, topic, sent)
            got, deadline = [], time.monotonic() + 30
            while len(got) < len(sent) and time.monotonic() < deadline:
                for messages in (await consumer.getmany(timeout_ms=200)).values():
                    got += [m.value for m in messages]
            return idle_fetches, got, sent
        finally:
            await consumer.stop()

    idle_fetches, got, sent = asyncio.run(run())
    assert idle_fetches <= IDLE_FETCH_BOUND
    assert sorted(got) == sorted(sent)


@pytest.mark.integration
def test_aiokafka_partition_with_data_is_not_held_behind_empty_fetches(pacing, broker_bootstrap, topic):
    """With a 10 s interval: partition 0 has data, 1-3 are empty. While the user works through
    partition 0's buffered records the fetcher fetches 1-3 alone; on noida-db that comes back
    empty at once and arms pacing. When partition 0 is consumed, its next fetch (new offset)
    must go out at once, not after the 10 s: the second batch arrives well before that."""
    kafka_pacing.install(10_000)
    first = [f"a{i}".encode() for i in range(300)]
    second = [f"b{i}".encode() for i in range(300)]
    publish(broker_bootstrap, topic, first, partition=0)

    async def run():
        consumer, _ = await _aiokafka_consumer(broker_bootstrap, topic)
        try:
            got, deadline = [], time.monotonic() + 30
            while not got and time.monotonic() < deadline:
                for messages in (await consumer.getmany(timeout_ms=200, max_records=10)).values():
                    got += [m.value for m in messages]
            await asyncio.to_thread(publish, broker_bootstrap, topic, second, 0)
            await asyncio.sleep(0.5)  # partitions 1-3 are fetched (empty) meanwhile
            started = time.monotonic()
            while len(got) < len(first) + len(second) and time.monotonic() - started < 30:
                for messages in (await consumer.getmany(timeout_ms=200, max_records=50)).values():
                    got += [m.value for m in messages]
            return got, time.monotonic() - started
        finally:
            await consumer.stop()

    got, elapsed = asyncio.run(run())
    assert got == first + second
    assert elapsed < 5.0  # held behind the empty fetches it would take >= 10 s


# -- kafka-python ------------------------------------------------------------------------------

def _kafka_python_consumer(bootstrap: str, topic: str, **config) -> tuple[KafkaConsumer, list[int]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                             enable_auto_commit=False, **config)
    fetches = [0]
    fetcher = consumer._fetcher
    create = fetcher._create_fetch_requests

    def counting_create():
        requests = create()
        fetches[0] += len(requests)
        return requests

    fetcher._create_fetch_requests = counting_create
    consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    return consumer, fetches


@pytest.mark.integration
def test_kafka_python_idle_consumer_is_paced_and_records_arriving_while_it_waits_are_delivered(
        pacing, broker_bootstrap, topic):
    consumer, fetches = _kafka_python_consumer(broker_bootstrap, topic)
    try:
        consumer.poll(timeout_ms=500)
        start, end = fetches[0], time.monotonic() + IDLE_S
        polls = 0
        while time.monotonic() < end:
            before = time.monotonic()
            assert not consumer.poll(timeout_ms=100)  # the sink's cadence
            polls += 1
            assert time.monotonic() - before >= 0.09  # an empty poll still blocks for its timeout
        idle_fetches = fetches[0] - start

        sent = [f"m{i}".encode() for i in range(40)]
        publish(broker_bootstrap, topic, sent)
        got, deadline = [], time.monotonic() + 30
        while len(got) < len(sent) and time.monotonic() < deadline:
            for messages in consumer.poll(timeout_ms=100).values():
                got += [m.value for m in messages]
    finally:
        consumer.close()
    assert idle_fetches <= IDLE_FETCH_BOUND
    assert polls <= IDLE_S / 0.09 + 1
    assert sorted(got) == sorted(sent)


@pytest.mark.integration
def test_kafka_python_fetch_after_records_is_not_paced(pacing, broker_bootstrap, topic):
    """With a 10 s interval: the fetch after one that returned records goes out at once, so a
    second batch published while the first is being consumed arrives well before 10 s."""
    kafka_pacing.install(10_000)
    first = [f"a{i}".encode() for i in range(300)]
    second = [f"b{i}".encode() for i in range(300)]
    publish(broker_bootstrap, topic, first, partition=0)
    consumer, _ = _kafka_python_consumer(broker_bootstrap, topic, max_poll_records=10)
    try:
        got, deadline = [], time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            for messages in consumer.poll(timeout_ms=200).values():
                got += [m.value for m in messages]
        publish(broker_bootstrap, topic, second, partition=0)
        started = time.monotonic()
        while len(got) < len(first) + len(second) and time.monotonic() - started < 30:
            for messages in consumer.poll(timeout_ms=200, max_records=50).values():
                got += [m.value for m in messages]
        elapsed = time.monotonic() - started
    finally:
        consumer.close()
    assert got == first + second
    assert elapsed < 5.0
