"""Per-partition buffers of the writer's row batches, with the offset range each one covers."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Sized

from kafka.structs import OffsetAndMetadata, TopicPartition


@dataclass
class PartitionBuffer:
    batches: list[Sized] = field(default_factory=list)  #: each message's rows, as the writer made them
    count: int = 0  #: rows in the batches
    first_offset: int = -1
    last_offset: int = -1
    started: float = 0.0

    def add(self, rows: Sized, offset: int) -> None:
        if self.first_offset < 0:
            self.first_offset = offset
            self.started = time.monotonic()
        self.last_offset = offset
        if len(rows):
            self.batches.append(rows)
            self.count += len(rows)


class Buffers:
    """Rows waiting to be written, per topic-partition."""

    def __init__(self) -> None:
        self._by_tp: dict[TopicPartition, PartitionBuffer] = {}
        self.row_count = 0  #: rows buffered over all partitions

    def add(self, tp: TopicPartition, offset: int, rows: Sized) -> None:
        self._by_tp.setdefault(tp, PartitionBuffer()).add(rows, offset)
        self.row_count += len(rows)

    def drop(self, partitions) -> None:
        """Forget revoked partitions: their new owner re-reads from the committed offset."""
        for tp in partitions:
            dropped = self._by_tp.pop(tp, None)
            if dropped is not None:
                self.row_count -= dropped.count

    def oldest_age(self) -> float:
        starts = [b.started for b in self._by_tp.values() if b.first_offset >= 0]
        return time.monotonic() - min(starts) if starts else 0.0

    def pending(self) -> bool:
        return any(b.first_offset >= 0 for b in self._by_tp.values())

    def batches(self) -> list[Any]:
        """Every partition's batches, partition by partition, in the order they came."""
        return [batch for b in self._by_tp.values() for batch in b.batches]

    def offsets_to_commit(self) -> dict[TopicPartition, OffsetAndMetadata]:
        return {tp: OffsetAndMetadata(b.last_offset + 1, "", -1)
                for tp, b in self._by_tp.items() if b.first_offset >= 0}

    def dedup_token(self) -> str:
        """Same offset ranges -> same token, so a retried insert is deduplicated by ClickHouse."""
        spans = sorted(f"{tp.topic}:{tp.partition}:{b.first_offset}-{b.last_offset}"
                       for tp, b in self._by_tp.items() if b.first_offset >= 0)
        return hashlib.sha256("|".join(spans).encode()).hexdigest()

    def clear(self) -> None:
        self._by_tp.clear()
        self.row_count = 0
