"""Scale-out: two Faust workers and two sinks share the partitions; members join and leave
mid-stream (rebalances) and the totals stay exact."""

from __future__ import annotations

import time

import pytest

from ailedger.processes import stop
from tests.consumers.conftest import ledger_totals, publish_in_background, wait_for
from tests.conftest import BROKER_KIND, requires_group_departures
from tests.consumers.test_fault_tolerance import count, costed_topic_report, diagnose, ground_truth, priced_events

pytestmark = pytest.mark.integration


def test_two_sinks_share_partitions_and_rebalance_exactly(settings, topics, store, worker_factory, services_factory):
    """Sinks scale out: a second sink joins the group mid-stream, the partitions are shared, and
    the totals stay exact (revoked buffers dropped, re-read from the committed offsets)."""
    events = priced_events(3000, seed=32)
    worker_factory("a")
    first_sink = services_factory()
    publisher = publish_in_background(settings, events, batch_size=50, pause=0.05)
    assert wait_for(lambda: count(store) >= 500, timeout=90)
    second_sink = services_factory()
    assert wait_for(lambda: len(second_sink.costed_sink.assigned()) > 0, timeout=90), "the second sink got no partition"
    # kafka-python keeps reporting a member's revoked partitions as assigned until its own SyncGroup
    # answer arrives, which can come a few ms after the new member's: the settled split is disjoint.
    assert wait_for(lambda: not (first_sink.costed_sink.assigned() & second_sink.costed_sink.assigned()), timeout=30), \
        (first_sink.costed_sink.assigned(), second_sink.costed_sink.assigned())
    publisher.join(120)
    assert wait_for(lambda: count(store) == len(events), timeout=180), diagnose(store, first_sink, events)
    time.sleep(1.5)
    assert ledger_totals(store) == ground_truth(events)


def test_two_workers_two_sinks_share_the_stream(settings, topics, store, worker_factory, services_factory):
    """Two workers (static members) price the stream together while a second sink joins."""
    events = priced_events(4000, seed=31)
    worker_factory("a")
    worker_factory("b")
    first_sink = services_factory()
    publisher = publish_in_background(settings, events, batch_size=50, pause=0.05)
    assert wait_for(lambda: count(store) >= 500, timeout=90)
    second_sink = services_factory()  # a second sink joins the sink group mid-stream
    assert wait_for(lambda: len(second_sink.costed_sink.assigned()) > 0, timeout=90), "the second sink got no partition"
    publisher.join(120)
    if not wait_for(lambda: count(store) == len(events), timeout=180):
        raise AssertionError(diagnose(store, first_sink, events) + " " + costed_topic_report(settings, store, events))
    time.sleep(1.5)
    assert ledger_totals(store) == ground_truth(events)


@requires_group_departures
def test_worker_leaves_the_group_mid_stream(settings, topics, store, worker_factory, services_factory):
    """A worker leaves mid-stream (graceful stop, dynamic membership): its partitions move to the
    other worker, which prices everything the leaver had not finished; no repair replay needed."""
    events = priced_events(4000, seed=33)
    first_worker, _ = worker_factory("a", static=False)
    second_worker, second_log = worker_factory("b", static=False)
    sink = services_factory()
    publisher = publish_in_background(settings, events, batch_size=50, pause=0.05)
    assert wait_for(lambda: count(store) >= 1500, timeout=120)
    stop(first_worker)  # leaves mid-stream: its partitions and tables move
    publisher.join(120)
    if not wait_for(lambda: count(store) == len(events), timeout=180):
        if BROKER_KIND == "tansu" and second_worker.poll() is not None and "ConsistencyError" in second_log.read_text():
            pytest.skip("Tansu gap: ListOffsets(latest) under-reports the changelog's high watermark, so the "
                        "remaining worker's recovery of the moved tables stopped it with a ConsistencyError")
        raise AssertionError(diagnose(store, sink, events) + " " + costed_topic_report(settings, store, events))
    time.sleep(1.5)
    assert ledger_totals(store) == ground_truth(events)


def test_pricing_and_statistics_run_in_processes_of_their_own(settings, topics, store, worker_factory,
                                                              services_factory, unique_id):
    """``AILEDGER_WORKER_STAGES=apart``: one worker prices, another keeps the live statistics, each
    in its own consumer group. Every call is stored once and counted once by the statistics, the
    pricing worker keeps no statistics, and the lag view finds both groups caught up."""
    from ailedger.lag import stage_lags
    from ailedger.settings import statistics_app_id
    from stream_processors.stats import tables
    from tests.stream_processors.stats.live import latest_by_key
    from tests.topic_reader import read_topic

    events = priced_events(2000, seed=34)
    app_id = f"app{unique_id}"  # the worker factory's
    worker_factory("pricing", AILEDGER_WORKER_STAGES="apart", AILEDGER_WORKER_ROLE="pricing")
    worker_factory("statistics", AILEDGER_WORKER_STAGES="apart", AILEDGER_WORKER_ROLE="statistics")
    sink = services_factory()
    publish_in_background(settings, events, batch_size=50, pause=0.02).join(120)
    assert wait_for(lambda: count(store) == len(events), timeout=180), diagnose(store, sink, events)
    time.sleep(1.5)
    assert ledger_totals(store) == ground_truth(events)

    statistics = statistics_app_id(app_id, "apart")
    assert statistics != app_id

    def daily_calls(app: str) -> int:
        rows = latest_by_key(read_topic(settings, tables.changelog_topic(app, tables.DAILY), full_name=True))
        return sum(row["calls"] for row in rows.values())

    assert wait_for(lambda: daily_calls(statistics) == len(events), timeout=60), daily_calls(statistics)
    assert daily_calls(app_id) == 0  # the pricing worker runs no statistics

    deployment = settings.model_copy(update={"worker_stages": "apart"})

    def groups_caught_up():
        lags = {lag.stage: (lag.group, lag.behind) for lag in stage_lags(deployment, app_id=app_id)}
        return (lags["pricing (worker)"] == (app_id, 0) and lags["live statistics (worker)"] == (statistics, 0)
                and lags["account spend (worker)"][0] == statistics) or lags

    assert wait_for(lambda: groups_caught_up() is True, timeout=60), groups_caught_up()
