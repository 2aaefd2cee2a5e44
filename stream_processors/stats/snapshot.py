"""The latest call of a prompt type, failures included (by event time; ties: the later one read)."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from schemas.events import TOKEN_BUCKETS
from schemas.stats import SNAPSHOT_TEXT_CHARS, LatestCall
from stream_processors.stats.batch import CallBatch
from stream_processors.stats.calls import Call


def latest(batches: Sequence[CallBatch]) -> Call:
    """The call with the greatest ``occurred_at``, the last of equals, of ``batches`` taken one
    after the other."""
    best: tuple[datetime, CallBatch, int] | None = None
    for batch in batches:
        times = batch.occurred_at
        if times:
            at = max(times)
            if best is None or at >= best[0]:
                best = (at, batch, len(times) - 1 - times[::-1].index(at))
    if best is None:
        raise ValueError("no calls")
    return best[1].call(best[2])


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
