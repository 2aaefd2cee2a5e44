"""Replay: re-read the raw topic for an event-time range, price under the current catalog and
re-emit costed calls with a higher version, so ClickHouse keeps the latest and never
double-counts.

* ``reprice`` re-rates every call in the range (after a price change).
* ``repair`` only fills gaps: calls missing from ClickHouse, and calls stored unpriced that
  now have a price. The sink applies the mode (it knows what is stored).

Event time is in the payload and the broker stamps its own append time, so the scan starts at
the first message appended at or after ``start - MAX_FUTURE_SKEW`` (no event can be appended
before it happened, beyond the accepted clock skew) and reads every message appended before the
replay started.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ailedger import topics
from ailedger.settings import WorkerSettings
from schemas.codec import DecodeError, unpack
from schemas.costed_columns import encode_costed_messages
from schemas.events import MAX_FUTURE_SKEW
from schemas.upcasting import upcast
from stream_processors.costing import cost_batch
from stream_processors.pricing import CreditRules, load_catalog
from stream_processors.pricing_feed import load_pricing_topic
from stream_processors.stats.guard import SOURCE_HEADER, source_header

MODES = ("reprice", "repair")


class ReplayNotDelivered(RuntimeError):
    """Costed messages of the replay were refused by the broker; running it again is safe."""


@dataclass
class ReplayResult:
    scanned: int = 0
    in_range: int = 0
    emitted: int = 0
    unpriced: int = 0
    rejected: int = 0


class _SourceNames:
    """Which replayed raw messages name their position (the ``ailedger-src`` header), so the live
    statistics count their calls once (``stream_processors.stats.guard``): the guard drops the
    calls of raw messages at or below the highest position a prompt type has counted, so a
    position may be named only when every raw message up to it is counted by someone.

    * below the worker group's committed offset: the live pricing counted it already;
    * at or above it: only while every message of the partition from the committed offset on was
      replayed whole (all its calls in the range). The first message skipped or replayed in part
      ends the naming in that partition: naming a later one would hide the skipped calls from
      the live pricing that has not reached them yet (a stalled group)."""

    def __init__(self, committed: dict[int, int], scan_from: dict[int, int]):
        self.committed = committed
        self.contiguous = {p: offset <= committed.get(p, 0) for p, offset in scan_from.items()}

    def named(self, partition: int, offset: int, whole: bool) -> bool:
        if offset < self.committed.get(partition, 0):
            return True
        self.contiguous[partition] = self.contiguous.get(partition, False) and whole
        return self.contiguous[partition]


def _committed(settings: WorkerSettings, tps: list[TopicPartition]) -> dict[int, int]:
    """The worker group's committed raw offsets (0 where it has none)."""
    group = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=settings.app_id,
                          enable_auto_commit=False, client_id="ailedger-replay-offsets")
    try:
        return {tp.partition: group.committed(tp) or 0 for tp in tps}
    finally:
        group.close()


def _occurred(item: object) -> datetime | None:
    try:
        return datetime.fromisoformat(upcast(item)["occurred_at"]).astimezone(timezone.utc)  # type: ignore[arg-type]
    except (TypeError, KeyError, ValueError, AttributeError):
        return None


def replay(settings: WorkerSettings, start: datetime, end: datetime, mode: str = "reprice",
           progress: Callable[[int, int], None] | None = None) -> ReplayResult:
    """Re-price the raw events with ``start <= occurred_at < end``; ``progress(done, total)`` in messages."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if start.tzinfo is None or end.tzinfo is None or start >= end:
        raise ValueError("--from and --to must be timezone-aware and --from before --to")
    catalog = load_catalog(settings.pricing_file)
    load_pricing_topic(settings, catalog)
    credit_rules = CreditRules.load(settings.credits_file)
    raw_topic, costed_topic = settings.topic(topics.RAW), settings.topic(topics.COSTED)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None,
                             enable_auto_commit=False, client_id="ailedger-replay")
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=10,
                             max_request_size=16 * 1024 * 1024, client_id="ailedger-replay",
                             compression_type=settings.compression)
    result = ReplayResult()
    sent: list = []  # the delivery of every costed message (KafkaProducer.flush ignores failures)
    try:
        tps = [TopicPartition(raw_topic, p) for p in sorted(consumer.partitions_for_topic(raw_topic) or [])]
        if not tps:
            raise RuntimeError(f"raw topic {raw_topic} does not exist")
        consumer.assign(tps)
        scan_from = int((start - MAX_FUTURE_SKEW).timestamp() * 1000)
        cutoff = int(time.time() * 1000)  # messages appended after the replay started are live traffic
        starts = consumer.offsets_for_times({tp: scan_from for tp in tps})
        ends = consumer.end_offsets(tps)
        active = set()
        for tp in tps:
            found = starts.get(tp)
            if found is not None:
                consumer.seek(tp, found.offset)
                active.add(tp)
            else:
                consumer.pause(tp)
        names = _SourceNames(_committed(settings, tps), {tp.partition: consumer.position(tp) for tp in active})
        total = sum(max(ends[tp] - consumer.position(tp), 0) for tp in active)
        done, idle = 0, 0
        while active:
            batch = consumer.poll(timeout_ms=300, max_records=2000)
            if not batch:
                # A partition is finished at its end offset. Some brokers under-report end offsets
                # (Tansu), so "finished" is also an empty poll after reaching it.
                idle += 1
                finished = set(active) if idle >= 10 else {tp for tp in active if consumer.position(tp) >= ends[tp]}
                active -= finished
                consumer.pause(*finished)
                continue
            idle = 0
            for tp, records in batch.items():
                for record in records:
                    if record.timestamp > cutoff:
                        active.discard(tp)
                        consumer.pause(tp)
                        break
                    done += 1
                    _replay_message(record.value, start, end, mode, catalog, credit_rules, producer,
                                    costed_topic, result, source=(tp.partition, record.offset), names=names,
                                    sent=sent, max_bytes=settings.max_costed_bytes)
            if progress:
                progress(done, max(total, done))
        producer.flush()
        refused = [future.exception for future in sent if future.failed()]
        if refused:
            raise ReplayNotDelivered(f"{len(refused)} of {len(sent)} costed messages were not delivered "
                                     f"(first: {refused[0]}); nothing is lost, run the replay again")
        return result
    finally:
        consumer.close()
        producer.close()


def _replay_message(value, start, end, mode, catalog, credit_rules, producer, costed_topic, result,
                    source: tuple[int, int], names: _SourceNames, sent: list, max_bytes: int) -> None:
    """Re-price one raw message's calls in the range; name its raw position (``source``) in the
    ``ailedger-src`` header, as the pricing stage does, when ``names`` allows it. A prompt type's
    calls above ``max_bytes`` go in several messages, as in the pricing stage."""
    result.scanned += 1
    try:
        items = unpack(value)
    except DecodeError:
        result.rejected += 1  # was dead-lettered when first processed (no call of it is counted)
        return
    times = [_occurred(i) for i in items]
    in_range = [at is not None and start <= at < end for at in times]
    chosen = [i for i, keep in zip(items, in_range) if keep]
    result.in_range += len(chosen)
    # whole: every call the live pricing counts is replayed (an item without a valid time never is)
    named = names.named(*source, whole=all(keep or at is None for keep, at in zip(in_range, times)))
    if not chosen:
        return
    batch = cost_batch(chosen, catalog, credit_rules)
    result.rejected += len(batch.failures)
    result.unpriced += len(batch.unpriced)
    for prompt_type, calls in batch.by_prompt_type.items():
        for count, value in encode_costed_messages(calls, len(calls), max_bytes, mode):
            headers = [(SOURCE_HEADER, source_header([(*source, count)]))] if named else None
            sent.append(producer.send(costed_topic, key=prompt_type.encode(), value=value, headers=headers))
        result.emitted += len(calls)
