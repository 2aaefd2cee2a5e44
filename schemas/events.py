"""The AI call event: one immutable record per model call (type ``ai.call.v1``).

Token usage is recorded in *disjoint* buckets so that no token is ever priced twice:

* ``input_tokens``       uncached prompt tokens
* ``cache_read_tokens``  prompt tokens served from the provider's prompt cache
* ``cache_write_tokens`` prompt tokens written to the provider's prompt cache
* ``output_tokens``      completion tokens, excluding reasoning
* ``reasoning_tokens``   reasoning ("thinking") tokens

The SDK adapters map each provider's usage fields onto these buckets.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EVENT_TYPE = "ai.call.v1"

#: Largest token count accepted in one bucket of one call. Context windows are a few million
#: tokens at most; anything larger is a bug in the producer, not a call.
MAX_TOKENS_PER_BUCKET = 50_000_000
#: Latency above one day is not a model call.
MAX_LATENCY_MS = 86_400_000.0
#: Encoded metadata larger than this is rejected (it belongs in the prompt/response fields).
MAX_METADATA_BYTES = 16_384
#: Prompt and response text above this size is rejected.
MAX_TEXT_CHARS = 1_000_000
#: Events from before this instant are rejected as impossible.
EARLIEST_EVENT_TIME = datetime(2015, 1, 1, tzinfo=timezone.utc)
#: Events further than this in the future (producer clock skew) are rejected.
MAX_FUTURE_SKEW = timedelta(days=1)

TOKEN_BUCKETS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)

_UTC = timezone.utc
#: now + MAX_FUTURE_SKEW when last read. Time only moves on, so a stale bound is stricter than
#: the true one: a time above it is checked again against a fresh bound before it is refused.
_latest = [EARLIEST_EVENT_TIME]


def _latest_acceptable() -> datetime:
    """now + MAX_FUTURE_SKEW (and remember it)."""
    _latest[0] = datetime.now(_UTC) + MAX_FUTURE_SKEW
    return _latest[0]


def _parse_time(value: Any, handler: Any) -> datetime:
    """A datetime from JSON text or any input pydantic takes for a datetime.

    Text in ISO 8601 goes to ``datetime.fromisoformat`` (C; a UTC offset of zero gives
    ``timezone.utc`` itself), everything else and whatever it refuses to pydantic's own parser
    (so its errors are pydantic's). pydantic's parser gives its own ``TzInfo``, which costs a
    conversion per event and comparisons across time zones: ~5,000 instructions per event, a
    tenth of validating one (``benchmarks/bench_instructions.py``)."""
    if type(value) is str:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return handler(value)


Identifier = Field(min_length=1, max_length=200)
OptionalId = Field(default=None, max_length=200)
TokenCount = Field(default=0, ge=0, le=MAX_TOKENS_PER_BUCKET)


class AICallEvent(BaseModel):
    """One model call, as published by a producer. Frozen: events are facts."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    type: Literal["ai.call.v1"] = EVENT_TYPE
    event_id: UUID
    occurred_at: datetime
    account_id: str = Identifier
    user_id: str | None = OptionalId
    prompt_type: str = Field(default="default", min_length=1, max_length=200, pattern=r"^[\w.:/\-]+$")
    operation: str = Field(default="", max_length=200)
    provider: str = Identifier
    model: str = Identifier
    input_tokens: int = TokenCount
    cache_read_tokens: int = TokenCount
    cache_write_tokens: int = TokenCount
    output_tokens: int = TokenCount
    reasoning_tokens: int = TokenCount
    extra_usage: dict[str, Annotated[int, Field(ge=0, le=MAX_TOKENS_PER_BUCKET)]] = Field(
        default_factory=dict,
        description="Additional catalog units, by genai-prices usage key (e.g. input_image_tokens, requests).",
    )
    latency_ms: float = Field(default=0.0, ge=0, le=MAX_LATENCY_MS)
    success: bool = True
    error_type: str | None = Field(default=None, max_length=200)
    error_message: str | None = Field(default=None, max_length=10_000)
    cached: bool = Field(default=False, description="Answer served from a response cache.")
    source: str = Field(default="", max_length=200, description="Service that made the call.")
    task_id: str | None = OptionalId
    trace_id: str | None = Field(default=None, max_length=64)
    span_id: str | None = Field(default=None, max_length=32)
    metadata: dict[str, Any] = Field(default_factory=dict)
    prompt: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    response: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)

    @field_validator("occurred_at", mode="wrap")
    @classmethod
    def _utc_and_plausible(cls, value: Any, handler: Any) -> datetime:
        value = _parse_time(value, handler)
        if value.tzinfo is not _UTC:
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError("occurred_at must carry a timezone (use UTC, e.g. 2026-01-31T12:00:00Z)")
            value = value.astimezone(_UTC)
        if value < EARLIEST_EVENT_TIME:
            raise ValueError(f"occurred_at {value.isoformat()} is before {EARLIEST_EVENT_TIME.date()}")
        if value > _latest[0] and value > _latest_acceptable():
            raise ValueError(f"occurred_at {value.isoformat()} is more than a day in the future")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            return value
        try:
            size = len(orjson.dumps(value, default=str))
        except TypeError as exc:  # pragma: no cover - default=str handles most values
            raise ValueError(f"metadata is not JSON-serialisable: {exc}") from exc
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"metadata is {size} bytes encoded; the limit is {MAX_METADATA_BYTES}")
        return value

    @model_validator(mode="after")
    def _error_fields_consistent(self) -> "AICallEvent":
        if self.success and self.error_type is not None:
            raise ValueError("error_type is set on a successful call; set success=false")
        return self

    @property
    def total_tokens(self) -> int:
        """All tokens of the call, each counted once."""
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.output_tokens
            + self.reasoning_tokens
        )


def event_json_schema() -> dict[str, Any]:
    """JSON Schema of ``ai.call.v1`` for producers in other languages."""
    schema = AICallEvent.model_json_schema()
    schema["$id"] = "https://ailedger.dev/schemas/ai.call.v1.json"
    schema["title"] = "ai.call.v1"
    return schema
