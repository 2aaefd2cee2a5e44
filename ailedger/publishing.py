"""Synchronous batch publishing of validated events (``ailedger publish``, the demo, imports).

Events are grouped by account (the raw topic's key) and packed ``batch_size`` to a message,
the wire format the SDK uses. ``flush`` waits until the broker has acknowledged everything.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from kafka import KafkaProducer

from ailedger import topics
from ailedger.settings import CommonSettings
from schemas.codec import encode_batch, event_to_dict
from schemas.events import AICallEvent

HEADERS = [("content-type", b"application/json"), ("ailedger-type", b"ai.batch.v1")]


class BatchPublisher:
    def __init__(self, settings: CommonSettings, batch_size: int = 200, topic: str | None = None):
        self.topic = topic or settings.topic(topics.RAW)
        self.batch_size = batch_size
        self.producer = KafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            acks="all",
            linger_ms=5,
            max_request_size=16 * 1024 * 1024,
            client_id="ailedger-publish",
            compression_type=settings.compression,
        )
        self._pending: dict[str, list[dict]] = defaultdict(list)
        self._futures = []
        self.published = 0

    def add(self, event: AICallEvent) -> None:
        self.add_item(event_to_dict(event))

    def add_item(self, item: dict) -> None:
        """Add an event already in its wire form (:func:`~schemas.codec.event_to_dict` of a
        validated event): it is not validated again."""
        account_id = item["account_id"]
        batch = self._pending[account_id]
        batch.append(item)
        if len(batch) >= self.batch_size:
            self._send(account_id)

    def add_all(self, events: Iterable[AICallEvent]) -> None:
        for event in events:
            self.add(event)

    def _send(self, account_id: str) -> None:
        batch = self._pending.pop(account_id, [])
        if not batch:
            return
        headers = HEADERS + [("ailedger-count", str(len(batch)).encode())]
        self._futures.append(self.producer.send(self.topic, key=account_id.encode(), value=encode_batch(batch),
                                                headers=headers))
        self.published += len(batch)

    def flush(self, timeout: float = 60.0) -> int:
        """Send what is pending and wait for every acknowledgement; raises if any send failed."""
        for account_id in list(self._pending):
            self._send(account_id)
        self.producer.flush(timeout)
        for future in self._futures:
            future.get(timeout)
        self._futures.clear()
        return self.published

    def close(self) -> None:
        self.producer.close()
