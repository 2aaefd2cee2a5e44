"""The SDK's API, observed through the spool of a client whose broker is unreachable (the
offline path is real behaviour: every event lands in the spool as it would be sent)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest
from anthropic.types import Message, RawMessageDeltaEvent, RawMessageStartEvent
from openai.types.chat import ChatCompletion
from openai.types.completion_usage import CompletionUsage, PromptTokensDetails

from producers import AsyncLedger, Ledger, LedgerSettings
from schemas.events import AICallEvent
from tests.producers.conftest import rejected_letters, spooled_lines


def offline_run(settings: LedgerSettings, body, ledger_class=Ledger) -> tuple[list[dict], list[dict]]:
    """Run ``body(ledger)``, close, and return (spooled events, dead letters)."""
    ledger = ledger_class(settings)
    try:
        result = body(ledger)
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    finally:
        ledger.close(timeout=0)
    return spooled_lines(ledger.spool.directory), rejected_letters(ledger.spool.directory)


def completion(prompt: int, cached: int, completion_tokens: int) -> ChatCompletion:
    return ChatCompletion(
        id="c1", created=1_760_000_000, model="gpt-4o-2024-08-06", object="chat.completion",
        choices=[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
        usage=CompletionUsage(prompt_tokens=prompt, completion_tokens=completion_tokens,
                              total_tokens=prompt + completion_tokens,
                              prompt_tokens_details=PromptTokensDetails(cached_tokens=cached)),
    )


def test_track_fills_event_id_time_and_settings_defaults(offline_settings):
    settings = offline_settings.model_copy(update={"source": "billing-svc", "account_id": "acme"})
    ids = []
    (event,), rejects = offline_run(settings, lambda led: ids.append(
        led.track(provider="openai", model="gpt-4o", input_tokens=12, output_tokens=3)))
    assert rejects == []
    assert event["event_id"] == ids[0] and uuid.UUID(ids[0]).version == 4
    assert event["account_id"] == "acme" and event["source"] == "billing-svc"
    assert (event["input_tokens"], event["output_tokens"]) == (12, 3)
    assert abs((datetime.fromisoformat(event["occurred_at"]) - datetime.now(timezone.utc)).total_seconds()) < 600


def test_context_fields_fill_gaps_nest_and_lose_to_explicit_fields(offline_settings):
    def body(led: Ledger):
        with led.context(account_id="acme", prompt_type="summary", user_id="u1"):
            led.track(provider="p", model="m")
            with led.context(prompt_type="title", task_id="t9"):
                led.track(provider="p", model="m")
                led.track(provider="p", model="m", prompt_type="explicit", account_id="other")
        led.track(provider="p", model="m", account_id="outside")

    events, _ = offline_run(offline_settings, body)
    got = [(e["account_id"], e["prompt_type"], e.get("user_id"), e.get("task_id")) for e in events]
    assert got == [
        ("acme", "summary", "u1", None),
        ("acme", "title", "u1", "t9"),
        ("other", "explicit", "u1", "t9"),
        ("outside", "default", None, None),
    ]


def test_context_is_per_asyncio_task(offline_settings):
    async def worker(led: AsyncLedger, account: str) -> None:
        with led.context(account_id=account):
            await asyncio.sleep(0)
            led.track(provider="p", model="m", metadata={"who": account})

    async def body(led: AsyncLedger) -> None:
        await asyncio.gather(*(worker(led, f"acct-{i}") for i in range(20)))

    events, _ = offline_run(offline_settings, body, AsyncLedger)
    assert len(events) == 20
    assert all(e["account_id"] == e["metadata"]["who"] for e in events)


def test_call_block_records_usage_model_latency_and_success(offline_settings):
    def body(led: Ledger):
        with led.call(account_id="acme", prompt_type="summary", provider="openai", model="gpt-4o") as call:
            response = completion(prompt=1000, cached=600, completion_tokens=50)
            assert call.record(response) is response

    (event,), _ = offline_run(offline_settings, body)
    assert event["model"] == "gpt-4o-2024-08-06"  # the response's exact model wins
    assert (event["input_tokens"], event["cache_read_tokens"], event["output_tokens"]) == (400, 600, 50)
    assert event["success"] is True and event["latency_ms"] > 0


def test_an_exception_is_recorded_then_re_raised(offline_settings):
    class RateLimited(Exception):
        pass

    def body(led: Ledger):
        with pytest.raises(RateLimited, match="slow down"):
            with led.call(account_id="acme", provider="openai", model="gpt-4o"):
                raise RateLimited("slow down")

    (event,), rejects = offline_run(offline_settings, body)
    assert rejects == []
    assert event["success"] is False
    assert event["error_type"] == "RateLimited" and event["error_message"] == "slow down"


def test_decorator_on_sync_and_async_functions(offline_settings):
    def body(led: Ledger):
        @led.tracked(prompt_type="sync", provider="openai")
        def sync_call(n: int) -> ChatCompletion:
            return completion(prompt=n, cached=0, completion_tokens=1)

        @led.tracked(prompt_type="async", provider="openai")
        async def async_call(n: int) -> ChatCompletion:
            await asyncio.sleep(0)
            return completion(prompt=n, cached=0, completion_tokens=2)

        @led.tracked(prompt_type="fails", provider="openai", model="gpt-4o")
        def failing() -> None:
            raise TimeoutError("upstream")

        with led.context(account_id="acme"):
            assert sync_call(10).usage.prompt_tokens == 10
            assert asyncio.run(async_call(20)).usage.prompt_tokens == 20
            with pytest.raises(TimeoutError):
                failing()
        assert sync_call.__name__ == "sync_call"

    events, _ = offline_run(offline_settings, body)
    got = [(e["prompt_type"], e["input_tokens"], e["output_tokens"], e["success"]) for e in events]
    assert got == [("sync", 10, 1, True), ("async", 20, 2, True), ("fails", 0, 0, False)]
    assert events[2]["error_type"] == "TimeoutError"


def anthropic_stream():
    message = Message(id="m", type="message", role="assistant", model="claude-sonnet-4-5", content=[],
                      stop_reason=None, stop_sequence=None,
                      usage={"input_tokens": 40, "cache_read_input_tokens": 100, "output_tokens": 1})
    yield RawMessageStartEvent(type="message_start", message=message)
    yield {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}}
    yield RawMessageDeltaEvent(type="message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None},
                               usage={"output_tokens": 77})
    yield {"type": "message_stop"}


def test_a_returned_stream_is_published_when_it_ends(offline_settings):
    def body(led: Ledger):
        @led.tracked(account_id="acme", prompt_type="chat", provider="anthropic")
        def stream_call():
            return anthropic_stream()

        stream = stream_call()
        assert led.stats()["tracked"] == 0  # not yet: the stream has not ended
        assert len(list(stream)) == 4
        with led.call(account_id="acme", prompt_type="block", provider="anthropic") as call:
            assert sum(1 for _ in call.stream(anthropic_stream())) == 4

    events, _ = offline_run(offline_settings, body)
    for event in events:
        assert event["model"] == "claude-sonnet-4-5"
        assert (event["input_tokens"], event["cache_read_tokens"], event["output_tokens"]) == (40, 100, 77)
    assert [e["prompt_type"] for e in events] == ["chat", "block"]


def test_invalid_fields_never_raise_and_are_dead_lettered_naming_the_field(offline_settings):
    def body(led: Ledger):
        assert led.track(account_id="acme", provider="p", model="m", input_tokens=-5) is not None
        assert led.track(account_id="acme", provider="p", model="m", no_such_field=1) is not None
        assert led.track(provider="p", model="m") is not None  # no account anywhere
        led.track(account_id="acme", provider="p", model="m")  # a valid one still goes through

    events, rejects = offline_run(offline_settings, body)
    assert len(events) == 1
    reasons = [r["reason"] for r in rejects]
    assert len(reasons) == 3
    assert "input_tokens" in reasons[0] and "no_such_field" in reasons[1] and "account_id" in reasons[2]
    assert all(r["stage"] == "track" and r["event_id"] for r in rejects)


def test_track_event_publishes_a_built_event_as_is(offline_settings):
    event = AICallEvent(event_id=uuid.uuid4(), occurred_at=datetime.now(timezone.utc), account_id="acme",
                        provider="google", model="gemini-2.5-pro", reasoning_tokens=9)
    (spooled,), _ = offline_run(offline_settings, lambda led: led.track_event(event))
    assert spooled["event_id"] == str(event.event_id) and spooled["reasoning_tokens"] == 9


def test_async_ledger_call_block_and_aclose(offline_settings):
    ledger = AsyncLedger(offline_settings)

    async def main():
        async with ledger.call(account_id="acme", provider="openai", model="gpt-4o") as call:
            await asyncio.sleep(0)
            call.set(output_tokens=5, metadata={"route": "/x"})
        await ledger.aclose(timeout=0)

    asyncio.run(main())
    (event,) = spooled_lines(ledger.spool.directory)
    assert event["output_tokens"] == 5 and event["metadata"] == {"route": "/x"}
