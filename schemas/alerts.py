"""Alerts (type ``ai.alert.v1``) published to the alerts topic."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ALERT_TYPE = "ai.alert.v1"


class AlertKind(str, Enum):
    COST_SPIKE = "cost_spike"
    LATENCY_SPIKE = "latency_spike"
    ERROR_RATE = "error_rate"
    UNPRICED_MODEL = "unpriced_model"
    BUDGET_THRESHOLD = "budget_threshold"
    PIPELINE_LAG = "pipeline_lag"


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


def stable_alert_id(kind: str, subject: str, window: str) -> str:
    """Same condition on the same subject in the same window -> same id (dedup key)."""
    digest = hashlib.sha256(f"{kind}|{subject}|{window}".encode()).hexdigest()
    return digest[:32]


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["ai.alert.v1"] = ALERT_TYPE
    alert_id: str = Field(min_length=1, max_length=64)
    kind: AlertKind
    severity: Severity
    subject: str = Field(description="What the alert is about, e.g. 'prompt_type=x model=y' or 'account=a'.")
    account_id: str | None = None
    message: str
    figures: dict[str, Any] = Field(default_factory=dict, description="The numbers that triggered it.")
    occurred_at: datetime
    event_id: str | None = Field(default=None, description="The call that triggered it, if one did.")
