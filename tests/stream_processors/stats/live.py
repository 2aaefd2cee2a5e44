"""Helpers for the live-statistics integration tests: produce costed messages, wait, latest values."""

from __future__ import annotations

import time
from typing import Any, Callable

from kafka import KafkaProducer

from ailedger import topics
from ailedger.settings import CommonSettings
from schemas.codec import encode_batch


class CostedProducer:
    """Sends costed messages as the pricing stage does: one prompt type per message, keyed by it."""

    def __init__(self, settings: CommonSettings):
        self.topic = settings.topic(topics.COSTED)
        self.producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=5,
                                      max_request_size=16 * 1024 * 1024)

    def send(self, items: list[dict[str, Any]], headers: list | None = None) -> None:
        prompt_type = items[0]["event"]["prompt_type"]
        self.producer.send(self.topic, key=prompt_type.encode(), value=encode_batch(items), headers=headers or [])

    def flush(self) -> None:
        self.producer.flush(30)

    def close(self) -> None:
        self.producer.close()


def latest_by_key(records: list[tuple[bytes, Any]]) -> dict[bytes, Any]:
    latest: dict[bytes, Any] = {}
    for key, value in records:
        latest[key] = value
    return latest


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not seen within {timeout:.0f}s (last: {last!r})")
