"""``pipeline_lag`` alerts: the pure decision, and the watch loop against the real broker."""

from __future__ import annotations

import threading

import pytest
from kafka import KafkaProducer

from ailedger import topics as names
from ailedger.lag import StageLag
from ailedger.settings import ApiSettings
from consumers.alerts.lag_watch import LagRules, WatchState, run_lag_watch, step
from schemas.alerts import AlertKind
from tests.topic_reader import read_topic

RULES = LagRules(min_behind=100, window_seconds=60, cooldown_seconds=600)


def lags(pricing: int | None, sink: int = 0) -> list[StageLag]:
    return [StageLag("pricing (worker)", "w", "t.ai.calls.v1", pricing),
            StageLag("ClickHouse sink (serve)", "s", "t.ai.calls.costed.v1", sink)]


def run(rounds: list[tuple[float, list[StageLag]]]) -> list:
    state, raised = WatchState(), []
    for now, round_ in rounds:
        state, alerts = step(state, round_, now, RULES)
        raised += [(now, a) for a in alerts]
    return raised


def test_a_stage_stuck_behind_for_the_window_raises_one_alert_per_cooldown():
    raised = run([(t, lags(500 + t)) for t in range(0, 1300, 30)])  # growing: it stopped or is too slow
    assert [now for now, _ in raised] == [60, 660, 1260]
    alert = raised[0][1]
    assert alert.kind == AlertKind.PIPELINE_LAG and alert.subject == "stage=pricing (worker)"
    assert alert.figures == {"behind": 560, "behind_before": 500, "seconds": 60, "group": "w",
                             "topic": "t.ai.calls.v1"}
    assert "560 messages behind" in alert.message and alert.alert_id != raised[1][1].alert_id


def test_a_backlog_being_worked_off_or_a_small_lag_raises_nothing():
    assert run([(t, lags(10_000 - 10 * t)) for t in range(0, 600, 30)]) == []  # shrinking
    assert run([(t, lags(99)) for t in range(0, 600, 30)]) == []  # below min_behind
    dips = [(t, lags(50 if t in (30, 90) else 500)) for t in range(0, 150, 30)]
    assert run(dips) == []  # every window held a moment below min_behind
    later = [(t, lags(500)) for t in (150, 180, 210)]
    assert [now for now, _ in run(dips + later)] == [210]  # a whole window (from the sample before it) above
    assert run([(t, lags(None)) for t in range(0, 600, 30)]) == []  # no topic


def test_the_window_needs_samples_spanning_it():
    assert run([(0, lags(500)), (59, lags(600))]) == []
    assert [now for now, _ in run([(0, lags(500)), (59, lags(600)), (61, lags(600))])] == [61]


@pytest.mark.integration
def test_the_watch_publishes_an_alert_when_nothing_prices_the_raw_topic(settings, topics):
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    for _ in range(5):  # no worker runs: the pricing stage stays 5 behind
        producer.send(settings.topic(names.RAW), value=b"{}", partition=0)
        producer.flush()  # a batch per record: Tansu's end offsets count batches (README, brokers)
    producer.close()
    watch = ApiSettings(**settings.model_dump(), lag_check_seconds=0.3, lag_alert_messages=3, lag_alert_seconds=1.0)
    stop = threading.Event()
    thread = threading.Thread(target=run_lag_watch, args=(watch, stop))
    thread.start()
    try:
        found = []
        for _ in range(60):
            found = [v for _, v in read_topic(settings, names.ALERTS) if v["kind"] == "pipeline_lag"]
            if found:
                break
            stop.wait(0.5)
    finally:
        stop.set()
        thread.join(30)
    assert len(found) == 1 and found[0]["subject"] == "stage=pricing (worker)"
    assert found[0]["figures"]["behind"] == 5 and found[0]["figures"]["topic"] == settings.topic(names.RAW)
