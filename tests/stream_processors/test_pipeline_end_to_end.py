"""The first real path: 1,000 events through the real broker, Faust worker and ClickHouse sink."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from ailedger.demo_traffic import generate
from ailedger.publishing import BatchPublisher
from ailedger.settings import ApiSettings
from consumers.serve import Services
from stream_processors.pricing import load_catalog, price_call

pytestmark = pytest.mark.integration


def wait_for_rows(store, expected: int, timeout: float = 120.0) -> int:
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        count = int(store.rows("SELECT count() FROM ai_calls FINAL")[1][0][0])
        if count >= expected:
            return count
        time.sleep(0.2)
    return count


def diagnosis(services, worker_log) -> str:
    """What a failed wait needs: the sinks' counters and partitions, and the worker's last lines."""
    sinks = "; ".join(f"{sink.name}: {sink.stats}, partitions {sorted(sink.assigned())}"
                      for sink in services.sinks)
    return f"{sinks}; crashed {services.crashed}; worker log: {worker_log.read_text()[-4000:]}"


def test_thousand_events_land_once_with_exact_cost(settings, topics, store, worker_factory):
    events = [e for e in generate(1000, seed=42) if e.provider != "ollama"]  # ollama needs an override
    catalog = load_catalog(None)
    expected_cost = sum((price_call(e, catalog).total_usd for e in events), Decimal(0))
    assert expected_cost > 0

    _, worker_log = worker_factory()
    services = Services(ApiSettings(**settings.model_dump()), store=store).start()
    try:
        publisher = BatchPublisher(settings, batch_size=100)
        publisher.add_all(events)
        publisher.flush()
        publisher.close()
        assert wait_for_rows(store, len(events)) == len(events), diagnosis(services, worker_log)
        time.sleep(1.0)  # anything extra (a duplicate) would arrive now
    finally:
        services.stop()

    _, rows = store.rows("SELECT count(), uniqExact(event_id), sum(cost_total_usd), countIf(priced) FROM ai_calls")
    count, distinct, total, priced = rows[0]
    assert (count, distinct, priced) == (len(events), len(events), len(events))
    assert total == expected_cost


def test_replayed_messages_are_not_double_counted(settings, topics, store, worker_factory):
    events = [e for e in generate(300, seed=5) if e.provider != "ollama"]
    # the worker would drop the copies (its dedup window): this is about the sink
    _, worker_log = worker_factory(AILEDGER_DEDUP_WINDOW="0")
    services = Services(ApiSettings(**settings.model_dump()), store=store).start()
    try:
        for _ in range(2):  # the same events twice, as a producer retry or a replay would
            publisher = BatchPublisher(settings, batch_size=50)
            publisher.add_all(events)
            publisher.flush()
            publisher.close()
        deadline = time.monotonic() + 120  # as wait_for_rows: the worker may wait up to 60 s for the pricing topic
        while services.costed_sink.stats.rows_in < 2 * len(events) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        seen = diagnosis(services, worker_log)
    finally:
        services.stop()
    assert services.costed_sink.stats.rows_in == 2 * len(events), seen
    _, rows = store.rows("SELECT count() FROM ai_calls FINAL")
    assert rows[0][0] == len(events)
    _, rows = store.rows("SELECT sum(calls) FROM ai_calls_daily")
    assert rows[0][0] == len(events)  # the rollups counted each call once: re-deliveries were not added
