"""Reading the overrides and credits files (YAML or JSON), with errors that name the culprit.

Numbers are read as exact Decimals (``0.1`` stays ``0.1``, never ``0.1000000000000000055``).
A bad entry fails the whole load with ``<file>: entry <n> (<provider>/<model>): <field>: <why>``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas.pricing import PriceOverride


class PricingFileError(ValueError):
    """A pricing or credits file that cannot be used; the message names file, entry and field."""


class _DecimalLoader(yaml.SafeLoader):
    """YAML loader that reads floats as Decimal."""


def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:
        raise PricingFileError(f"not a number: {text!r}") from None


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_float)


def read_document(path: Path) -> Any:
    """Parse a ``.json`` file as JSON and anything else as YAML (a superset of JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PricingFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text, parse_float=Decimal)
        return yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise PricingFileError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}") from None


def validation_error(exc: ValueError) -> str:
    """'field: message; field: message' for a pydantic error, else the message."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for err in exc.errors():
        message = err["msg"].removeprefix("Value error, ")
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_overrides(data: Any, origin: str = "overrides") -> list[PriceOverride]:
    """Validate a decoded overrides document: a list of entries."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise PricingFileError(f"{origin}: expected a list of price entries, got {type(data).__name__}")
    overrides = []
    seen: dict[str, int] = {}
    for number, item in enumerate(data, start=1):
        label = _label(item)
        if not isinstance(item, dict):
            raise PricingFileError(f"{origin}: entry {number}: expected a mapping, got {type(item).__name__}")
        try:
            override = PriceOverride.model_validate(item)
        except ValidationError as exc:
            raise PricingFileError(f"{origin}: entry {number} ({label}): {validation_error(exc)}") from None
        if override.deleted:
            raise PricingFileError(f"{origin}: entry {number} ({label}): deleted: not allowed in a file (remove the entry)")
        if override.key in seen:
            raise PricingFileError(
                f"{origin}: entry {number} ({label}): same provider, model and effective_from as entry {seen[override.key]}"
            )
        seen[override.key] = number
        overrides.append(override)
    return overrides


def load_overrides(path: Path | str) -> list[PriceOverride]:
    """Read and validate an overrides file."""
    path = Path(path)
    return parse_overrides(read_document(path), str(path))


def _label(item: Any) -> str:
    if isinstance(item, dict):
        return f"{item.get('provider', '?')}/{item.get('model', '?')}"
    return "?"
