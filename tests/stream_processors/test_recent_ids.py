"""RecentIds: a call whose event id was priced lately is dropped, and only once its run was sent."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ailedger.demo_traffic import generate
from schemas.codec import encode_batch, event_to_dict
from schemas.costed_columns import PricedCall
from stream_processors.costing import cost_message
from stream_processors.pricing import load_catalog
from stream_processors.recent_ids import RecentIds

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def costed(n: int, seed: int) -> list[PricedCall]:
    """Priced calls of ``n`` demo events, as the pricing stage makes them."""
    items = [event_to_dict(e) for e in generate(n, seed=seed)]
    batch = cost_message(encode_batch(items), load_catalog(None), now=NOW)
    return [call for calls in batch.by_prompt_type.values() for call in calls]


def ids(calls: list[PricedCall]) -> list:
    return [c.event.event_id for c in calls]


def test_a_copy_in_a_later_run_is_dropped_and_the_rest_kept():
    first, second = costed(50, seed=1), costed(30, seed=2)
    recent = RecentIds(1000)
    run: set = set()
    assert recent.drop_seen(first, run) == first
    recent.remember(run)
    copies = [first[3], first[17]]
    later = recent.drop_seen(second[:10] + copies + second[10:], set())
    assert ids(later) == ids(second)
    assert recent.dropped == 2


def test_a_copy_within_one_run_is_dropped():
    calls = costed(20, seed=3)
    recent = RecentIds(1000)
    run: set = set()
    kept = recent.drop_seen(calls[:12], run) + recent.drop_seen(calls[5:], run)
    assert ids(kept) == ids(calls)


def test_a_run_not_remembered_is_priced_whole_when_read_again():
    """A run whose sends never happened (its body failed) must not make its own calls duplicates."""
    calls = costed(20, seed=4)
    recent = RecentIds(1000)
    recent.drop_seen(calls, set())  # no remember: the run failed before its sends
    assert recent.drop_seen(calls, set()) == calls


def test_the_last_half_of_capacity_is_always_kept_and_never_more_than_capacity():
    calls = costed(33, seed=5)
    recent = RecentIds(10)
    for n, call in enumerate(calls, 1):
        run: set = set()
        recent.drop_seen([call], run)
        recent.remember(run)
        assert 5 <= len(recent) <= 10 or n < 5
        assert all(i in recent for i in ids(calls[max(0, n - 5):n]))
    assert ids(calls)[0] not in recent
    assert recent.drop_seen(calls[:25], set()) == calls[:25]
    assert recent.drop_seen(calls[-5:], set()) == []


def test_capacity_zero_drops_nothing():
    calls = costed(10, seed=6)
    recent = RecentIds(0)
    recent.remember(set(ids(calls)))
    assert recent.drop_seen(calls + calls, set()) == calls + calls


def test_a_negative_capacity_is_refused():
    with pytest.raises(ValueError):
        RecentIds(-1)
