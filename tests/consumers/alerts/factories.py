from __future__ import annotations

import uuid
from datetime import datetime, timezone

from schemas.alerts import Alert, AlertKind, Severity, stable_alert_id


def alert(subject: str | None = None, **fields) -> Alert:
    subject = subject or f"prompt_type=pt-{uuid.uuid4().hex[:6]}"
    return Alert(**{
        "alert_id": stable_alert_id("cost_spike", subject, "1"),
        "kind": AlertKind.COST_SPIKE,
        "severity": Severity.WARNING,
        "subject": subject,
        "account_id": "acme",
        "message": "call cost $1 is 10x the rolling average",
        "figures": {"cost_usd": "1", "factor": 10.0},
        "occurred_at": datetime.now(timezone.utc),
        **fields,
    })
