"""Fixtures for the consumers: the pipeline around the ClickHouse sink."""

from __future__ import annotations

import threading
import time

import pytest

from ailedger.publishing import BatchPublisher
from ailedger.settings import ApiSettings
from consumers.serve import Services


def publish(settings, events, batch_size: int = 50, pause: float = 0.0) -> None:
    publisher = BatchPublisher(settings, batch_size=batch_size)
    try:
        for start in range(0, len(events), batch_size):
            publisher.add_all(events[start:start + batch_size])
            publisher.flush()
            if pause:
                time.sleep(pause)
    finally:
        publisher.close()


def publish_in_background(settings, events, batch_size: int = 50, pause: float = 0.05) -> threading.Thread:
    thread = threading.Thread(target=publish, args=(settings, events, batch_size, pause), daemon=True)
    thread.start()
    return thread


def wait_for(check, timeout: float = 120.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def ledger_totals(store) -> dict:
    """What ClickHouse says: the latest version of every call (FINAL), and what the rollups counted
    (the materialized views saw every inserted row once, so a double count would show there; the
    raw table's older versions may already be merged away, so they prove nothing)."""
    latest = store.dicts("SELECT count() AS calls, uniqExact(event_id) AS distinct_ids, "
                         "sum(cost_total_usd) AS cost FROM ai_calls FINAL")[0]
    rollup = store.dicts("SELECT sum(calls) AS calls, sum(cost_usd) AS cost FROM ai_calls_daily")[0]
    return {**latest, "rollup_calls": rollup["calls"], "rollup_cost": rollup["cost"]}


@pytest.fixture
def services_factory(settings, store):
    """In-process sinks on this test's store; stopped afterwards."""
    started = []

    def start() -> Services:
        services = Services(ApiSettings(**settings.model_dump()), store=store).start()
        started.append(services)
        return services

    yield start
    for services in started:
        services.stop()
