"""Google Gemini ``usage_metadata`` (``google-genai`` objects, or the REST JSON in camelCase).

``prompt_token_count`` includes ``cached_content_token_count``; ``thoughts_token_count`` is
separate from ``candidates_token_count``; ``tool_use_prompt_token_count`` is further input
outside ``prompt_token_count``.
"""

from __future__ import annotations

from typing import Any

from producers.adapters._fields import count, pick, text
from producers.adapters.usage import Usage, split


def metadata_of(response: Any) -> Any:
    return pick(response, "usage_metadata", "usageMetadata")


def usage_from_metadata(meta: Any, model: str | None = None) -> Usage:
    uncached, cached = split(
        count(meta, "prompt_token_count", "promptTokenCount"),
        count(meta, "cached_content_token_count", "cachedContentTokenCount"),
    )
    tool_prompt = count(meta, "tool_use_prompt_token_count", "toolUsePromptTokenCount")
    return Usage(
        model=model,
        input_tokens=uncached + tool_prompt,
        cache_read_tokens=cached,
        output_tokens=count(meta, "candidates_token_count", "candidatesTokenCount"),
        reasoning_tokens=count(meta, "thoughts_token_count", "thoughtsTokenCount"),
    )


def from_response(response: Any) -> Usage | None:
    """A ``GenerateContentResponse`` or a streamed chunk (each carries the running totals;
    the last chunk's are final)."""
    meta = metadata_of(response)
    if meta is None:
        return None
    return usage_from_metadata(meta, text(response, "model_version", "modelVersion"))
