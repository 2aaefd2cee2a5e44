"""OpenAI usage from real ``openai`` objects and their dict form, into disjoint buckets."""

from __future__ import annotations

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion_usage import CompletionTokensDetails, CompletionUsage, PromptTokensDetails
from openai.types.responses import Response, ResponseCompletedEvent, ResponseUsage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from producers.adapters import StreamUsage, Usage, extract_usage


def chat_completion(usage: CompletionUsage | None) -> ChatCompletion:
    return ChatCompletion(
        id="chatcmpl-1",
        created=1_760_000_000,
        model="gpt-4o-2024-08-06",
        object="chat.completion",
        choices=[
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}
        ],
        usage=usage,
    )


def test_chat_completion_splits_cached_and_reasoning_tokens():
    usage = CompletionUsage(
        prompt_tokens=1200,
        completion_tokens=300,
        total_tokens=1500,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=1024),
        completion_tokens_details=CompletionTokensDetails(reasoning_tokens=256),
    )
    result = extract_usage(chat_completion(usage))
    assert result == Usage(
        model="gpt-4o-2024-08-06",
        input_tokens=176,
        cache_read_tokens=1024,
        output_tokens=44,
        reasoning_tokens=256,
    )
    assert result.total_tokens == 1500


def test_chat_completion_dict_form_gives_the_same_buckets():
    usage = CompletionUsage(
        prompt_tokens=1200,
        completion_tokens=300,
        total_tokens=1500,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=1024),
        completion_tokens_details=CompletionTokensDetails(reasoning_tokens=256),
    )
    response = chat_completion(usage)
    assert extract_usage(response.model_dump()) == extract_usage(response)
    assert extract_usage(response.model_dump(exclude_none=True)) == extract_usage(response)


def test_chat_completion_without_details_is_all_uncached_visible_output():
    usage = CompletionUsage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
    result = extract_usage(chat_completion(usage))
    assert (result.input_tokens, result.cache_read_tokens, result.output_tokens, result.reasoning_tokens) == (
        10, 0, 5, 0
    )


def test_chat_completion_without_usage_has_none():
    assert extract_usage(chat_completion(None)) is None


def test_inconsistent_details_are_clamped_not_negative():
    usage = {"prompt_tokens": 5, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 9},
             "completion_tokens_details": {"reasoning_tokens": 7}}
    result = extract_usage({"model": "m", "usage": usage})
    assert result == Usage(model="m", input_tokens=0, cache_read_tokens=5, output_tokens=0, reasoning_tokens=3)


def responses_response(usage: ResponseUsage) -> Response:
    return Response(
        id="resp_1",
        created_at=1_760_000_000,
        model="o4-mini-2025-04-16",
        object="response",
        output=[],
        parallel_tool_calls=True,
        tool_choice="auto",
        tools=[],
        usage=usage,
    )


RESPONSES_USAGE = ResponseUsage(
    input_tokens=5000,
    input_tokens_details=InputTokensDetails(cached_tokens=4096, cache_write_tokens=0),
    output_tokens=900,
    output_tokens_details=OutputTokensDetails(reasoning_tokens=640),
    total_tokens=5900,
)
RESPONSES_BUCKETS = Usage(
    model="o4-mini-2025-04-16",
    input_tokens=904,
    cache_read_tokens=4096,
    output_tokens=260,
    reasoning_tokens=640,
)


def test_responses_api_splits_cached_and_reasoning_tokens():
    response = responses_response(RESPONSES_USAGE)
    assert extract_usage(response) == RESPONSES_BUCKETS
    assert extract_usage(response.model_dump(mode="json")) == RESPONSES_BUCKETS


def test_responses_api_with_anthropic_hint_still_reads_openai_shape():
    assert extract_usage(responses_response(RESPONSES_USAGE), provider="anthropic") == RESPONSES_BUCKETS


def chunk(content: str | None, usage: CompletionUsage | None = None) -> ChatCompletionChunk:
    choices = [] if content is None else [{"index": 0, "delta": {"content": content}, "finish_reason": None}]
    return ChatCompletionChunk(
        id="chatcmpl-2", created=1_760_000_000, model="gpt-4o-mini", object="chat.completion.chunk",
        choices=choices, usage=usage,
    )


def test_cache_write_tokens_are_taken_out_of_the_input_total():
    usage = ResponseUsage(
        input_tokens=5000,
        input_tokens_details=InputTokensDetails(cached_tokens=3000, cache_write_tokens=1500),
        output_tokens=10,
        output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
        total_tokens=5010,
    )
    result = extract_usage(responses_response(usage))
    assert (result.input_tokens, result.cache_read_tokens, result.cache_write_tokens) == (500, 3000, 1500)
    assert result.total_tokens == 5010


def test_chat_stream_with_include_usage_takes_the_last_chunk():
    final = CompletionUsage(
        prompt_tokens=50, completion_tokens=20, total_tokens=70,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=32),
    )
    stream = StreamUsage()
    for c in [chunk("Hel"), chunk("lo"), chunk(None, final)]:
        stream.observe(c)
    assert stream.result() == Usage(model="gpt-4o-mini", input_tokens=18, cache_read_tokens=32, output_tokens=20)


def test_chat_stream_without_usage_has_none_but_keeps_no_partial_guess():
    stream = StreamUsage()
    for c in [chunk("a"), chunk("b")]:
        stream.observe(c)
    assert stream.result() is None
    assert stream.model == "gpt-4o-mini"


def test_responses_stream_reads_response_completed():
    event = ResponseCompletedEvent(
        type="response.completed", sequence_number=7, response=responses_response(RESPONSES_USAGE)
    )
    stream = StreamUsage()
    stream.observe({"type": "response.output_text.delta", "delta": "x", "sequence_number": 3})
    stream.observe(event)
    assert stream.result() == RESPONSES_BUCKETS
    assert extract_usage(event) == RESPONSES_BUCKETS
