"""The sink loop (as OpenMeter's): poll, buffer per partition, flush at N rows or T seconds,
insert with a dedup token, and only then commit the offsets.

* Under load the flush interval may stretch from ``flush_seconds`` up to ``flush_max_seconds``
  (:mod:`.pacing`): an insert's fixed cost is large, so bigger inserts leave more CPU for the rest,
  at the price of latency. The defaults (0.5 and 0.5 s) do not stretch; deployments that favour
  throughput over produce-to-queryable latency raise ``flush_max_seconds``.
* A failed insert commits nothing: the partitions are paused (the consumer keeps its group
  membership by polling) and the same rows are retried with the same token and backoff.
* On revoke, the revoked partitions' buffered rows are dropped; their new owner re-reads them.
* A message that cannot be turned into rows goes to the dead-letter topic and never stops the
  sink. Its dead letter is part of the flush: the offsets are committed only once the broker has
  acknowledged every letter (``KafkaProducer.flush`` waits for sends but ignores their failures);
  a refused letter is sent again and the flush retried, like a failed insert.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol, Sized

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from ailedger import kafka_rejoin
from ailedger.settings import SinkSettings
from consumers.clickhouse.store import Store
from consumers.sink.buffer import Buffers
from consumers.sink.pacing import FlushPacer
from schemas.codec import dumps
from schemas.dead_letter import DeadLetter

log = logging.getLogger(__name__)


class Writer(Protocol):
    """Turns messages into rows of one table."""

    table: str
    columns: tuple[str, ...]

    def to_rows(self, value: bytes, partition: int, offset: int) -> tuple[Sized, list[tuple[str, Any, str | None]]]:
        """Rows of one message (a list, or any batch of rows the writer reads back), and its
        failures as (reason, raw item, event_id)."""

    def prepare(self, store: Store, batches: list[Any]) -> Sized:
        """Last step before the insert, given the buffered batches of :meth:`to_rows` in order
        (e.g. drop already-stored versions)."""

    def write(self, store: Store, rows: Any, dedup_token: str | None) -> None:
        """Insert prepared rows into ``table`` (one insert, deduplicated by ``dedup_token``)."""


@dataclass
class SinkStats:
    messages: int = 0
    rows_in: int = 0
    rows_written: int = 0
    rows_skipped: int = 0
    flushes: int = 0
    insert_failures: int = 0
    commit_failures: int = 0
    dead_letters: int = 0
    dead_letter_failures: int = 0
    last_flush_ms: float = 0.0


class _Revoker(ConsumerRebalanceListener):
    def __init__(self, sink: "TopicSink"):
        self.sink = sink

    def on_partitions_revoked(self, revoked):
        self.sink.buffers.drop(revoked)
        self.sink.dropped.update(revoked)

    def on_partitions_assigned(self, assigned):
        pass


class TopicSink:
    """One consumer-group member writing one topic into one ClickHouse table."""

    def __init__(self, settings: SinkSettings, store: Store, topic: str, writer: Writer, *,
                 group: str | None = None, name: str = "sink", fetch_max_wait_ms: int | None = None):
        self.settings = settings
        self.store = store
        self.topic = topic
        self.writer = writer
        self.name = name
        self.stats = SinkStats()
        self.buffers = Buffers()
        self.pacer = FlushPacer(settings.flush_seconds, settings.flush_max_seconds)
        self._dlq_topic = settings.topic("ai.dlq.v1")
        instance = f"{settings.sink_instance_id}-{name}" if settings.sink_instance_id else None
        kafka_rejoin.install()  # else a join that ends between two polls is dropped and redone, for ever
        self.consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=settings.topic(group or settings.sink_group),
            group_instance_id=instance,
            client_id=f"ailedger-{name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=2000,
            fetch_max_bytes=32 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_wait_ms=fetch_max_wait_ms or settings.fetch_max_wait_ms,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        self.consumer.subscribe([topic], listener=_Revoker(self))
        self.dropped: set = set()  # partitions whose buffered rows were dropped at a revoke
        self._producer: KafkaProducer | None = None
        self._letters: list[tuple[Any, bytes | None, bytes]] = []  # (delivery, key, value) not yet acknowledged
        self._paused = False
        self._retry_at = 0.0
        self._backoff = 0.2

    # -- dead letters ---------------------------------------------------------------------
    def _dead_letter(self, reason: str, raw: Any, partition: int, offset: int, event_id: str | None) -> None:
        letter = DeadLetter.of("sink", reason, raw if isinstance(raw, (bytes, str)) else dumps(raw),
                               topic=self.topic, partition=partition, offset=offset, event_id=event_id)
        self._send_letter((event_id or "").encode() or None, dumps(letter))
        self.stats.dead_letters += 1

    def _send_letter(self, key: bytes | None, value: bytes) -> None:
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.settings.bootstrap_servers, acks="all",
                                           client_id=f"ailedger-{self.name}-dlq")
        self._letters.append((self._producer.send(self._dlq_topic, value=value, key=key), key, value))

    def _letters_delivered(self) -> bool:
        """Wait for the dead letters sent since the last commit; send the refused ones again."""
        if self._producer is None or not self._letters:
            return True
        self._producer.flush()
        refused = [(future.exception, key, value) for future, key, value in self._letters if future.failed()]
        self._letters.clear()
        if not refused:
            return True
        self.stats.dead_letter_failures += 1
        log.warning("%s: %d dead letters not delivered (%s); not committing, sending them again", self.name,
                    len(refused), refused[0][0])
        self._producer.close(timeout=5)  # an idempotent producer stays failed after a refused batch: a new one
        self._producer = None
        for _, key, value in refused:
            self._send_letter(key, value)
        return False

    # -- the loop -------------------------------------------------------------------------
    def poll_once(self, timeout_ms: int = 100) -> None:
        records = self.consumer.poll(timeout_ms=timeout_ms)
        if self.dropped:
            self._rewind_dropped(records)
        for tp, messages in records.items():
            for message in messages:
                self.stats.messages += 1
                rows, failures = self.writer.to_rows(message.value, tp.partition, message.offset)
                for reason, raw, event_id in failures:
                    self._dead_letter(reason, raw, tp.partition, message.offset, event_id)
                self.stats.rows_in += len(rows)
                self.buffers.add(tp, message.offset, rows)
                if self.buffers.row_count >= self.settings.flush_rows and not self._paused:
                    # A poll can return thousands of messages (a backlog): flush every flush_rows
                    # rows rather than once per poll, so no insert grows without bound.
                    self.flush()
        if self._due():
            self.flush()

    def _rewind_dropped(self, records: dict) -> None:
        """A partition revoked and then assigned again keeps its fetch position, but its buffered
        rows were dropped: read it again from the committed offset, or rows would be skipped."""
        for tp in self.dropped & self.consumer.assignment():
            records.pop(tp, None)
            committed = self.consumer.committed(tp)
            offset = getattr(committed, "offset", committed)
            if offset is None or offset < 0:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
        self.dropped.clear()

    def _due(self) -> bool:
        if not self.buffers.pending():
            return False
        if self._paused:
            return time.monotonic() >= self._retry_at
        return (self.buffers.row_count >= self.settings.flush_rows
                or self.buffers.oldest_age() >= self.pacer.interval)

    def flush(self) -> bool:
        """Insert everything buffered, then commit. Returns False if the insert failed."""
        if not self.buffers.pending():
            return True
        started = time.perf_counter()
        try:
            rows = self.writer.prepare(self.store, self.buffers.batches())
            if rows:
                self.writer.write(self.store, rows, self.buffers.dedup_token())
        except Exception as exc:  # noqa: BLE001 - ClickHouse unavailable: keep the rows, retry later
            self.stats.insert_failures += 1
            self._pause(exc)
            return False
        if not self._letters_delivered():
            self._pause(RuntimeError(f"dead letters not delivered to {self._dlq_topic}"))
            return False
        try:
            self.consumer.commit(self.buffers.offsets_to_commit())
        except KafkaError as exc:
            # A rebalance took the partitions meanwhile. The rows are stored; their new owner
            # re-reads from the last commit and the version check skips what is already stored.
            self.stats.commit_failures += 1
            log.warning("%s: commit after insert failed (%s); the new owner re-reads these offsets", self.name, exc)
        self.stats.rows_written += len(rows)
        self.stats.rows_skipped += self.buffers.row_count - len(rows)
        self.stats.flushes += 1
        elapsed = time.perf_counter() - started
        self.stats.last_flush_ms = elapsed * 1000
        self.pacer.record(elapsed)
        self.buffers.clear()
        self._resume()
        return True

    def _pause(self, exc: Exception) -> None:
        log.warning("%s: flush into %s failed (%s); retrying in %.1fs", self.name, self.writer.table, exc,
                    self._backoff)
        if not self._paused:
            self.consumer.pause(*self.consumer.assignment())
            self._paused = True
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, 10.0)

    def _resume(self) -> None:
        self._backoff = 0.2
        if self._paused:
            self.consumer.resume(*self.consumer.paused())
            self._paused = False

    def assigned(self) -> set[int]:
        """Partitions this member owns now (for health checks and tests)."""
        return {tp.partition for tp in self.consumer.assignment()}

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; then flush what is buffered and leave the group."""
        try:
            while not stop.is_set():
                self.poll_once()
            self.flush()
        finally:
            self.close()

    def close(self) -> None:
        try:
            if self._producer is not None:
                self._producer.flush()
                self._producer.close()
        finally:
            self.consumer.close(timeout_ms=5000)  # a broker that ignores LeaveGroup must not hold the stop for 30 s
