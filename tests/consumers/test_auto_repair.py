"""Auto-repair: the hours whose unpriced calls now have a price are replayed, once per change;
and end to end, calls stored unpriced become priced after an override, with no replay run by hand."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ailedger.publishing import BatchPublisher
from ailedger.settings import ApiSettings
from consumers.auto_repair import HOUR, plan_repair
from consumers.serve import Services
from schemas.pricing import PriceOverride
from stream_processors.pricing import load_catalog

H0 = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def catalog_with(*overrides: PriceOverride):
    catalog = load_catalog(None)
    for override in overrides:
        catalog.apply(override)
    return catalog


def override(model: str, start: datetime, end: datetime | None = None, input_: str = "1") -> PriceOverride:
    return PriceOverride(provider="selfhost", model=model, effective_from=start, effective_to=end,
                         input=Decimal(input_), output=Decimal("2"))


def test_only_hours_the_catalog_now_prices_are_planned():
    rows = [("selfhost", "new-model", H0, 5), ("selfhost", "new-model", H0 + 3 * HOUR, 2),
            ("selfhost", "still-unknown", H0 + 9 * HOUR, 7)]
    assert plan_repair(rows, catalog_with(), {}) is None
    plan = plan_repair(rows, catalog_with(override("new-model", H0 - HOUR)), {})
    assert (plan.start, plan.end, plan.unpriced) == (H0, H0 + 4 * HOUR, 7)
    assert set(plan.hours) == {("selfhost", "new-model", H0), ("selfhost", "new-model", H0 + 3 * HOUR)}


def test_an_override_starting_within_an_hour_repairs_that_hour_and_not_the_ones_before():
    rows = [("selfhost", "m", H0 + n * HOUR, 1) for n in range(5)]
    plan = plan_repair(rows, catalog_with(override("m", H0 + 2 * HOUR + timedelta(minutes=30))), {})
    assert (plan.start, plan.end) == (H0 + 2 * HOUR, H0 + 5 * HOUR)


def test_an_hour_is_tried_again_only_when_its_count_or_its_price_changes():
    rows = [("selfhost", "m", H0, 4)]
    catalog = catalog_with(override("m", H0 - HOUR))
    attempted = dict(plan_repair(rows, catalog, {}).hours)
    assert plan_repair(rows, catalog, attempted) is None  # calls still unpriced after the replay
    assert plan_repair([("selfhost", "m", H0, 5)], catalog, attempted) is not None  # one more unpriced since
    corrected = catalog_with(override("m", H0 - HOUR, input_="3"))
    assert plan_repair(rows, corrected, attempted) is not None  # a new price version


def test_naive_hours_from_the_store_are_utc():
    plan = plan_repair([("selfhost", "m", H0.replace(tzinfo=None), 1)], catalog_with(override("m", H0)), {})
    assert plan.start == H0


@pytest.mark.integration
def test_unpriced_calls_are_priced_once_a_price_arrives(settings, topics, store, worker_factory):
    from tests.stream_processors.test_replay import calls, expected, publish_price, totals, wait_for

    events = calls("fresh-model-9", 60)
    worker_factory()
    services = Services(ApiSettings(**settings.model_dump(), auto_repair_seconds=1), store=store).start()
    try:
        publisher = BatchPublisher(settings, batch_size=30)
        publisher.add_all(events)
        publisher.flush()
        publisher.close()
        assert wait_for(lambda: totals(store) == (60, None, 0))  # unpriced: NULL cost, never $0
        time.sleep(2.5)  # rounds with no price: nothing to repair
        assert services.costed_sink.stats.rows_written == 60

        publish_price(settings, override("fresh-model-9", datetime(2024, 1, 1, tzinfo=timezone.utc), input_="2"))
        priced = expected(events, Decimal(2), Decimal(2))
        assert wait_for(lambda: totals(store) == (60, priced, 60), timeout=60), totals(store)
        _, rows = store.rows("SELECT sum(calls), sum(cost_usd), sum(priced_calls) FROM ai_calls_hourly")
        assert rows[0] == (60, priced, 60)
        written = services.costed_sink.stats.rows_written
        time.sleep(3.0)  # more rounds: nothing is due any more
        assert services.costed_sink.stats.rows_written == written == 120
        assert not services.problems()
    finally:
        services.stop()
