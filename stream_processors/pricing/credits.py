"""Credits: what a call costs the customer in credits, from its tokens (the design documents' rule).

``credits = max(round(tokens / tokens_per_credit, quantum, rounding), minimum)`` where

* ``tokens`` is the call's total tokens, every bucket counted once (``AICallEvent.total_tokens``:
  input + cache reads + cache writes + output + reasoning);
* ``tokens_per_credit`` is the model's ratio (``tokens_per_credit`` keyed by ``provider/model``
  or ``model``, exact name or glob, first match in file order after exact names), else
  ``default_tokens_per_credit``;
* ``rounding`` is ``up`` (ceiling), ``down`` (floor) or ``nearest`` (half up) to a multiple of
  ``quantum``;
* ``minimum`` is ``min_credits_per_operation[event.operation]`` if set, else ``min_credits``.

Defaults: 1 credit per 1,000 tokens, rounded up to whole credits, minimum 0.
"""

from __future__ import annotations

import fnmatch
from functools import cached_property
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stream_processors.pricing.loading import PricingFileError, read_document, validation_error

if TYPE_CHECKING:
    from schemas.events import AICallEvent

_MODES = {"up": ROUND_CEILING, "down": ROUND_FLOOR, "nearest": ROUND_HALF_UP}
_GLOB = frozenset("*?[")


class CreditRules(BaseModel):
    """How many credits a call costs. Frozen; load with :meth:`load`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_tokens_per_credit: Decimal = Field(default=Decimal(1000), gt=0)
    tokens_per_credit: dict[str, Decimal] = Field(default_factory=dict)
    min_credits: Decimal = Field(default=Decimal(0), ge=0)
    min_credits_per_operation: dict[str, Decimal] = Field(default_factory=dict)
    rounding: Literal["up", "down", "nearest"] = "up"
    quantum: Decimal = Field(default=Decimal(1), gt=0)

    @field_validator("tokens_per_credit")
    @classmethod
    def _positive_ratios(cls, table: dict[str, Decimal]) -> dict[str, Decimal]:
        for key, value in table.items():
            if not value.is_finite() or value <= 0:
                raise ValueError(f"tokens_per_credit[{key!r}] = {value} must be a positive number")
        return table

    @field_validator("min_credits_per_operation")
    @classmethod
    def _non_negative_minimums(cls, table: dict[str, Decimal]) -> dict[str, Decimal]:
        for key, value in table.items():
            if not value.is_finite() or value < 0:
                raise ValueError(f"min_credits_per_operation[{key!r}] = {value} must be 0 or more")
        return table

    @cached_property
    def step_cache(self) -> dict[tuple[str, str], int | Decimal]:
        """(provider, model) -> tokens per quantum of credits; filled as calls arrive.

        A cached_property, not a pydantic private attribute: those cost ~3 µs per access.
        """
        return {}

    def ratio(self, provider: str, model: str) -> Decimal:
        """Tokens per credit for this model."""
        return self._find_ratio(provider.lower(), model.lower())

    def _step(self, provider: str, model: str) -> int | Decimal:
        """Tokens per quantum of credits, as an int when whole (the common, faster case)."""
        key = (provider, model)
        found = self.step_cache.get(key)
        if found is None:
            step = self.ratio(provider, model) * self.quantum
            found = int(step) if step == step.to_integral_value() else step
            self.step_cache[key] = found
        return found

    def _find_ratio(self, provider: str, model: str) -> Decimal:
        names = (f"{provider}/{model}", model)
        table = {k.lower(): v for k, v in self.tokens_per_credit.items()}
        for name in names:
            if name in table:
                return table[name]
        for pattern, value in table.items():
            if _GLOB & set(pattern) and any(fnmatch.fnmatchcase(n, pattern) for n in names):
                return value
        return self.default_tokens_per_credit

    @cached_property
    def plain(self) -> bool:
        """Whole credits and no minimum above 0: the result needs no quantum or minimum step."""
        no_minimum = self.min_credits == 0 and not any(self.min_credits_per_operation.values())
        return self.quantum == 1 and no_minimum

    def credits(self, tokens: int, provider: str, model: str, operation: str = "") -> Decimal:
        """Credits for ``tokens`` tokens of this model and operation."""
        step_cache, rounding, plain, quantum, minimums, minimum = self.settings
        step = step_cache.get((provider, model)) or self._step(provider, model)
        if type(step) is int:  # exact integer arithmetic
            if rounding == "up":
                steps = -(-tokens // step)
            elif rounding == "down":
                steps = tokens // step
            else:
                steps = (2 * tokens + step) // (2 * step)
            if plain:
                return Decimal(steps)
            value = Decimal(steps) * quantum
        else:
            value = (Decimal(tokens) / step).to_integral_value(rounding=_MODES[rounding]) * quantum
        if minimums:
            minimum = minimums.get(operation, minimum)
        return value if value >= minimum else minimum

    @cached_property
    def settings(self) -> tuple[dict, str, bool, Decimal, dict[str, Decimal], Decimal]:
        """What :meth:`credits` reads per call, as one tuple: an attribute of a pydantic model is
        a slow attribute for the interpreter (~300 instructions; the class has ``__getattr__``)."""
        return (self.step_cache, self.rounding, self.plain, self.quantum, self.min_credits_per_operation,
                self.min_credits)

    def credits_for(self, event: "AICallEvent") -> Decimal:
        """Credits of one call."""
        return self.credits(event.total_tokens, event.provider, event.model, event.operation)

    @classmethod
    def load(cls, source: Any = None) -> "CreditRules":
        """Rules from a YAML/JSON file (a path, or settings with ``credits_file``); defaults if None."""
        path = getattr(source, "credits_file", source)
        if path is None:
            return cls()
        path = Path(path)
        data = read_document(path)
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise PricingFileError(f"{path}: expected a mapping of credit settings, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise PricingFileError(f"{path}: {validation_error(exc)}") from None


DEFAULT_CREDITS = CreditRules()
