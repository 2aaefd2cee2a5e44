"""The Kafka side: one lazily connected ``KafkaProducer`` that sends packed messages.

Shared by the background pipeline (fire and watch the futures) and by the HTTP ingest
(:meth:`KafkaSender.send_and_wait`: answer only after the broker acknowledged).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from typing import Any, Callable

from ailedger.topics import RAW
from producers.config import LedgerSettings, kafka_producer_config
from producers.wire import OutMessage, pack

log = logging.getLogger(__name__)

#: Broker errors that no retry can fix: the message itself is refused.
PERMANENT_ERRORS = frozenset({
    "MessageSizeTooLargeError", "RecordTooLargeError", "InvalidRecordError", "CorruptRecordError",
    "CorruptRecordException", "UnsupportedForMessageFormatError",
})


class PublishError(RuntimeError):
    """The broker is unreachable or did not acknowledge in time."""


def is_permanent(error: BaseException | None) -> bool:
    return error is not None and type(error).__name__ in PERMANENT_ERRORS


class KafkaSender:
    """Sends :class:`OutMessage` s to the raw topic. Thread-safe; connects on first use."""

    def __init__(self, settings: LedgerSettings, producer_factory: Callable[..., Any] | None = None) -> None:
        self.settings = settings
        self.topic = settings.topic(RAW)
        self._factory = producer_factory
        self._producer: Any = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._producer is not None

    def connect(self) -> Any:
        """The producer, created on first call. Raises :class:`PublishError` if unreachable."""
        producer = self._producer
        if producer is not None:
            return producer
        with self._lock:
            if self._closed:
                raise PublishError("sender is closed")
            if self._producer is None:
                self._producer = self._create()
            return self._producer

    def _create(self) -> Any:
        factory = self._factory
        if factory is None:
            from kafka import KafkaProducer

            factory = KafkaProducer
        try:
            producer = factory(**kafka_producer_config(self.settings))
        except Exception as exc:  # NoBrokersAvailable, KafkaTimeoutError, ...
            raise PublishError(f"cannot reach Kafka at {self.settings.kafka_bootstrap}: {exc!r}") from exc
        # kafka-python closes its producer at exit before our flush would run; we close it ourselves.
        cleanup = getattr(producer, "_cleanup", None)
        if cleanup is not None:
            atexit.unregister(cleanup)
        return producer

    def send(self, message: OutMessage) -> Any:
        """Hand one message to the producer; returns its future. Raises :class:`PublishError`."""
        producer = self.connect()
        try:
            return producer.send(self.topic, value=message.value, key=message.key, headers=message.headers)
        except Exception as exc:  # KafkaTimeoutError on metadata, closed producer, ...
            raise PublishError(f"send to {self.topic} failed: {exc!r}") from exc

    def send_and_wait(self, events: list[dict[str, Any]], timeout: float) -> int:
        """Pack, send and wait until the broker acknowledged every message. Returns the number
        of messages. Raises :class:`PublishError` on any failure or after ``timeout`` seconds."""
        messages = pack(events, self.settings.batch_events, self.settings.max_message_bytes)
        futures = [self.send(m) for m in messages]
        deadline = time.monotonic() + timeout
        for future in futures:
            try:
                future.get(timeout=max(deadline - time.monotonic(), 0.0))
            except Exception as exc:  # KafkaTimeoutError, broker errors
                raise PublishError(f"broker did not acknowledge within {timeout}s: {exc!r}") from exc
        return len(messages)

    def flush(self, timeout: float) -> None:
        if self._producer is not None:
            self._producer.flush(timeout=timeout)

    def close(self, timeout: float = 0.0) -> None:
        """Close the producer. Records not acknowledged within ``timeout`` are aborted: their
        futures fail, so the caller can spool them (none is left to be delivered later)."""
        with self._lock:
            self._closed = True
            producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.flush(timeout=timeout)
        except Exception:  # noqa: BLE001 - KafkaTimeoutError: abort what is left below
            pass
        # kafka-python's close() flushes first and raises if records are pending; abort them
        # the way its own close does after a timeout (a forced close of the I/O thread).
        io_thread = getattr(producer, "_sender", None)
        if io_thread is not None and io_thread.is_alive():
            io_thread.force_close()
            io_thread.join(5.0)
        try:
            producer.close(timeout=0)
        except Exception:  # noqa: BLE001 - closing must not raise into the caller
            log.warning("closing the Kafka producer failed", exc_info=True)
