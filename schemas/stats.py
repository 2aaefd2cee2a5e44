"""What the live-statistics views return: per-prompt-type figures, the latest call, daily usage.

These are read models for the HTTP API, computed from the state the stream processor publishes
(``ai.prompt-stats.v1``, ``ai.daily-usage.v1``). Money is exact Decimal USD.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Prompt and response text kept in a snapshot, each (a message must stay well under 1 MB).
SNAPSHOT_TEXT_CHARS = 65_536


class LatencySummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    avg: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None


class StatsSummary(BaseModel):
    """Figures over one span (all time, or a rolling window)."""

    model_config = ConfigDict(frozen=True)

    window_seconds: int | None = Field(default=None, description="None for all time.")
    calls: int = 0
    errors: int = 0
    error_rate: float | None = None
    tokens: dict[str, int] = Field(default_factory=dict, description="Per disjoint token bucket.")
    total_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    priced_calls: int = 0
    unpriced_calls: int = 0
    avg_cost_per_call_usd: Decimal | None = Field(default=None, description="Over priced calls.")
    latency_ms: LatencySummary = LatencySummary()
    tokens_per_second: float | None = Field(
        default=None, description="Output + reasoning tokens per second of latency, successful calls.")
    cache_hit_rate: float | None = Field(default=None, description="Share of calls served from a response cache.")
    prompt_cache_read_ratio: float | None = Field(
        default=None, description="cache_read_tokens / all prompt tokens (input + cache read + cache write).")


class LatestCall(BaseModel):
    """The latest call of a prompt type (by event time), failures included."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    occurred_at: datetime
    account_id: str
    user_id: str | None = None
    provider: str = ""
    model: str = ""
    operation: str = ""
    success: bool = True
    error_type: str | None = None
    error_message: str | None = None
    prompt: str | None = None
    response: str | None = None
    prompt_truncated: bool = False
    response_truncated: bool = False
    tokens: dict[str, int] = Field(default_factory=dict)
    total_tokens: int = 0
    priced: bool = False
    cost_usd: Decimal | None = None
    latency_ms: float = 0.0
    cached: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)


class PromptTypeStatsView(BaseModel):
    """``GET /v1/prompt-types/{id}``'s statistics part."""

    model_config = ConfigDict(frozen=True)

    prompt_type: str
    first_seen_at: datetime | None = None
    last_call_at: datetime | None = None
    updated_at: datetime | None = None
    all_time: StatsSummary
    last_1h: StatsSummary
    last_24h: StatsSummary


class DailyUsage(BaseModel):
    """One UTC day of one (account, user, prompt type)."""

    model_config = ConfigDict(frozen=True)

    day: date
    account_id: str
    user_id: str = Field(default="", description="Empty for calls without a user.")
    prompt_type: str
    calls: int = 0
    errors: int = 0
    tokens: dict[str, int] = Field(default_factory=dict)
    total_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    priced_calls: int = 0
    unpriced_calls: int = 0
    latency_ms_sum: float = 0.0
    applied_offset: int = Field(default=-1, description="Last costed-topic offset applied (replay guard).")
