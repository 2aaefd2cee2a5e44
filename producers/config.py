"""SDK settings and the Kafka producer configuration derived from them.

Choices, and why:

* ``acks='all'``: an event counts as published only once every in-sync replica has it.
* Idempotence: left to kafka-python's default, which turns it on when the broker supports it
  (>= 0.11) and off with a warning otherwise. Broker-side retries then never duplicate a
  message; re-sends from the spool are covered by the event's ``event_id`` downstream.
  ``idempotence=True`` forces it (fail at start on an old broker), ``False`` turns it off.
* Key = ``account_id``: one account's events stay on one partition, in order, and land with
  the stateful processing (budgets) that owns that account. One message holds one account.
* Compression: ``compression`` (gzip, snappy, lz4, zstd, none) applies to whole record batches;
  the packed JSON batches compress well. lz4 by default: the producer's CPU per event did not
  change measurably (15 vs 15 us), the broker's fell ~2.5x (BENCHMARKS.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from ailedger import __version__
from ailedger.settings import ProducerSettings

SDK_NAME = f"python/{__version__}"


class LedgerSettings(ProducerSettings):
    """:class:`ProducerSettings` plus the SDK's delivery knobs (all ``AILEDGER_*`` variables)."""

    account_id: str | None = Field(default=None, description="Account stamped on events that carry none.")
    idempotence: bool | None = Field(default=None, description="None: on when the broker supports it.")
    ack_timeout_s: float = Field(
        default=5.0, gt=0, le=600,
        description="A send not acknowledged within this time marks the broker as down: new events spool.",
    )
    delivery_timeout_s: float = Field(
        default=60.0, gt=0, le=3600,
        description="How long kafka-python keeps retrying one message before it fails back to the spool.",
    )
    connect_timeout_s: float = Field(default=3.0, gt=0, le=120, description="Bootstrap/metadata wait per try.")
    retry_interval_s: float = Field(default=1.0, gt=0, le=300, description="First pause before reconnecting.")
    max_in_flight_events: int = Field(
        default=4_000, ge=1,
        description="Events handed to Kafka and not yet acknowledged; above this, new events spool.",
    )
    max_message_bytes: int = Field(default=900_000, ge=10_000, description="Split packed batches above this.")
    spool_segment_bytes: int = Field(default=64 * 1024 * 1024, ge=4096, description="Spool file rotation size.")
    spool_fsync: bool = Field(default=False, description="fsync every spool write (survives power loss, slower).")
    close_timeout_s: float = Field(default=5.0, ge=0, le=600, description="Flush budget at interpreter exit.")

    @property
    def resolved_spool_dir(self) -> Path:
        return self.spool_dir if self.spool_dir is not None else self.home / "spool"


def kafka_producer_config(settings: LedgerSettings) -> dict[str, Any]:
    """Keyword arguments for ``kafka.KafkaProducer``."""
    request_timeout_ms = int(min(settings.delivery_timeout_s, 30.0) * 1000)
    config: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": f"ailedger-sdk-{SDK_NAME.replace('/', '-')}",
        "acks": "all",
        "compression_type": settings.compression,
        # The SDK packs events itself; a short linger lets concurrent messages share a request.
        "linger_ms": 5,
        "batch_size": 1_048_576,
        "max_request_size": max(settings.max_message_bytes * 2, 1_048_576),
        "request_timeout_ms": request_timeout_ms,
        "delivery_timeout_ms": max(int(settings.delivery_timeout_s * 1000), request_timeout_ms + 5),
        "max_block_ms": int(settings.connect_timeout_s * 1000),
        "bootstrap_timeout_ms": int(settings.connect_timeout_s * 1000),
        "reconnect_backoff_ms": 50,
        "reconnect_backoff_max_ms": 1000,
        "retry_backoff_ms": 100,
    }
    if settings.idempotence is not None:
        config["enable_idempotence"] = settings.idempotence
    return config
