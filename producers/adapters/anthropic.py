"""Anthropic Messages usage (objects from the ``anthropic`` package or dicts).

``input_tokens`` excludes ``cache_creation_input_tokens`` (cache write) and
``cache_read_input_tokens`` (cache read): the three are already disjoint. ``output_tokens``
includes thinking, reported in ``output_tokens_details.thinking_tokens`` when present.
"""

from __future__ import annotations

from typing import Any

from producers.adapters._fields import count, pick, text
from producers.adapters.usage import Usage, split

RAW_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")


def raw_counts(usage: Any) -> dict[str, int]:
    """The provider's own counts that are present (absent or None fields are left out)."""
    counts = {name: count(usage, name) for name in RAW_FIELDS if pick(usage, name) is not None}
    thinking = pick(pick(usage, "output_tokens_details"), "thinking_tokens")
    if thinking is not None:
        counts["thinking_tokens"] = count(pick(usage, "output_tokens_details"), "thinking_tokens")
    return counts


def buckets(raw: dict[str, int], model: str | None = None) -> Usage:
    visible, thinking = split(raw.get("output_tokens", 0), raw.get("thinking_tokens", 0))
    return Usage(
        model=model,
        input_tokens=raw.get("input_tokens", 0),
        cache_write_tokens=raw.get("cache_creation_input_tokens", 0),
        cache_read_tokens=raw.get("cache_read_input_tokens", 0),
        output_tokens=visible,
        reasoning_tokens=thinking,
    )


def from_response(message: Any) -> Usage | None:
    """A ``Message`` (or its dict)."""
    usage = pick(message, "usage")
    if usage is None:
        return None
    return buckets(raw_counts(usage), text(message, "model"))


class StreamState:
    """Usage over a Messages stream: ``message_start`` carries the input side and a first
    output count; each ``message_delta`` carries cumulative counts that replace earlier ones."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.raw: dict[str, int] | None = None

    def observe(self, event: Any) -> bool:
        """Take one stream event; False if it is not an Anthropic message event."""
        kind = pick(event, "type")
        if kind == "message_start":
            message = pick(event, "message")
            self.model = text(message, "model") or self.model
            self.raw = raw_counts(pick(message, "usage"))
            return True
        if kind == "message_delta":
            self.raw = {**(self.raw or {}), **raw_counts(pick(event, "usage"))}
            return True
        return kind in ("content_block_start", "content_block_delta", "content_block_stop", "message_stop")

    def usage(self) -> Usage | None:
        return None if self.raw is None else buckets(self.raw, self.model)
