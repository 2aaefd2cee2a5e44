"""Rollups fed through the sink's insert mechanism equal the latest version of every call."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from consumers.clickhouse.rollups import DAILY, DAILY_BY_MODEL, HOURLY, SPECS, rebuild_rollups
from tests.consumers.reports.seeding import call, insert_calls

T0 = datetime(2026, 2, 27, 23, 30, tzinfo=timezone.utc)

ROLLUP_TOTALS = """
SELECT sum(calls), sum(errors), sum(cached_calls), sum(total_tokens), sum(output_tokens), round(sum(latency_ms_sum), 3),
       sum(priced_calls), sum(priced_tokens), sum(cost_usd), sum(credits)
FROM {table} GROUP BY {keys} ORDER BY {keys}
"""
FINAL_TOTALS = """
SELECT count(), countIf(NOT success), countIf(cached), sum(total_tokens), sum(output_tokens), round(sum(latency_ms), 3),
       countIf(priced), sumIf(total_tokens, priced), sum(ifNull(cost_total_usd, 0)), sum(ifNull(credits, 0))
FROM (SELECT *, {bucket} FROM ai_calls FINAL) GROUP BY {keys} ORDER BY {keys}
"""
SHAPES = {
    HOURLY: ("toStartOfHour(occurred_at) AS hour", "hour, account_id, model, prompt_type, operation"),
    DAILY: ("toDate(occurred_at) AS day", "day, account_id, user_id, model, prompt_type"),
    DAILY_BY_MODEL: ("toDate(occurred_at) AS day", "day, account_id, provider, model, prompt_type"),
}


def test_every_rollup_is_checked():
    assert set(SHAPES) == set(SPECS)


def assert_rollups_match_final(store):
    for table, (bucket, keys) in SHAPES.items():
        _, rolled = store.rows(ROLLUP_TOTALS.format(table=table, keys=keys))
        _, final = store.rows(FINAL_TOTALS.format(bucket=bucket, keys=keys))
        assert rolled == final, table
        assert rolled, table


@pytest.fixture
def calls():
    return [
        call(T0, cost_total_usd=Decimal("0.001000000001"), credits=Decimal("1.5")),
        call(T0 + timedelta(minutes=45), model="claude", cost_total_usd=Decimal("0.2"), user_id="u2"),
        call(T0, model="mystery", priced=False, success=False, error_type="timeout", latency_ms=30000.5),
        call(T0 + timedelta(hours=5), account_id="beta", cached=True, cost_total_usd=Decimal("3")),
    ]


def test_new_calls_then_re_ratings_then_replays_match_final(store, calls):
    assert insert_calls(store, calls) == 4
    assert_rollups_match_final(store)
    first, second, unpriced, _ = calls
    re_rated = [
        dict(first, version=2, cost_total_usd=Decimal("0.002"), credits=Decimal("2")),
        dict(second, version=2, priced=False, cost_total_usd=None, unpriced_reason="price withdrawn"),
        dict(unpriced, version=2, priced=True, cost_total_usd=Decimal("0.5"), unpriced_reason=""),
    ]
    assert insert_calls(store, re_rated) == 3
    assert_rollups_match_final(store)
    # A replay of every version: the sink inserts nothing, the rollups do not move.
    assert insert_calls(store, calls + re_rated) == 0
    assert_rollups_match_final(store)
    _, rows = store.rows(f"SELECT sum(calls), sum(priced_calls), sum(cost_usd) FROM {HOURLY}")
    assert rows == [(4, 3, Decimal("3.502"))]


def test_re_rating_moves_cost_only_not_calls_or_tokens(store, calls):
    insert_calls(store, calls[:1])
    insert_calls(store, [dict(calls[0], version=3, cost_total_usd=Decimal("0.01"))])
    _, rows = store.rows(f"SELECT sum(calls), sum(total_tokens), sum(cost_usd), count() FROM {HOURLY}")
    calls_, tokens, cost, inserted_rows = rows[0]
    assert (calls_, tokens, cost) == (1, 150, Decimal("0.01"))
    assert inserted_rows >= 1


def test_rebuild_recomputes_the_same_totals(store, calls):
    insert_calls(store, calls)
    insert_calls(store, [dict(calls[0], version=2, cost_total_usd=Decimal("7"))])
    rebuild_rollups(store)
    assert_rollups_match_final(store)
    rebuild_rollups(store)
    assert_rollups_match_final(store)


def test_each_insert_writes_one_rollup_row_per_key(store):
    """40 calls on two keys in one insert make two rows in each rollup, not 40: the per-call views'
    rows are summed by the SummingMergeTree as it writes the part (``optimize_on_insert``, on by
    default), so a GROUP BY in the views would not write fewer rows (benchmarks/results/sink.json)."""
    batch = [call(T0 + timedelta(minutes=i % 20), model="gpt-4o" if i % 2 else "claude",
                  cost_total_usd=Decimal("0.000000000001") * (i + 1), credits=Decimal("0.000001"))
             for i in range(40)]
    assert insert_calls(store, batch) == 40
    for table in SPECS:
        _, rows = store.rows(f"SELECT count(), sum(calls), sum(cost_usd), sum(credits) FROM {table}")
        assert rows == [(2, 40, Decimal("0.00000000082"), Decimal("0.00004"))], table
    assert_rollups_match_final(store)
    # A block mixing a new call with re-ratings of stored ones adds each row's own delta.
    re_rated = [dict(r, version=2, cost_total_usd=Decimal("1")) for r in batch[:10]]
    assert insert_calls(store, re_rated + [call(T0, model="claude")]) == 11
    assert_rollups_match_final(store)
    assert insert_calls(store, batch + re_rated) == 0
    assert_rollups_match_final(store)

