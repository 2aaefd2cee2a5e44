"""Price overrides (type ``ai.price.v1``): a price for a provider/model over a time window.

The same model describes an entry of the overrides file (``AILEDGER_PRICING_FILE``) and a
message on the compacted topic ``ai.pricing.v1``, keyed by :attr:`PriceOverride.key`. A message
with ``deleted=True`` (or a tombstone for its key) removes the override.

Prices are exact Decimal USD per million tokens; ``request`` is USD per request.
"""

from __future__ import annotations

import fnmatch
import hashlib
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PRICE_TYPE = "ai.price.v1"

#: Price fields of an override, in the order they are hashed into the price version.
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning", "request")

_Price = Field(default=None, ge=0, description="USD per million tokens.")
_GLOB_CHARS = frozenset("*?[")


def utc_key_time(value: datetime) -> str:
    """RFC 3339 UTC text of an instant, as used in override keys (``2025-01-01T00:00:00Z``)."""
    text = value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    return f"{text}Z"


def _canonical(value: Decimal | None) -> str:
    """``2.50`` and ``2.5`` are the same price, so they hash the same."""
    return "-" if value is None else format(value.normalize(), "f")


class PriceOverride(BaseModel):
    """A price for ``provider``/``model`` on ``[effective_from, effective_to)``.

    ``model`` (and ``provider``) may be an exact name or a glob (``llama3*``); both are matched
    case-insensitively and stored lowercased. Times without a zone are taken as UTC; a bare date
    means midnight UTC.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    type: Literal["ai.price.v1"] = PRICE_TYPE
    provider: str = Field(min_length=1, max_length=200)
    model: str = Field(min_length=1, max_length=200)
    effective_from: datetime
    effective_to: datetime | None = None
    input: Decimal | None = _Price
    output: Decimal | None = _Price
    cache_read: Decimal | None = _Price
    cache_write: Decimal | None = _Price
    reasoning: Decimal | None = _Price
    request: Decimal | None = Field(default=None, ge=0, description="USD per request.")
    deleted: bool = Field(default=False, description="True removes the override with this key.")
    note: str = Field(default="", max_length=1000)

    @field_validator("provider", "model")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("effective_from", "effective_to", mode="before")
    @classmethod
    def _date_means_midnight(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(0), tzinfo=timezone.utc)
        return value

    @field_validator("effective_from", "effective_to")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    @model_validator(mode="after")
    def _consistent(self) -> "PriceOverride":
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to: must be after effective_from")
        missing = [name for name in ("input", "output") if getattr(self, name) is None]
        if missing and not self.deleted:
            raise ValueError(f"{' and '.join(missing)}: required (use 0 for a free bucket)")
        return self

    @property
    def key(self) -> str:
        """Compaction key on ``ai.pricing.v1``: ``provider/model/effective_from``."""
        return f"{self.provider}/{self.model}/{utc_key_time(self.effective_from)}"

    @property
    def is_glob(self) -> bool:
        return bool(_GLOB_CHARS & set(self.provider + self.model))

    def matches(self, provider: str, model: str) -> bool:
        """Does this override name ``provider``/``model`` (already lowercased)?"""
        if not self.is_glob:
            return self.provider == provider and self.model == model
        return fnmatch.fnmatchcase(provider, self.provider) and fnmatch.fnmatchcase(model, self.model)

    def active_at(self, when: datetime) -> bool:
        return self.effective_from <= when and (self.effective_to is None or when < self.effective_to)

    @property
    def version(self) -> str:
        """``override:<hash>``: stable for the same key, window and prices."""
        parts = [self.key, utc_key_time(self.effective_to) if self.effective_to else "-"]
        parts += [f"{name}={_canonical(getattr(self, name))}" for name in PRICE_FIELDS]
        digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
        return f"override:{digest[:16]}"
