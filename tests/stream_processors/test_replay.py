"""Re-rating history: a price changes, a replay re-prices the range, totals change exactly once."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from kafka import KafkaProducer

from ailedger import topics
from ailedger.publishing import BatchPublisher
from ailedger.settings import ApiSettings, WorkerSettings
from consumers.serve import Services
from schemas.codec import dumps
from schemas.events import AICallEvent
from schemas.pricing import PriceOverride
from stream_processors.replay import replay
from tests.conftest import requires_kafka_semantics

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc).replace(microsecond=0)
START = NOW - timedelta(days=2)


def publish_price(settings, override: PriceOverride) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    producer.send(settings.topic(topics.PRICING), key=override.key.encode(), value=dumps(override)).get(30)
    producer.close()


def calls(model: str, n: int) -> list[AICallEvent]:
    return [AICallEvent(event_id=uuid.uuid4(), occurred_at=START + timedelta(minutes=7 * i), account_id=f"acct{i % 3}",
                        prompt_type=f"pt{i % 4}", provider="selfhost", model=model,
                        input_tokens=1000 + i, output_tokens=100 + i) for i in range(n)]


def expected(events, input_per_m: Decimal, output_per_m: Decimal) -> Decimal:
    return sum((Decimal(e.input_tokens) * input_per_m + Decimal(e.output_tokens) * output_per_m) / 1_000_000
               for e in events)


def totals(store) -> tuple[int, Decimal | None, int]:
    _, rows = store.rows("SELECT count(), sum(cost_total_usd), countIf(priced) FROM ai_calls FINAL")
    return rows[0][0], rows[0][1], rows[0][2]


def wait_for(check, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return False


def test_price_change_is_re_rated_by_replay_and_never_double_counted(settings, topics, store, worker_factory):
    worker = WorkerSettings(**settings.model_dump())
    publish_price(settings, PriceOverride(provider="selfhost", model="tuned-*", effective_from="2024-01-01",
                                          input=Decimal("1"), output=Decimal("2")))
    events = calls("tuned-7b", 120)
    worker_factory()
    services = Services(ApiSettings(**settings.model_dump()), store=store).start()
    try:
        publisher = BatchPublisher(settings, batch_size=40)
        publisher.add_all(events)
        publisher.flush()
        publisher.close()
        first = expected(events, Decimal(1), Decimal(2))
        assert wait_for(lambda: totals(store) == (120, first, 120))

        # The price was wrong: the same override key, corrected. Replay re-rates the range.
        publish_price(settings, PriceOverride(provider="selfhost", model="tuned-*", effective_from="2024-01-01",
                                              input=Decimal("3"), output=Decimal("5")))
        corrected = expected(events, Decimal(3), Decimal(5))
        for _ in range(2):  # twice: the second run must leave the same totals
            result = replay(worker, START, NOW, mode="reprice")
            assert result.emitted == 120
            assert wait_for(lambda: totals(store) == (120, corrected, 120))
        time.sleep(1.0)
        assert totals(store) == (120, corrected, 120)
        _, rows = store.rows("SELECT sum(calls), sum(cost_usd) FROM ai_calls_daily")
        assert rows[0] == (120, corrected)  # the rollups counted each call once, at its latest cost
    finally:
        services.stop()


def test_repair_prices_calls_that_were_unpriced(settings, topics, store, worker_factory):
    worker = WorkerSettings(**settings.model_dump())
    events = calls("brand-new-model", 50)
    worker_factory()
    # the replay by hand, alone (auto-repair would do it too: tests/consumers/test_auto_repair.py)
    services = Services(ApiSettings(**settings.model_dump(), auto_repair_seconds=0), store=store).start()
    try:
        publisher = BatchPublisher(settings)
        publisher.add_all(events)
        publisher.flush()
        publisher.close()
        assert wait_for(lambda: totals(store) == (50, None, 0))  # unpriced: NULL cost, never $0

        publish_price(settings, PriceOverride(provider="selfhost", model="brand-new-model",
                                              effective_from="2024-01-01", input=Decimal("2"), output=Decimal("4")))
        result = replay(worker, START, NOW, mode="repair")
        assert result.emitted == 50 and result.unpriced == 0
        priced = expected(events, Decimal(2), Decimal(4))
        assert wait_for(lambda: totals(store) == (50, priced, 50))
        assert store.rows("SELECT sum(calls), sum(cost_usd) FROM ai_calls_daily")[1][0] == (50, priced)
        written = services.costed_sink.stats.rows_written
        replay(worker, START, NOW, mode="repair")  # nothing left to repair: no new versions
        assert wait_for(lambda: services.costed_sink.stats.rows_in >= 150)
        time.sleep(1.0)
        assert services.costed_sink.stats.rows_written == written
        assert totals(store) == (50, priced, 50)
    finally:
        services.stop()


@requires_kafka_semantics("Tansu stores no topic configs, so it never refuses a message as too large")
def test_a_replay_whose_costed_messages_are_refused_says_so(settings, topics):
    """The broker refuses for real (a costed topic whose ``max.message.bytes`` is below one
    message): the replay raises instead of reporting the calls re-emitted; once the broker takes
    them, the same replay emits every call."""
    from ailedger.topics import COSTED
    from stream_processors.replay import ReplayNotDelivered
    from tests.stream_processors.test_delivery import set_topic_limit
    from tests.topic_reader import costed_items, read_topic

    events = calls("gpt-4o", 40)
    publisher = BatchPublisher(settings, batch_size=40)
    publisher.add_all(events)
    publisher.flush()
    publisher.close()
    own = WorkerSettings(**settings.model_dump())
    set_topic_limit(settings, COSTED, 300)  # below one costed call
    with pytest.raises(ReplayNotDelivered, match="costed messages were not delivered"):
        replay(own, START, NOW + timedelta(seconds=1), mode="repair")
    set_topic_limit(settings, COSTED, 1_000_000)
    result = replay(own, START, NOW + timedelta(seconds=1), mode="repair")
    assert result.emitted == len(events)
    stored = {i["event"]["event_id"] for _, items in read_topic(settings, COSTED, decode=costed_items) for i in items}
    assert stored == {str(e.event_id) for e in events}
