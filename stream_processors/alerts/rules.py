"""Alert thresholds, from ``AILEDGER_ALERT_*`` variables (defaults suit a first deployment)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlertRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AILEDGER_ALERT_", extra="ignore", frozen=True)

    cost_factor: float = Field(default=3.0, gt=1, description="A call costing more than this x the average.")
    latency_factor: float = Field(default=3.0, gt=1, description="A call slower than this x the average ...")
    latency_min_excess_ms: float = Field(default=1000.0, ge=0, description="... and by at least this much.")
    min_history: int = Field(default=20, ge=1, description="Calls of a prompt type and model before spikes fire.")
    ewma_alpha: float = Field(default=0.05, gt=0, le=1, description="Weight of a new call in the rolling average.")
    error_rate: float = Field(default=0.25, gt=0, le=1, description="Error rate over the window that fires.")
    error_min_calls: int = Field(default=20, ge=1, description="Calls in the window before the error rate fires.")
    error_window_seconds: int = Field(default=900, ge=300, le=3600, description="A multiple of 300 s.")
    cooldown_seconds: int = Field(default=900, ge=1, description="The same condition fires once per cool-down.")

    @model_validator(mode="after")
    def _window_in_buckets(self) -> "AlertRules":
        if self.error_window_seconds % 300:
            raise ValueError("AILEDGER_ALERT_ERROR_WINDOW_SECONDS must be a multiple of 300 (the bucket width)")
        return self


def budgets_file_from_env() -> Path | None:
    """``AILEDGER_BUDGETS_FILE``: YAML or JSON budgets loaded at start (the API adds more)."""
    value = os.environ.get("AILEDGER_BUDGETS_FILE", "").strip()
    return Path(value) if value else None
