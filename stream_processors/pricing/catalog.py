"""The price catalog: genai-prices as the base, overrides on top, resolved per call time.

Resolving a (provider, model, instant) to a price sheet walks the overrides and the snapshot;
that costs tens of microseconds, so the catalog caches, per (provider, model, UTC day), the
day's segments: the instants within the day where the applicable price changes (override
windows starting or ending, time-of-day rows of the snapshot) and the sheet of each segment.
A call then costs one dict lookup (plus a bisect on days with several segments).

Applying or removing an override clears the cache; it is rebuilt lazily.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

import orjson

from schemas.pricing import PriceOverride
from stream_processors.pricing import genai_source as G
from stream_processors.pricing.overrides import FILE_SOURCE, TOPIC_SOURCE, Entry, OverrideSet, winner
from stream_processors.pricing.sheet import PriceSheet

_DAY = timedelta(days=1)
_UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class Day:
    """Price segments of one UTC day: ``sheets[i]`` applies from ``starts[i]`` (µs of day)."""

    starts: tuple[int, ...]
    sheets: tuple[PriceSheet | None, ...]


def micros_of_day(when: datetime) -> int:
    return ((when.hour * 60 + when.minute) * 60 + when.second) * 1_000_000 + when.microsecond


def _micros(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


class PriceCatalog:
    """Prices for any provider/model at any instant. Not thread-safe (one per worker loop)."""

    def __init__(
        self,
        file_overrides: Iterable[PriceOverride] = (),
        *,
        snapshot: Any = None,
        max_cached_days: int = 65_536,
    ) -> None:
        self._snapshot = snapshot
        self._overrides = OverrideSet()
        for override in file_overrides:
            self._overrides.put(override, FILE_SOURCE)
        self._max_days = max_cached_days
        self._days: dict[tuple[str, str, int], Day] = {}
        self._models: dict[tuple[str, str], G.CatalogModel | None] = {}
        self._candidates: dict[tuple[str, str], list[Entry]] = {}
        self._rows: dict[tuple[int, int], PriceSheet | None] = {}

    # -- the hot path -------------------------------------------------------------------------

    def resolve(self, provider: str, model: str, when: datetime) -> PriceSheet | None:
        """The sheet pricing a call of ``provider``/``model`` at ``when`` (aware), or None."""
        if when.tzinfo is not _UTC:
            when = when.astimezone(_UTC)
        key = (provider, model, when.toordinal())
        day = self._days.get(key)
        if day is None:
            day = self._build_day(provider, model, key[2])
        if len(day.starts) == 1:
            return day.sheets[0]
        return day.sheets[bisect_right(day.starts, micros_of_day(when)) - 1]

    # -- overrides ----------------------------------------------------------------------------

    def apply(self, override: PriceOverride, source: str = TOPIC_SOURCE) -> None:
        """Add or replace an override (from the pricing topic by default); ``deleted`` removes it."""
        self._overrides.put(override, source)
        self._invalidate()

    def remove(self, key: str, source: str = TOPIC_SOURCE) -> bool:
        """Remove the override with this compaction key (a tombstone on ``ai.pricing.v1``)."""
        removed = self._overrides.remove(key, source)
        if removed:
            self._invalidate()
        return removed

    def apply_message(self, key: bytes | str | None, value: bytes | str | dict | None) -> None:
        """Feed one record of ``ai.pricing.v1``: a JSON ``ai.price.v1`` value or a tombstone."""
        if isinstance(key, bytes):
            key = key.decode()
        if value is None:
            if key is None:
                raise ValueError("a tombstone without a key removes nothing")
            self.remove(key)
            return
        data = orjson.loads(value) if isinstance(value, (bytes, str)) else value
        override = PriceOverride.model_validate(data)
        if key is not None and key != override.key:
            raise ValueError(f"record key {key!r} does not match the override's key {override.key!r}")
        self.apply(override)

    def overrides(self) -> list[tuple[str, PriceOverride]]:
        """(source, override) of every override in force or scheduled."""
        return [(e.source, e.override) for e in self._overrides.entries()]

    # -- building -----------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._days.clear()
        self._candidates.clear()

    def _model(self, provider: str, model: str) -> G.CatalogModel | None:
        key = (provider, model)
        if key not in self._models:
            if len(self._models) >= self._max_days:  # bounded even if model names are garbage
                self._models.clear()
            self._models[key] = G.find_model(provider, model, self._snapshot)
        return self._models[key]

    def _matching(self, provider: str, model: str) -> list[Entry]:
        key = (provider, model)
        found = self._candidates.get(key)
        if found is None:
            if len(self._candidates) >= self._max_days:
                self._candidates.clear()
            found = self._candidates[key] = self._overrides.matching(provider, model)
        return found

    def _build_day(self, provider: str, model: str, ordinal: int) -> Day:
        p, m = provider.lower(), model.lower()
        found = self._model(p, m)
        candidates = self._matching(p, m)
        start = datetime.fromordinal(ordinal).replace(tzinfo=_UTC)
        end = start + _DAY
        bounds = {0}
        for entry in candidates:
            for t in (entry.override.effective_from, entry.override.effective_to):
                if t is not None and start < t < end:
                    bounds.add(micros_of_day(t))
        if found is not None:
            bounds.update(_micros(t) for t in G.daily_boundaries(found))
        starts = tuple(sorted(bounds))
        sheets = tuple(self._sheet_at(found, candidates, start + timedelta(microseconds=b)) for b in starts)
        if len(self._days) >= self._max_days:
            self._days.clear()
        day = self._days[(provider, model, ordinal)] = Day(starts, sheets)
        return day

    def _sheet_at(self, found: G.CatalogModel | None, candidates: list[Entry], when: datetime) -> PriceSheet | None:
        entry = winner(candidates, when)
        if entry is not None:
            return entry.sheet
        if found is None:
            return None
        index = G.active_row(found, when)
        row_key = (id(found.model), index)
        if row_key not in self._rows:
            try:
                self._rows[row_key] = G.row_sheet(found, index)
            except ValueError:
                self._rows[row_key] = None  # genai-prices itself would refuse to price this row
        return self._rows[row_key]
