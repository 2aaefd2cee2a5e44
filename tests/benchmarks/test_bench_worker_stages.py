"""The worker stage benchmark runs the worker's pure functions on what the worker would get."""

from benchmarks.bench_worker_stages import STAGES, bench, raw_messages
from schemas.codec import parse_batch


def test_the_raw_messages_are_sdk_batches_that_validate_whole():
    raws = raw_messages(450, days=0.01)
    assert len(raws) == 3  # 200 + 200 + 50 events
    assert [len(parse_batch(raw)) for raw in raws] == [200, 200, 50]


def test_every_stage_is_timed_and_the_total_is_their_sum():
    result = bench(events=400, rounds=2, days=0.01)
    assert set(result["us_per_event"]) == set(STAGES)
    assert all(len(values) == 2 for values in result["rounds_us_per_event"].values())
    assert result["total_us_per_event"] == round(sum(result["us_per_event"].values()), 2)
