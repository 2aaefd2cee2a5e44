"""The result of every adapter: usage in the event's disjoint token buckets, plus the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.events import TOKEN_BUCKETS


@dataclass(frozen=True)
class Usage:
    """Disjoint buckets: no token appears in two of them.

    ``input_tokens`` is uncached prompt input; ``output_tokens`` excludes reasoning.
    """

    model: str | None = None
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    extra_usage: dict[str, int] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return sum(getattr(self, name) for name in TOKEN_BUCKETS)

    def as_fields(self) -> dict[str, Any]:
        """Event fields to merge into a tracked call (model only when known)."""
        fields: dict[str, Any] = {name: getattr(self, name) for name in TOKEN_BUCKETS}
        if self.extra_usage:
            fields["extra_usage"] = dict(self.extra_usage)
        if self.model:
            fields["model"] = self.model
        return fields


def split(total: int, part: int) -> tuple[int, int]:
    """(total - part, part) with the part clamped into 0..total: a provider's inclusive count
    and the sub-count it includes become two disjoint counts."""
    part = min(max(part, 0), max(total, 0))
    return max(total, 0) - part, part
