"""The version-lookup benchmark times what the sink does, on calls the engine generated."""

from benchmarks.bench_version_lookup import bench, flush_rows
from consumers.clickhouse import rows as R


def test_the_flush_is_live_calls_and_one_call_days_late():
    live, late = flush_rows(300)
    assert len(live) == 300 and len(R.time_ranges(live)) == 1
    assert late[R.OCCURRED_AT] < min(r[R.OCCURRED_AT] for r in live)[:10]


def test_the_stored_calls_are_found_and_every_lookup_is_timed(store):
    result = bench(store, stored=20_000, ids=300)
    assert store.rows("SELECT count(), uniqExact(event_id) FROM ai_calls")[1] == [(20_000, 20_000)]
    assert result["ranges_now"] == 2 and len(result["ms"]) == 3 and all(ms > 0 for ms in result["ms"].values())
