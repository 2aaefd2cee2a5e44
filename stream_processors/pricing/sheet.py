"""Price sheets: one resolved set of unit prices, precomputed so that a call costs microseconds.

A sheet is built once per price row (a genai-prices ``ModelPrice`` or an override) and cached by
the catalog. Computing a cost is then a tier choice and a few Decimal multiplications.

Long-context tiers follow genai-prices' ``TieredPrices``: the tier is chosen by the request's
total input tokens (uncached input + cache reads + cache writes + extra input token units), and
once a threshold is *exceeded* (``>``, not ``>=``) every token of every tiered unit is priced at
that tier's rate - the whole request is repriced, not only the tokens above the threshold.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact
from typing import Mapping, Union

from genai_prices.types import TieredPrices
from genai_prices.units import _get_registry
from genai_prices.validation import validate_priced_units

from stream_processors.pricing import units as U

Price = Union[Decimal, TieredPrices]
#: Per-level price of each core bucket: (price per ``per`` units, per) or None (not covered).
Rate = tuple[Decimal, int] | None


@dataclass(frozen=True, slots=True)
class Level:
    """Rates of one tier level: the five core buckets, then a per-request rate.

    ``unit`` holds each core bucket's price of one token (``price / per``) when every one of them
    is exact, as it is for token prices (``per`` is a power of ten): a call then costs one
    multiplication per bucket instead of a multiplication and a division, with the same value
    (dividing by a power of ten only moves the decimal point, before or after the product is
    rounded to the context's precision). ``None`` otherwise.
    """

    core: tuple[Rate, Rate, Rate, Rate, Rate]
    request: Rate
    unit: tuple[Decimal | None, ...] | None = None


@dataclass(frozen=True, slots=True)
class PriceSheet:
    """Prices of one model at one time, with the source and version recorded on each cost."""

    prices: Mapping[str, Price]  # genai-prices usage key -> price per unit.per
    source: str
    version: str
    starts: tuple[int, ...]  # distinct tier thresholds, ascending
    levels: tuple[Level, ...]  # levels[i] applies when exactly i thresholds are exceeded
    _extra_routes: dict[str, tuple[int, str | None]] = field(default_factory=dict, compare=False)

    def level_for(self, total_input: int) -> Level:
        """The level whose thresholds ``total_input`` exceeds (``>``, as genai-prices)."""
        if not self.starts:
            return self.levels[0]
        return self.levels[bisect_left(self.starts, total_input)]

    def rate(self, usage_key: str, total_input: int) -> tuple[Decimal, int] | None:
        """Price and ``per`` of the unit pricing ``usage_key`` at this input size (slow path)."""
        priced = self.extra_route(usage_key)[1]
        if priced is None:
            return None
        return price_at(self.prices[priced], total_input), U.registry_units()[priced].per

    def extra_route(self, usage_key: str) -> tuple[int, str | None]:
        """(CallCost bucket, priced key) of an ``extra_usage`` key; cached per sheet."""
        found = self._extra_routes.get(usage_key)
        if found is None:
            priced = U.route(usage_key, frozenset(self.prices)) if U.is_known_unit(usage_key) else None
            found = (U.bucket_of(usage_key) if priced else U.OTHER, priced)
            self._extra_routes[usage_key] = found
        return found


def price_at(price: Price, total_input: int) -> Decimal:
    """The applicable price of a (possibly tiered) price for a request of ``total_input``."""
    if isinstance(price, TieredPrices):
        applicable = price.base
        for tier in reversed(price.tiers):
            if total_input > tier.start:
                return tier.price
        return applicable
    return price


def build_sheet(prices: Mapping[str, Price], source: str, version: str) -> PriceSheet:
    """Precompute the levels of ``prices`` (usage key -> price). Raises ValueError if invalid."""
    validate(prices)
    priced = frozenset(prices)
    starts = sorted({t.start for p in prices.values() if isinstance(p, TieredPrices) for t in p.tiers})
    # A request exceeding exactly i thresholds has total input in (starts[i-1], starts[i]].
    probes = [0] + [s + 1 for s in starts]
    routes = [U.route(unit, priced) for _, unit in U.CORE_UNITS]
    req_key = U.REQUESTS if U.REQUESTS in priced else None
    units = U.registry_units()
    levels = []
    for probe in probes:
        core = tuple(
            None if key is None else (price_at(prices[key], probe), units[key].per) for key in routes
        )
        request = None if req_key is None else (price_at(prices[req_key], probe), units[req_key].per)
        levels.append(Level(core=core, request=request, unit=unit_prices(core)))  # type: ignore[arg-type]
    return PriceSheet(dict(prices), source, version, tuple(starts), tuple(levels))


_EXACT = Context(prec=100, traps=[Inexact])


def unit_prices(core: tuple[Rate, ...]) -> tuple[Decimal | None, ...] | None:
    """``price / per`` of each rate (None for an uncovered bucket), or None if one is not exact."""
    try:
        return tuple(None if rate is None else _EXACT.divide(rate[0], rate[1]) for rate in core)
    except Inexact:
        return None


def validate(prices: Mapping[str, Price]) -> None:
    """genai-prices' own checks: known keys, ancestors priced, joins priced, sane values."""
    units = U.registry_units()
    unknown = sorted(k for k in prices if k not in units)
    if unknown:
        raise ValueError(f"unknown usage keys: {', '.join(unknown)}")
    for key, price in prices.items():
        values = [price.base, *(t.price for t in price.tiers)] if isinstance(price, TieredPrices) else [price]
        if any(not isinstance(v, Decimal) or not v.is_finite() or v < 0 for v in values):
            raise ValueError(f"price of {key} is not a finite non-negative Decimal")
    validate_priced_units(tuple(units[k] for k in prices), _get_registry())
