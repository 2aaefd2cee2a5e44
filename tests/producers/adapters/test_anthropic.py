"""Anthropic usage from real ``anthropic`` objects and dicts: cache write/read apart from input."""

from __future__ import annotations

from anthropic.types import Message, RawMessageDeltaEvent, RawMessageStartEvent
from anthropic.types import Usage as AnthropicUsage

from producers.adapters import StreamUsage, Usage, extract_usage


def message(usage: AnthropicUsage) -> Message:
    return Message(
        id="msg_1", type="message", role="assistant", model="claude-sonnet-4-5",
        content=[{"type": "text", "text": "hi"}], stop_reason="end_turn", stop_sequence=None,
        usage=usage,
    )


def test_message_keeps_input_cache_write_and_cache_read_disjoint():
    usage = AnthropicUsage(
        input_tokens=21, cache_creation_input_tokens=1800, cache_read_input_tokens=12000, output_tokens=400
    )
    expected = Usage(
        model="claude-sonnet-4-5", input_tokens=21, cache_write_tokens=1800, cache_read_tokens=12000,
        output_tokens=400,
    )
    assert extract_usage(message(usage)) == expected
    assert extract_usage(message(usage).model_dump()) == expected
    assert extract_usage(message(usage).model_dump(exclude_none=True)) == expected


def test_thinking_tokens_move_from_output_to_reasoning():
    usage = AnthropicUsage(input_tokens=100, output_tokens=900, output_tokens_details={"thinking_tokens": 700})
    result = extract_usage(message(usage))
    assert (result.output_tokens, result.reasoning_tokens) == (200, 700)


def test_plain_usage_dict_without_cache_fields_uses_the_provider_hint():
    response = {"model": "claude-3-haiku", "usage": {"input_tokens": 7, "output_tokens": 3}}
    assert extract_usage(response, provider="anthropic") == Usage(
        model="claude-3-haiku", input_tokens=7, output_tokens=3
    )


def stream_events() -> list:
    start = RawMessageStartEvent(
        type="message_start",
        message=message(AnthropicUsage(
            input_tokens=30, cache_creation_input_tokens=0, cache_read_input_tokens=2048, output_tokens=1
        )),
    )
    delta = RawMessageDeltaEvent(
        type="message_delta",
        delta={"stop_reason": "end_turn", "stop_sequence": None},
        usage={"output_tokens": 512},
    )
    return [
        start,
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
        {"type": "content_block_stop", "index": 0},
        delta,
        {"type": "message_stop"},
    ]


def test_stream_combines_message_start_and_cumulative_message_delta():
    stream = StreamUsage()
    for event in stream_events():
        stream.observe(event)
    assert stream.result() == Usage(
        model="claude-sonnet-4-5", input_tokens=30, cache_read_tokens=2048, output_tokens=512
    )


def test_stream_in_dict_form_gives_the_same_result():
    stream = StreamUsage()
    for event in stream_events():
        stream.observe(event if isinstance(event, dict) else event.model_dump())
    assert stream.result().output_tokens == 512
    assert stream.result().cache_read_tokens == 2048


def test_message_delta_with_input_counts_replaces_the_start_counts():
    stream = StreamUsage()
    stream.observe(stream_events()[0])
    stream.observe(RawMessageDeltaEvent(
        type="message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None},
        usage={"output_tokens": 90, "input_tokens": 35, "cache_read_input_tokens": 2048},
    ))
    assert stream.result() == Usage(
        model="claude-sonnet-4-5", input_tokens=35, cache_read_tokens=2048, output_tokens=90
    )
