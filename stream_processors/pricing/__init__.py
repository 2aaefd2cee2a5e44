"""The pricing engine: exact Decimal cost and credits of every call, at the call's own time.

>>> catalog = load_catalog(settings)          # or a path, or None for genai-prices alone
>>> rules = CreditRules.load(settings)         # or a path, or None for the defaults
>>> cost = price_call(event, catalog, rules)   # -> schemas.costed.CallCost

See docs/pricing.md for the catalog, the overrides file, fallbacks, tiers, versions and credits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stream_processors.pricing.catalog import PriceCatalog
from stream_processors.pricing.credits import DEFAULT_CREDITS, CreditRules
from stream_processors.pricing.loading import PricingFileError, load_overrides
from stream_processors.pricing.overrides import FILE_SOURCE, TOPIC_SOURCE
from stream_processors.pricing.price import price_call

__all__ = [
    "DEFAULT_CREDITS",
    "FILE_SOURCE",
    "TOPIC_SOURCE",
    "CreditRules",
    "PriceCatalog",
    "PricingFileError",
    "load_catalog",
    "price_call",
]


def load_catalog(settings_or_paths: Any = None) -> PriceCatalog:
    """A catalog of genai-prices plus the overrides file(s).

    Accepts None (no overrides), a path, several paths, or settings with ``pricing_file``
    (``AILEDGER_PRICING_FILE``). A bad file raises :class:`PricingFileError` naming the entry.
    """
    source = getattr(settings_or_paths, "pricing_file", settings_or_paths)
    if source is None:
        paths: list[Path] = []
    elif isinstance(source, (str, Path)):
        paths = [Path(source)]
    elif isinstance(source, Iterable):
        paths = [Path(p) for p in source]
    else:
        raise TypeError(f"load_catalog takes settings, a path or paths, not {type(source).__name__}")
    overrides = []
    for path in paths:
        overrides.extend(load_overrides(path))
    _reject_duplicates(overrides)
    return PriceCatalog(overrides)


def _reject_duplicates(overrides: list) -> None:
    seen: set[str] = set()
    for override in overrides:
        if override.key in seen:
            raise PricingFileError(f"two files define the same override {override.key}")
        seen.add(override.key)
