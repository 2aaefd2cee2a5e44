"""Properties over any counts a provider may report: buckets are disjoint and lose nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from producers.adapters import extract_usage

counts = st.integers(min_value=0, max_value=10_000_000)


@given(prompt=counts, cached=counts, completion=counts, reasoning=counts)
def test_openai_chat_buckets_sum_to_the_reported_total(prompt, cached, completion, reasoning):
    usage = extract_usage({"model": "m", "usage": {
        "prompt_tokens": prompt, "completion_tokens": completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }})
    assert usage.total_tokens == prompt + completion
    assert min(usage.input_tokens, usage.cache_read_tokens, usage.output_tokens, usage.reasoning_tokens) >= 0
    assert usage.cache_read_tokens == min(cached, prompt)
    assert usage.reasoning_tokens == min(reasoning, completion)


@given(prompt=counts, cached=counts, candidates=counts, thoughts=counts, tool=counts)
def test_gemini_buckets_sum_to_total_token_count(prompt, cached, candidates, thoughts, tool):
    cached = min(cached, prompt)  # Gemini's cached count is part of the prompt count
    usage = extract_usage({"usageMetadata": {
        "promptTokenCount": prompt, "cachedContentTokenCount": cached, "candidatesTokenCount": candidates,
        "thoughtsTokenCount": thoughts, "toolUsePromptTokenCount": tool,
    }})
    assert usage.total_tokens == prompt + candidates + thoughts + tool
    assert usage.input_tokens == prompt - cached + tool


@given(inp=counts, write=counts, read=counts, out=counts)
def test_anthropic_buckets_are_the_reported_counts(inp, write, read, out):
    usage = extract_usage({"type": "message", "model": "claude", "usage": {
        "input_tokens": inp, "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
        "output_tokens": out,
    }})
    assert (usage.input_tokens, usage.cache_write_tokens, usage.cache_read_tokens, usage.output_tokens) == (
        inp, write, read, out
    )
