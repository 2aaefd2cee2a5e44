"""Alert delivery against the real broker, the real ClickHouse engine and a real HTTP receiver."""

from __future__ import annotations

import threading

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ailedger import topics as names
from consumers.alerts import AlertDelivery, AlertDeliverySettings, run_alert_delivery
from schemas.codec import dumps
from tests.consumers.alerts.factories import alert
from tests.stream_processors.stats.live import wait_for

pytestmark = pytest.mark.integration


def publish(settings, alerts) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    for a in alerts:
        producer.send(settings.topic(names.ALERTS), key=a.alert_id.encode(), value=dumps(a))
    producer.flush()
    producer.close()


def stored(store) -> dict[str, tuple]:
    _, rows = store.rows("SELECT alert_id, status, pending_webhooks, kind, subject FROM ai_alerts FINAL")
    return {r[0]: r[1:] for r in rows}


def committed(settings) -> int:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers,
                             group_id=f"{settings.topic_prefix}ailedger-alert-delivery", enable_auto_commit=False)
    try:
        return consumer.committed(TopicPartition(settings.topic(names.ALERTS), 0)) or 0
    finally:
        consumer.close()


def start(settings, store, **knobs):
    delivery_settings = AlertDeliverySettings(**settings.model_dump(), **{
        "alert_backoff_seconds": 0.01, "alert_max_attempts": 4, "alert_redeliver_seconds": 0.3, **knobs})
    stop = threading.Event()
    delivery = AlertDelivery(delivery_settings, store, stop)
    thread = threading.Thread(target=delivery.run, daemon=True)
    thread.start()
    return delivery, stop, thread


def test_alerts_reach_a_webhook_that_fails_its_first_requests_and_are_stored(settings, topics, store,
                                                                             receiver_factory):
    receiver = receiver_factory(fail_first=3)
    alerts = [alert() for _ in range(5)]
    publish(settings, alerts)
    delivery, stop, thread = start(settings, store, alert_webhooks=receiver.url)
    try:
        rows = wait_for(lambda: (s := stored(store)) and len(s) == 5 and s, 60, "five stored alerts")
        wait_for(lambda: committed(settings) == 5, 30, "offsets committed")
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
    assert sorted(receiver.accepted_ids()) == sorted(a.alert_id for a in alerts)
    assert receiver.requests == 8  # 3 refused + 5 taken
    assert {status for status, *_ in rows.values()} == {"delivered"}
    assert rows[alerts[0].alert_id][2:] == ("cost_spike", alerts[0].subject)


def test_nothing_is_lost_while_the_webhook_is_down_and_repeats_are_not_posted_again(settings, topics, store,
                                                                                    receiver_factory):
    receiver = receiver_factory(fail_first=10_000)
    first = [alert() for _ in range(3)]
    publish(settings, first)
    delivery, stop, thread = start(settings, store, alert_webhooks=receiver.url)
    try:
        wait_for(lambda: committed(settings) == 3, 60, "offsets committed with the alerts parked")
        rows = stored(store)
        assert {r[0] for r in rows.values()} == {"parked"} and len(rows) == 3
        assert all(r[1] == [receiver.url] for r in rows.values())
        assert receiver.accepted_ids() == []

        receiver.recover()
        wait_for(lambda: {r[0] for r in stored(store).values()} == {"delivered"}, 60, "parked alerts delivered")
        assert sorted(receiver.accepted_ids()) == sorted(a.alert_id for a in first)

        publish(settings, first[:1])  # the same alert again, as a replayed worker would send it
        wait_for(lambda: committed(settings) == 4, 30, "the repeat consumed")
    finally:
        stop.set()
        thread.join(20)
    assert len(receiver.accepted_ids()) == 3 and delivery.stats.repeats == 1


def test_without_webhooks_alerts_are_stored_and_the_loop_stops_when_asked(settings, topics, store, monkeypatch):
    monkeypatch.delenv("AILEDGER_ALERT_WEBHOOKS", raising=False)
    publish(settings, [alert(), alert()])
    stop = threading.Event()
    thread = threading.Thread(target=run_alert_delivery, args=(settings, store, stop), daemon=True)
    thread.start()
    try:
        rows = wait_for(lambda: (s := stored(store)) and len(s) == 2 and s, 60, "two stored alerts")
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
    assert {r[0] for r in rows.values()} == {"stored"}
