"""ClickHouse ``ai_alerts``: every alert, with where its delivery stands (migration 20).

One row per alert id (``ReplacingMergeTree(version)``, read with ``FINAL``): a new version is
written when the alert is first handled and whenever a parked delivery progresses.

* ``status``: ``delivered`` (every webhook took it), ``parked`` (some webhook has not; those are
  in ``pending_webhooks`` and are retried until they do), ``stored`` (no webhook configured).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

import orjson

from consumers.clickhouse.migrations import Migration, register
from consumers.clickhouse.store import Store
from schemas.alerts import Alert

AI_ALERTS = """
CREATE TABLE IF NOT EXISTS ai_alerts
(
    alert_id String,
    kind LowCardinality(String),
    severity LowCardinality(String),
    subject String,
    account_id String,
    message String,
    figures String,
    occurred_at DateTime64(3, 'UTC'),
    event_id String,
    status LowCardinality(String),
    pending_webhooks Array(String),
    attempts UInt32,
    last_error String,
    first_seen_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY alert_id
"""

register(Migration(20, "ai_alerts", (AI_ALERTS,)))

COLUMNS = ("alert_id", "kind", "severity", "subject", "account_id", "message", "figures", "occurred_at", "event_id",
           "status", "pending_webhooks", "attempts", "last_error", "first_seen_at", "updated_at", "version")


@dataclass
class AlertRecord:
    """An alert and its delivery state."""

    alert: Alert
    pending: list[str] = field(default_factory=list)
    attempts: int = 0
    last_error: str = ""
    first_seen_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    webhooks: bool = True  # False: no webhook configured

    @property
    def status(self) -> str:
        if not self.webhooks:
            return "stored"
        return "parked" if self.pending else "delivered"


_last_version = 0


def _version() -> int:
    """Strictly increasing per process (microseconds), so a later write always replaces."""
    global _last_version
    _last_version = max(_last_version + 1, time.time_ns() // 1000)
    return _last_version


def save(store: Store, records: Iterable[AlertRecord]) -> int:
    now = datetime.now(timezone.utc)
    rows = []
    for r in records:
        a = r.alert
        rows.append([a.alert_id, a.kind.value, a.severity.value, a.subject, a.account_id or "", a.message,
                     orjson.dumps(a.figures, default=str).decode(), a.occurred_at, a.event_id or "", r.status,
                     list(r.pending), r.attempts, r.last_error[:2000], r.first_seen_at, now, _version()])
    if rows:
        store.insert("ai_alerts", rows, COLUMNS)
    return len(rows)


def delivered_ids(store: Store, alert_ids: list[str]) -> set[str]:
    """Which of these alerts were already delivered (a replayed alert is not posted again)."""
    if not alert_ids:
        return set()
    _, rows = store.rows("SELECT alert_id FROM ai_alerts FINAL WHERE alert_id IN {ids:Array(String)} "
                         "AND status IN ('delivered', 'stored')", {"ids": alert_ids})
    return {r[0] for r in rows}


def parked(store: Store, limit: int = 500) -> list[AlertRecord]:
    """Alerts some webhook has not taken yet, oldest first."""
    names, rows = store.rows(
        f"SELECT {', '.join(COLUMNS)} FROM ai_alerts FINAL WHERE status = 'parked' "
        "ORDER BY first_seen_at LIMIT {limit:UInt32}", {"limit": limit})
    out = []
    for row in rows:
        d = dict(zip(names, row))
        alert = Alert(alert_id=d["alert_id"], kind=d["kind"], severity=d["severity"], subject=d["subject"],
                      account_id=d["account_id"] or None, message=d["message"], figures=orjson.loads(d["figures"]),
                      occurred_at=_utc(d["occurred_at"]), event_id=d["event_id"] or None)
        out.append(AlertRecord(alert, list(d["pending_webhooks"]), int(d["attempts"]), d["last_error"],
                               _utc(d["first_seen_at"])))
    return out


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
