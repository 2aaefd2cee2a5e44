"""The latest call of a prompt type, failures included (by event time; ties: the later one read)."""

from __future__ import annotations

from datetime import datetime

from schemas.events import TOKEN_BUCKETS
from schemas.stats import SNAPSHOT_TEXT_CHARS, LatestCall
from stream_processors.stats.batch import Calls, as_batch
from stream_processors.stats.calls import Call


def latest(calls: Calls) -> Call:
    """The call with the greatest ``occurred_at``; the last of equals."""
    batch = as_batch(calls)
    times = batch.occurred_at
    if not times:
        raise ValueError("no calls")
    return batch.call(len(times) - 1 - times[::-1].index(max(times)))


def _cut(text: str | None) -> tuple[str | None, bool]:
    if text is None or len(text) <= SNAPSHOT_TEXT_CHARS:
        return text, False
    return text[:SNAPSHOT_TEXT_CHARS], True


def snapshot_of(call: Call) -> LatestCall:
    prompt, prompt_cut = _cut(call.prompt)
    response, response_cut = _cut(call.response)
    return LatestCall(
        event_id=call.event_id,
        occurred_at=call.occurred_at,
        account_id=call.account_id,
        user_id=call.user_id,
        provider=call.provider,
        model=call.model,
        operation=call.operation,
        success=call.success,
        error_type=call.error_type,
        error_message=call.error_message,
        prompt=prompt,
        response=response,
        prompt_truncated=prompt_cut,
        response_truncated=response_cut,
        tokens=dict(zip(TOKEN_BUCKETS, call.tokens)),
        total_tokens=call.total_tokens,
        priced=call.priced,
        cost_usd=call.cost_usd,
        latency_ms=call.latency_ms,
        cached=call.cached,
        metadata=call.metadata or {},
    )


def replaces(current_at: datetime | None, call: Call) -> bool:
    """Whether ``call`` is at least as recent as the snapshot taken at ``current_at``."""
    return current_at is None or call.occurred_at >= current_at
