"""Provider adapters: read token usage and the model name from a model call's response.

Every adapter accepts the official SDK's response object and its plain-dict (JSON) form, and
maps the provider's counts onto the event's disjoint buckets (see :mod:`schemas.events`).
:func:`extract_usage` recognises the provider from the response's shape; ``provider`` only
breaks ties. :class:`StreamUsage` does the same over a stream of chunks or events.
"""

from __future__ import annotations

from typing import Any

from producers.adapters import anthropic, gemini, ollama, openai
from producers.adapters._fields import has, pick
from producers.adapters.streaming import StreamUsage
from producers.adapters.usage import Usage

__all__ = ["StreamUsage", "Usage", "extract_usage"]


def extract_usage(response: Any, provider: str | None = None) -> Usage | None:
    """Usage of one (non-streamed) response, or None if its shape carries none.

    Never raises on an unknown shape: tracking must not break the call it observes.
    """
    if response is None or isinstance(response, (str, bytes, int, float, bool, list)):
        return None
    if gemini.metadata_of(response) is not None:
        return gemini.from_response(response)
    if ollama.is_ollama(response):
        return ollama.from_response(response)
    kind = pick(response, "type")
    if kind in ("message_start", "message_delta"):
        state = anthropic.StreamState()
        state.observe(response)
        return state.usage()
    if isinstance(kind, str) and kind.startswith("response.") and pick(response, "response") is not None:
        return openai.from_stream_event(response)[1]
    usage = pick(response, "usage")
    if usage is None:
        return None
    if pick(usage, "prompt_tokens", "completion_tokens") is not None:
        return openai.from_response(response)
    if kind == "message" or _looks_anthropic(usage, provider):
        return anthropic.from_response(response)
    return openai.from_response(response)


def _looks_anthropic(usage: Any, provider: str | None) -> bool:
    if has(usage, "cache_creation_input_tokens") or has(usage, "cache_read_input_tokens"):
        return True
    if has(usage, "input_tokens_details"):
        return False
    return (provider or "").lower() in ("anthropic", "claude", "bedrock-anthropic")
