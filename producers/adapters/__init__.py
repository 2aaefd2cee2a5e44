"""Provider adapters: read token usage and the model name from a model call's response.

Every adapter accepts the official SDK's response object and its plain-dict (JSON) form, and
maps the provider's counts onto the event's disjoint buckets (see :mod:`schemas.events`).
:func:`extract_usage` recognises the provider from the response's shape; ``provider`` only
breaks ties. :class:`StreamUsage` does the same over a stream of chunks or events.
"""

from __future__ import annotations

from typing import Any

from producers.adapters import anthropic, gemini, ollama, openai
from producers.adapters._fields import has, pick, text
from producers.adapters.streaming import StreamUsage
from producers.adapters.usage import Usage

__all__ = ["StreamUsage", "Usage", "extract_usage"]


def extract_usage(response: Any, provider: str | None = None) -> Usage | None:
    """Usage of one (non-streamed) response, or None if its shape carries none.

    Never raises on an unknown shape: tracking must not break the call it observes.
    """
    if response is None or isinstance(response, (str, bytes, int, float, bool, list)):
        return None
    usage = pick(response, "usage")
    if usage is not None:  # OpenAI, Anthropic: the common case first
        if pick(usage, "prompt_tokens", "completion_tokens") is not None:
            return openai.chat_usage(usage, text(response, "model"))
        kind = pick(response, "type")
        if kind == "message_delta":
            return _anthropic_event(response)
        if kind == "message" or _looks_anthropic(usage, provider):
            return anthropic.from_response(response)
        return openai.responses_usage(usage, text(response, "model"))
    if gemini.metadata_of(response) is not None:
        return gemini.from_response(response)
    if ollama.is_ollama(response):
        return ollama.from_response(response)
    kind = pick(response, "type")
    if kind == "message_start":
        return _anthropic_event(response)
    if isinstance(kind, str) and kind.startswith("response.") and pick(response, "response") is not None:
        return openai.from_stream_event(response)[1]
    return None


def _anthropic_event(event: Any) -> Usage | None:
    state = anthropic.StreamState()
    state.observe(event)
    return state.usage()


def _looks_anthropic(usage: Any, provider: str | None) -> bool:
    if has(usage, "cache_creation_input_tokens") or has(usage, "cache_read_input_tokens"):
        return True
    if has(usage, "input_tokens_details"):
        return False
    return (provider or "").lower() in ("anthropic", "claude", "bedrock-anthropic")
