"""The base catalog: genai-prices' bundled (offline) snapshot.

Finds a provider's model the way ``genai_prices.calc_price`` does, picks the price row active at
an instant (its ``ConditionalPrice`` rules: the last active row wins; start dates at UTC midnight;
daily time-of-day windows such as DeepSeek's off-peak hours), and turns it into a
:class:`~stream_processors.pricing.sheet.PriceSheet` with a stable version string such as
``genai-prices@0.2.3:openai/gpt-4o`` or ``genai-prices@0.2.3:deepseek/deepseek-chat@00:30-16:30``.

Not applied (documented in docs/pricing.md): request-context price variants (batch / flex /
priority service tiers) and genai-prices' Groq Whisper minimum of 10 billed seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import genai_prices
from genai_prices import types as T
from genai_prices.data_snapshot import DataSnapshot, get_snapshot
from genai_prices.units import _get_registry

from stream_processors.pricing.sheet import PriceSheet, build_sheet

SOURCE = "genai-prices"
VERSION = genai_prices.__version__


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """A model found in the snapshot, with the provider whose list holds its prices."""

    provider_id: str
    owner_id: str
    model: T.ModelInfo

    @property
    def rows(self) -> list[T.ConditionalPrice]:
        prices = self.model.prices
        return [T.ConditionalPrice(prices=prices)] if isinstance(prices, T.ModelPrice) else prices


def find_model(provider: str, model: str, snapshot: DataSnapshot | None = None) -> CatalogModel | None:
    """The snapshot's model for ``provider``/``model``, or None (unknown provider or model).

    The provider must be known: a self-hosted ``ollama/llama3`` is never priced as some cloud
    provider's llama3.
    """
    snapshot = snapshot or get_snapshot()
    try:
        found_provider, info = snapshot.find_provider_model(model, None, provider, None)
    except LookupError:
        return None
    owner = found_provider.id
    if not any(m is info for m in found_provider.models):
        for fallback in found_provider.fallback_model_providers or ():
            other = next((p for p in snapshot.providers if p.id == fallback), None)
            if other is not None and any(m is info for m in other.models):
                owner = other.id
                break
    return CatalogModel(found_provider.id, owner, info)


def active_row(found: CatalogModel, when: datetime) -> int:
    """Index of the price row in force at ``when`` (genai-prices ``ModelInfo.get_prices``)."""
    rows = found.rows
    for index in range(len(rows) - 1, -1, -1):
        constraint = rows[index].constraint
        if constraint is None or constraint.active(when):
            return index
    return 0


def daily_boundaries(found: CatalogModel) -> list[time]:
    """Times of day (UTC) at which this model's price may change (time-of-day rows)."""
    times: set[time] = set()
    for row in found.rows:
        if isinstance(row.constraint, T.TimeOfDateConstraint):
            for t in (row.constraint.start_time, row.constraint.end_time):
                times.add(T._utc_timetz(t).replace(tzinfo=None))
    return sorted(times)


def row_version(found: CatalogModel, index: int) -> str:
    """Stable identifier of one price row of the snapshot."""
    base = f"{SOURCE}@{VERSION}:{found.owner_id}/{found.model.id}"
    constraint = found.rows[index].constraint
    if isinstance(constraint, T.StartDateConstraint):
        return f"{base}@{constraint.start_date.isoformat()}"
    if isinstance(constraint, T.TimeOfDateConstraint):
        start = T._utc_timetz(constraint.start_time).strftime("%H:%M")
        end = T._utc_timetz(constraint.end_time).strftime("%H:%M")
        return f"{base}@{start}-{end}"
    return base if index == 0 else f"{base}#{index}"


def row_sheet(found: CatalogModel, index: int) -> PriceSheet:
    """The sheet of one price row. Raises ValueError if genai-prices would reject the row."""
    model_price = found.rows[index].prices
    prices = {}
    registry = _get_registry()
    for key, value in model_price.__dict__.items():
        if key.startswith("_") or value is None:
            continue
        try:
            unit = registry.unit_for_price_key(key)
        except KeyError:
            raise ValueError(f"unsupported price key {key}") from None
        prices[unit.usage_key] = value
    return build_sheet(prices, SOURCE, row_version(found, index))
