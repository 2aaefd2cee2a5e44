"""Alert delivery: webhooks with retries, and the ClickHouse ``ai_alerts`` table (migration 20).

``run_alert_delivery(settings, store, stop_event)`` runs the loop in the calling thread. The
names load lazily, so importing ``consumers.alerts.store`` (which registers the migration) does
not pull in the Kafka and HTTP clients.
"""

from typing import Any

__all__ = ["AlertDelivery", "AlertDeliverySettings", "run_alert_delivery"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from consumers.alerts import delivery

        return getattr(delivery, name)
    raise AttributeError(name)
