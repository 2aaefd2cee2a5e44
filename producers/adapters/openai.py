"""OpenAI: Chat Completions and Responses usage (objects from the ``openai`` package or dicts).

Chat Completions: ``prompt_tokens`` includes ``prompt_tokens_details.cached_tokens``;
``completion_tokens`` includes ``completion_tokens_details.reasoning_tokens``.
Responses: ``input_tokens`` includes ``input_tokens_details.cached_tokens``; ``output_tokens``
includes ``output_tokens_details.reasoning_tokens``. Both are split into disjoint buckets.
Newer SDKs also report ``cache_write_tokens`` in the same details object, a further part of the
input total (like ``cached_tokens``), which goes to the cache-write bucket.
"""

from __future__ import annotations

from typing import Any

from producers.adapters._fields import count, pick, text
from producers.adapters.usage import Usage, split


def _input_buckets(total: int, details: Any) -> tuple[int, int, int]:
    """(uncached, cache read, cache write) out of an inclusive input total."""
    rest, cached = split(total, count(details, "cached_tokens"))
    uncached, written = split(rest, count(details, "cache_write_tokens"))
    return uncached, cached, written


def _usage(usage: Any, model: str | None, prefix_in: str, prefix_out: str) -> Usage:
    """Disjoint buckets from inclusive totals ``<prefix_in>_tokens`` / ``<prefix_out>_tokens``
    and their ``..._tokens_details`` (cached and cache-write input; reasoning output)."""
    uncached, cached, written = _input_buckets(
        count(usage, f"{prefix_in}_tokens"), pick(usage, f"{prefix_in}_tokens_details")
    )
    visible, reasoning = split(
        count(usage, f"{prefix_out}_tokens"),
        count(pick(usage, f"{prefix_out}_tokens_details"), "reasoning_tokens"),
    )
    return Usage(
        model=model,
        input_tokens=uncached,
        cache_read_tokens=cached,
        cache_write_tokens=written,
        output_tokens=visible,
        reasoning_tokens=reasoning,
    )


def chat_usage(usage: Any, model: str | None = None) -> Usage:
    """Buckets of a Chat Completions ``usage`` object (``CompletionUsage`` or its dict)."""
    return _usage(usage, model, "prompt", "completion")


def responses_usage(usage: Any, model: str | None = None) -> Usage:
    """Buckets of a Responses API ``usage`` object (``ResponseUsage`` or its dict)."""
    return _usage(usage, model, "input", "output")


def from_response(response: Any) -> Usage | None:
    """A ``ChatCompletion``, a ``ChatCompletionChunk`` with usage, or a ``Response``."""
    usage = pick(response, "usage")
    model = text(response, "model")
    if usage is None:
        return None
    if pick(usage, "prompt_tokens", "completion_tokens") is not None:
        return chat_usage(usage, model)
    return responses_usage(usage, model)


def from_stream_event(event: Any) -> tuple[str | None, Usage | None]:
    """(model, usage) seen in one streaming chunk or Responses event; usage only on the last.

    Chat Completions with ``stream_options={"include_usage": True}`` send usage on a final
    chunk with no choices; the Responses API sends it in ``response.completed``.
    """
    inner = pick(event, "response")
    if inner is not None and str(pick(event, "type") or "").startswith("response."):
        return text(inner, "model"), from_response(inner)
    return text(event, "model"), from_response(event)
