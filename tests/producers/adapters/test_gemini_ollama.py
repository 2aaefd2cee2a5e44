"""Gemini (real ``google-genai`` objects, REST camelCase dicts) and Ollama (its JSON)."""

from __future__ import annotations

from google.genai import types

from producers.adapters import StreamUsage, Usage, extract_usage


def gemini_response(meta: types.GenerateContentResponseUsageMetadata) -> types.GenerateContentResponse:
    return types.GenerateContentResponse(
        model_version="gemini-2.5-pro",
        candidates=[types.Candidate(content=types.Content(role="model", parts=[types.Part(text="hi")]))],
        usage_metadata=meta,
    )


META = types.GenerateContentResponseUsageMetadata(
    prompt_token_count=10_000,
    cached_content_token_count=8_000,
    candidates_token_count=300,
    thoughts_token_count=1_200,
    tool_use_prompt_token_count=50,
    total_token_count=11_550,
)
EXPECTED = Usage(
    model="gemini-2.5-pro", input_tokens=2_050, cache_read_tokens=8_000, output_tokens=300,
    reasoning_tokens=1_200,
)


def test_gemini_cached_content_is_taken_out_of_the_prompt_and_thoughts_kept_apart():
    result = extract_usage(gemini_response(META))
    assert result == EXPECTED
    assert result.total_tokens == META.total_token_count


def test_gemini_sdk_dict_and_rest_camel_case_give_the_same_buckets():
    response = gemini_response(META)
    assert extract_usage(response.model_dump()) == EXPECTED
    assert extract_usage(response.model_dump(mode="json", by_alias=True, exclude_none=True)) == EXPECTED
    rest = {
        "modelVersion": "gemini-2.5-pro",
        "usageMetadata": {
            "promptTokenCount": 10_000, "cachedContentTokenCount": 8_000, "candidatesTokenCount": 300,
            "thoughtsTokenCount": 1_200, "toolUsePromptTokenCount": 50, "totalTokenCount": 11_550,
        },
    }
    assert extract_usage(rest) == EXPECTED


def test_gemini_stream_keeps_the_last_running_total():
    stream = StreamUsage()
    partial = types.GenerateContentResponseUsageMetadata(prompt_token_count=10_000, cached_content_token_count=8_000)
    stream.observe(gemini_response(partial))
    stream.observe(gemini_response(META))
    assert stream.result() == EXPECTED


def test_ollama_chat_response():
    response = {
        "model": "llama3.2", "created_at": "2026-01-01T00:00:00Z", "done": True,
        "message": {"role": "assistant", "content": "hi"},
        "prompt_eval_count": 26, "eval_count": 298, "total_duration": 4_883_583_458,
    }
    assert extract_usage(response) == Usage(model="llama3.2", input_tokens=26, output_tokens=298)


def test_ollama_stream_counts_arrive_on_the_done_chunk():
    stream = StreamUsage()
    stream.observe({"model": "llama3.2", "done": False, "message": {"role": "assistant", "content": "h"}})
    stream.observe({"model": "llama3.2", "done": True, "prompt_eval_count": 12, "eval_count": 40})
    assert stream.result() == Usage(model="llama3.2", input_tokens=12, output_tokens=40)


def test_unknown_shapes_give_none_and_never_raise():
    for value in [None, "text", 3, [], {}, {"usage": None}, object(), {"usage": {"weird": "x"}}]:
        result = extract_usage(value)
        assert result is None or result.total_tokens == 0
