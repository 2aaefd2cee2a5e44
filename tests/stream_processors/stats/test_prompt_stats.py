from datetime import timedelta
from decimal import Decimal

import orjson
import pytest

from stream_processors.stats import prompt_stats
from stream_processors.stats.prompt_stats import from_wire, to_wire, update, view, window_totals
from tests.stream_processors.stats.factories import NOW, call


def test_counts_tokens_cost_and_errors_are_exact():
    calls = [call(cost="0.10", input_tokens=100, output_tokens=10, cache_read_tokens=30),
             call(cost="0.20", input_tokens=200, output_tokens=20, reasoning_tokens=5),
             call(cost=None, success=False, error_type="timeout", input_tokens=1, output_tokens=0)]
    state = update(None, calls, NOW)
    summary = view(state, NOW).all_time
    assert (summary.calls, summary.errors, summary.priced_calls, summary.unpriced_calls) == (3, 1, 2, 1)
    assert summary.cost_usd == Decimal("0.30")
    assert summary.avg_cost_per_call_usd == Decimal("0.15")
    assert summary.error_rate == pytest.approx(1 / 3)
    assert summary.tokens == {"input_tokens": 301, "cache_read_tokens": 30, "cache_write_tokens": 0,
                              "output_tokens": 30, "reasoning_tokens": 5}
    assert summary.total_tokens == 366
    assert summary.prompt_cache_read_ratio == pytest.approx(30 / 331)


def test_updates_accumulate_across_messages_without_mutating_the_old_state():
    first = update(None, [call(cost="1")], NOW)
    second = update(first, [call(cost="2"), call(cost="3")], NOW)
    assert first.all_time.calls == 1 and first.all_time.cost_usd == Decimal(1)
    assert second.all_time.calls == 3 and second.all_time.cost_usd == Decimal(6)


def test_latency_average_and_p95_come_from_the_sketch():
    calls = [call(latency_ms=float(ms)) for ms in range(1, 101)]
    latency = view(update(None, calls, NOW), NOW).all_time.latency_ms
    assert latency.avg == pytest.approx(50.5)
    assert latency.p95 == pytest.approx(95, rel=0.01)
    assert latency.max == 100


def test_tokens_per_second_and_cache_hit_rate():
    calls = [call(output_tokens=100, reasoning_tokens=100, latency_ms=1000.0),
             call(output_tokens=200, latency_ms=1000.0, cached=True),
             call(output_tokens=999, latency_ms=10.0, success=False, error_type="x")]  # failures excluded
    summary = view(update(None, calls, NOW), NOW).all_time
    assert summary.tokens_per_second == pytest.approx(200.0)
    assert summary.cache_hit_rate == pytest.approx(1 / 3)


def test_rolling_windows_hold_only_recent_calls_and_expire_as_time_passes():
    calls = [call(at=NOW, cost="1"), call(at=NOW - timedelta(minutes=30), cost="2"),
             call(at=NOW - timedelta(hours=3), cost="4"), call(at=NOW - timedelta(days=2), cost="8")]
    state = update(None, calls, NOW)
    now_view = view(state, NOW)
    assert now_view.all_time.cost_usd == Decimal(15)
    assert now_view.last_1h.cost_usd == Decimal(3) and now_view.last_1h.calls == 2
    assert now_view.last_24h.cost_usd == Decimal(7)
    later = view(state, NOW + timedelta(hours=2))  # no call since: the 1 h window has emptied
    assert later.last_1h.calls == 0 and later.last_24h.cost_usd == Decimal(7)
    assert view(state, NOW + timedelta(days=2)).last_24h.calls == 0


def test_buckets_older_than_their_series_are_dropped_on_update():
    old = update(None, [call(at=NOW - timedelta(hours=5))], NOW - timedelta(hours=5))
    assert len(old.minutes) == 1
    fresh = update(old, [call(at=NOW)], NOW)
    width, keep = prompt_stats.MINUTES
    assert all(b.start > NOW.timestamp() - width * keep for b in fresh.minutes)
    assert len(fresh.minutes) == 1 and len(fresh.hours) == 2
    assert fresh.all_time.calls == 2


def test_out_of_order_calls_land_in_their_own_buckets():
    state = update(None, [call(at=NOW)], NOW)
    state = update(state, [call(at=NOW - timedelta(minutes=20), cost="5")], NOW)
    assert window_totals(state, NOW, 600).cost_usd == Decimal("0.01")
    assert window_totals(state, NOW, 3600).cost_usd == Decimal("5.01")
    assert state.first_seen_at == NOW - timedelta(minutes=20) and state.last_call_at == NOW


def test_wire_form_round_trips_through_json():
    calls = [call(at=NOW - timedelta(minutes=m), latency_ms=10.0 * m + 1) for m in range(0, 200, 7)]
    state = update(None, calls, NOW)
    wire = orjson.loads(orjson.dumps(to_wire(state)))
    assert from_wire(wire) == state


def test_starting_without_calls_is_an_error_and_no_calls_is_no_change():
    with pytest.raises(ValueError):
        update(None, [], NOW)
    state = update(None, [call()], NOW)
    assert update(state, [], NOW) is state


def test_a_backfill_run_counts_in_all_time_without_filling_the_series():
    """Calls older than the 24 h series (a replay or backfill) are summed into all_time once."""
    backfill = [call(at=NOW - timedelta(days=3, minutes=7 * i), cost="0.5") for i in range(50)]
    state = update(None, [*backfill, call(at=NOW, cost="1")], NOW)
    assert (state.all_time.calls, state.all_time.cost_usd) == (51, Decimal("26"))
    assert [b.calls for b in state.minutes] == [1] and [b.calls for b in state.hours] == [1]
    assert state.first_seen_at == NOW - timedelta(days=3, minutes=7 * 49) and state.last_call_at == NOW
