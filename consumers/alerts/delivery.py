"""Alert delivery: ``ai.alerts.v1`` -> webhooks (httpx) and ClickHouse ``ai_alerts``.

The loop (a kafka-python consumer group member, one thread of the serve process):

1. poll a batch of alerts; drop repeats of an alert id already delivered (a replay upstream);
2. post each to every configured webhook, with retries and backoff (``webhooks``); a webhook
   still failing after its retries has the alert *parked* for it;
3. write every alert to ``ai_alerts`` with its delivery state;
4. only then commit the offsets. If the write fails, nothing is committed: the consumer goes back
   to the committed offsets and the batch is handled again.

Every ``redeliver_seconds`` the parked alerts are posted again to the webhooks they are pending
for, until each has taken them. So nothing is lost while a webhook is down: the alert is in
ClickHouse, marked parked, and the offset moved on only after that write.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from kafka import KafkaConsumer
from kafka.errors import KafkaError
from pydantic import Field

from ailedger import kafka_rejoin, topics
from ailedger.settings import CommonSettings
from consumers.alerts import store as alert_store
from consumers.alerts.store import AlertRecord
from consumers.alerts.webhooks import WebhookPoster
from consumers.clickhouse.store import Store
from consumers.prompt_configs import IDLE_SECONDS
from schemas.alerts import Alert

log = logging.getLogger(__name__)


class AlertDeliverySettings(CommonSettings):
    alert_webhooks: str = Field(default="", description="Webhook URLs, comma-separated (AILEDGER_ALERT_WEBHOOKS).")
    alert_delivery_group: str = Field(default="ailedger-alert-delivery", pattern=r"^[A-Za-z0-9_.\-]+$")
    sink_instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]+$",
                                         description="The serve replica's id: static membership, as the sinks.")
    alert_max_attempts: int = Field(default=5, ge=1, le=50)
    alert_backoff_seconds: float = Field(default=0.5, gt=0, le=60)
    alert_backoff_max_seconds: float = Field(default=8.0, gt=0, le=600)
    alert_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    alert_redeliver_seconds: float = Field(default=10.0, gt=0, le=3600)

    @property
    def webhook_urls(self) -> list[str]:
        return [u.strip() for u in self.alert_webhooks.split(",") if u.strip()]


@dataclass
class DeliveryStats:
    received: int = 0
    delivered: int = 0
    parked: int = 0
    stored: int = 0
    repeats: int = 0
    undecodable: int = 0
    redelivered: int = 0
    write_failures: int = 0
    commit_failures: int = 0


class AlertDelivery:
    def __init__(self, settings: AlertDeliverySettings, store: Store, stop: threading.Event | None = None):
        self.settings = settings
        self.store = store
        self.stop = stop or threading.Event()
        self.stats = DeliveryStats()
        self.poster = WebhookPoster(settings.webhook_urls, max_attempts=settings.alert_max_attempts,
                                    backoff_seconds=settings.alert_backoff_seconds,
                                    backoff_max_seconds=settings.alert_backoff_max_seconds,
                                    timeout_seconds=settings.alert_timeout_seconds, stop=self.stop)
        kafka_rejoin.install()  # else a join that ends between two polls is dropped and redone, for ever
        self.consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=f"{settings.topic_prefix}{settings.alert_delivery_group}",
            client_id="ailedger-alert-delivery", enable_auto_commit=False, auto_offset_reset="earliest",
            max_poll_records=100, session_timeout_ms=10_000, heartbeat_interval_ms=1_000,
            max_poll_interval_ms=600_000, fetch_max_wait_ms=settings.fetch_max_wait_ms,
            # static membership with the sink's replica id, as the sinks (see README, brokers)
            group_instance_id=f"{settings.sink_instance_id}-alerts" if settings.sink_instance_id else None)
        self.consumer.subscribe([settings.topic(topics.ALERTS)])
        self._next_redelivery = time.monotonic() + settings.alert_redeliver_seconds

    def handle(self, alerts: list[Alert]) -> list[AlertRecord]:
        """Deliver and store one batch (the caller commits afterwards)."""
        latest = {a.alert_id: a for a in alerts}
        done = alert_store.delivered_ids(self.store, list(latest))
        self.stats.repeats += len(alerts) - len(latest) + len(done)
        records = []
        for alert_id, alert in latest.items():
            if alert_id in done:
                continue
            if not self.poster.urls:
                records.append(AlertRecord(alert, webhooks=False))
                continue
            pending, attempts, error = self.poster.deliver(alert)
            records.append(AlertRecord(alert, pending, attempts, error))
        alert_store.save(self.store, records)
        for r in records:
            setattr(self.stats, r.status, getattr(self.stats, r.status) + 1)
        return records

    def poll_once(self, timeout_ms: int = 20) -> None:
        batch = self.consumer.poll(timeout_ms=timeout_ms)
        alerts = []
        for records in batch.values():
            for record in records:
                self.stats.received += 1
                try:
                    alerts.append(Alert.model_validate_json(record.value))
                except ValueError as exc:
                    self.stats.undecodable += 1
                    log.warning("undecodable alert at %s/%s: %s", record.partition, record.offset, exc)
        if not batch:  # idle: polling in a loop would burn a third of a core (see consumers.prompt_configs)
            self.stop.wait(IDLE_SECONDS)
            return
        try:
            self.handle(alerts)
        except Exception:  # noqa: BLE001 - ClickHouse unavailable: commit nothing, handle the batch again
            self.stats.write_failures += 1
            log.exception("storing alerts failed; will handle the batch again")
            self._rewind()
            self.stop.wait(1.0)
            return
        try:
            self.consumer.commit()
        except KafkaError as exc:
            # A rebalance took the partition meanwhile (as the sinks): the alerts are stored, their
            # new owner re-reads from the last commit and skips the ones already delivered.
            self.stats.commit_failures += 1
            log.warning("commit after storing alerts failed (%s); the new owner re-reads these offsets", exc)

    def _rewind(self) -> None:
        for tp in self.consumer.assignment():
            committed = self.consumer.committed(tp)
            if committed is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, committed)

    def redeliver(self) -> int:
        """Post parked alerts to the webhooks they wait for; returns how many became delivered."""
        configured = set(self.poster.urls)
        failed: set[str] = set()
        changed, delivered = [], 0
        for record in alert_store.parked(self.store):
            still = []
            for url in record.pending:
                if url not in configured:  # removed from the configuration: nothing to wait for
                    continue
                if url in failed or self.stop.is_set():
                    still.append(url)
                    continue
                ok, attempts, error = self.poster.post(url, record.alert, attempts=1)
                record.attempts += attempts
                if not ok:
                    failed.add(url)
                    still.append(url)
                    record.last_error = error
            if still != record.pending:
                record.pending = still
                changed.append(record)
                delivered += not still
        alert_store.save(self.store, changed)
        self.stats.redelivered += delivered
        return delivered

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.poll_once()
                if time.monotonic() >= self._next_redelivery:
                    try:
                        self.redeliver()
                    except Exception:  # noqa: BLE001 - try again next round
                        log.exception("redelivery of parked alerts failed")
                    self._next_redelivery = time.monotonic() + self.settings.alert_redeliver_seconds
        finally:
            self.close()

    def close(self) -> None:
        try:
            self.poster.close()
        finally:
            self.consumer.close(timeout_ms=5000)  # a broker that ignores LeaveGroup must not hold the stop for 30 s


def run_alert_delivery(settings: CommonSettings, store: Store, stop_event: threading.Event) -> None:
    """Run the delivery loop until ``stop_event`` is set (the serve process runs it in a thread).
    Webhooks and knobs come from ``AILEDGER_ALERT_*`` variables."""
    fields = set(CommonSettings.model_fields) | {"sink_instance_id"}
    delivery_settings = AlertDeliverySettings(**settings.model_dump(include=fields))
    AlertDelivery(delivery_settings, store, stop_event).run()
