"""Override prices: the file's and the pricing topic's, and which one wins at an instant.

At an instant, among the overrides that name the call's provider/model and whose window
``[effective_from, effective_to)`` contains it, the winner is chosen by, in order:

1. an exact name beats a glob pattern;
2. the later ``effective_from`` beats the earlier (a price change supersedes the old price);
3. the pricing topic beats the file (a price set through the API beats the deployed file).

An override, when one applies, beats genai-prices for the whole call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from schemas.pricing import PriceOverride
from stream_processors.pricing.sheet import PriceSheet, build_sheet

FILE_SOURCE = "override-file"
TOPIC_SOURCE = "override-topic"
_RANK = {FILE_SOURCE: 0, TOPIC_SOURCE: 1}
_MTOK = 1_000_000


@dataclass(frozen=True, slots=True)
class Entry:
    """An override with the source it came from and its precomputed sheet."""

    override: PriceOverride
    source: str
    sheet: PriceSheet

    @property
    def rank(self) -> tuple[bool, datetime, int]:
        return (not self.override.is_glob, self.override.effective_from, _RANK[self.source])


def override_prices(override: PriceOverride) -> dict[str, Decimal]:
    """genai-prices usage key -> price per unit.per (tokens per million, requests per thousand)."""
    prices = {"input_tokens": override.input, "output_tokens": override.output}
    optional = {
        "cache_read_tokens": override.cache_read,
        "cache_write_tokens": override.cache_write,
        "output_reasoning_tokens": override.reasoning,
    }
    prices.update({k: v for k, v in optional.items() if v is not None})
    if override.request is not None:
        prices["requests"] = override.request * 1000  # requests are priced per thousand
    return prices  # type: ignore[return-value]


def make_entry(override: PriceOverride, source: str) -> Entry:
    """Validate and precompute one override."""
    if source not in _RANK:
        raise ValueError(f"unknown override source {source!r}")
    sheet = build_sheet(override_prices(override), source, override.version)
    return Entry(override, source, sheet)


class OverrideSet:
    """Overrides by key; a later entry with the same key and source replaces the earlier one."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, override: PriceOverride, source: str) -> None:
        """Add or replace; ``deleted=True`` removes the entry with that key instead."""
        if override.deleted:
            self.remove(override.key, source)
            return
        self._entries[(source, override.key)] = make_entry(override, source)

    def remove(self, key: str, source: str) -> bool:
        """Remove the override with this compaction key; True if there was one."""
        return self._entries.pop((source, key), None) is not None

    def clear(self, source: str) -> None:
        for entry_key in [k for k in self._entries if k[0] == source]:
            del self._entries[entry_key]

    def matching(self, provider: str, model: str) -> list[Entry]:
        """Entries naming ``provider``/``model`` (lowercased), best first."""
        found = [e for e in self._entries.values() if e.override.matches(provider, model)]
        return sorted(found, key=lambda e: e.rank, reverse=True)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())


def winner(candidates: list[Entry], when: datetime) -> Entry | None:
    """The first (best-ranked) candidate active at ``when``."""
    for entry in candidates:
        if entry.override.active_at(when):
            return entry
    return None
