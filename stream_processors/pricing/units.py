"""Usage units: how an event's disjoint buckets map onto genai-prices' nested usage keys.

genai-prices describes every usage key by a set of *dimensions* (``family=tokens,
direction=input, token_type=cache_read``...). A key counts every unit whose dimensions include
its own: its ``input_tokens`` includes cache reads and writes, its ``output_tokens`` includes
reasoning. ailedger's event buckets are disjoint instead. Each bucket (and each key of
``extra_usage``) is a *contribution* of units of one exact kind:

==================== ==============================
event field          genai-prices unit
==================== ==============================
input_tokens         input_tokens (uncached part)
cache_read_tokens    cache_read_tokens
cache_write_tokens   cache_write_tokens
output_tokens        output_tokens (non-reasoning)
reasoning_tokens     output_reasoning_tokens
extra_usage[k]       k, counted *in addition* to the five buckets
==================== ==============================

A contribution is priced at the most specific unit of the price sheet whose dimensions it
contains, exactly as genai-prices' decomposition does: cache reads without a cache-read price
fall back to the input price, reasoning without a reasoning price to the output price, audio
input without an audio price to the input price. A contribution that no unit of the sheet
covers (output tokens of an embedding model) costs nothing, as in genai-prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from genai_prices.units import UnitDef, _get_registry

if TYPE_CHECKING:
    from schemas.events import AICallEvent

#: Event bucket -> genai-prices usage key of its contribution, in CallCost bucket order.
CORE_UNITS: tuple[tuple[str, str], ...] = (
    ("input_tokens", "input_tokens"),
    ("cache_read_tokens", "cache_read_tokens"),
    ("cache_write_tokens", "cache_write_tokens"),
    ("output_tokens", "output_tokens"),
    ("reasoning_tokens", "output_reasoning_tokens"),
)

#: CallCost amount fields, indexed by :func:`bucket_of`.
BUCKETS = ("input_usd", "cache_read_usd", "cache_write_usd", "output_usd", "reasoning_usd", "other_usd")
OTHER = 5

REQUESTS = "requests"


def registry_units() -> Mapping[str, UnitDef]:
    """All genai-prices units by usage key."""
    return _get_registry().units


def is_known_unit(usage_key: str) -> bool:
    return usage_key in registry_units()


def covers(ancestor: UnitDef, unit: UnitDef) -> bool:
    """True when ``ancestor`` counts ``unit`` (its dimensions are a subset)."""
    return ancestor.dimensions.items() <= unit.dimensions.items()


def route(usage_key: str, priced_keys: frozenset[str] | set[str]) -> str | None:
    """The priced usage key that prices a contribution of ``usage_key``, or None.

    The most specific priced unit covering the contribution; genai-prices' validation (join
    coverage) guarantees it is unique.
    """
    units = registry_units()
    unit = units[usage_key]
    best: UnitDef | None = None
    for key in priced_keys:
        candidate = units[key]
        if covers(candidate, unit) and (best is None or len(candidate.dimensions) > len(best.dimensions)):
            best = candidate
    return None if best is None else best.usage_key


def bucket_of(usage_key: str) -> int:
    """Index into :data:`BUCKETS` of the CallCost amount a contribution is reported in."""
    dims = registry_units()[usage_key].dimensions
    token_type = dims.get("token_type")
    if dims.get("family") != "tokens":
        return OTHER
    if token_type == "cache_read":
        return 1
    if token_type == "cache_write":
        return 2
    if token_type == "reasoning":
        return 4
    return 0 if dims.get("direction") == "input" else 3


def is_input_token_unit(usage_key: str) -> bool:
    """Counts toward genai-prices' ``input_tokens`` (and so toward long-context tiers)."""
    dims = registry_units()[usage_key].dimensions
    return dims.get("family") == "tokens" and dims.get("direction") == "input"


def contributions(event: "AICallEvent") -> dict[str, int]:
    """The event's usage as disjoint genai-prices contributions (zero counts left out)."""
    counts = {unit: getattr(event, field) for field, unit in CORE_UNITS}
    for key, count in event.extra_usage.items():
        counts[key] = counts.get(key, 0) + count
    return {key: count for key, count in counts.items() if count}


def to_genai_usage(event: "AICallEvent") -> dict[str, int]:
    """genai-prices usage values of the event: each key sums the contributions it covers.

    Unknown keys and ``requests`` (genai-prices counts one request per call) are left out.
    """
    units = registry_units()
    parts = [(units[k], n) for k, n in contributions(event).items() if k in units and k != REQUESTS]
    usage: dict[str, int] = {}
    for key, unit in units.items():
        if key == REQUESTS:
            continue
        usage[key] = sum(n for part, n in parts if covers(unit, part))
    return usage
