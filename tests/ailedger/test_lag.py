"""Consumer lag on the real broker: ``group_lag``, the stages' lags and ``ailedger topics lag``."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from ailedger import topics as names
from ailedger.cli import main
from ailedger.lag import group_lag, stage_lags
from tests.ailedger.conftest import create_topic
from tests.conftest import requires_kafka_semantics

pytestmark = [pytest.mark.integration, requires_kafka_semantics(
    "ListOffsets(latest) answers the last record batch's base offset + 1, not the log end "
    "(5 records in one batch: 1), so a lag is under-counted")]


def produce(bootstrap: str, topic: str, counts: dict[int, int]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        for partition, count in counts.items():
            for i in range(count):
                producer.send(topic, value=f"m{i}".encode(), partition=partition)
        producer.flush()
    finally:
        producer.close()


def commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
    finally:
        consumer.close()


def test_lag_counts_what_a_group_has_not_committed_on_every_partition(broker_bootstrap, unique_id):
    topic = create_topic(broker_bootstrap, f"lag{unique_id}", 2)
    produce(broker_bootstrap, topic, {0: 5, 1: 3})
    commit(broker_bootstrap, f"g{unique_id}", {TopicPartition(topic, 0): 2})
    assert group_lag(broker_bootstrap, f"g{unique_id}", topic) == 3 + 3  # partition 1: nothing committed
    assert group_lag(broker_bootstrap, f"other{unique_id}", topic) == 8
    commit(broker_bootstrap, f"g{unique_id}", {TopicPartition(topic, 0): 5, TopicPartition(topic, 1): 3})
    assert group_lag(broker_bootstrap, f"g{unique_id}", topic) == 0
    assert group_lag(broker_bootstrap, f"g{unique_id}", f"missing{unique_id}") is None


def test_the_stages_lag_names_the_one_behind(settings, topics, monkeypatch, capsys):
    produce(settings.kafka_bootstrap, settings.topic(names.RAW), {0: 4})
    produce(settings.kafka_bootstrap, settings.topic(names.DLQ), {0: 1})
    behind = {lag.stage: lag.behind for lag in stage_lags(settings)}
    assert behind == {"pricing (worker)": 4, "live statistics (worker)": 0, "account spend (worker)": 0,
                      "ClickHouse sink (serve)": 0, "dead-letter sink (serve)": 1, "alert delivery (serve)": 0}

    for key, value in {"AILEDGER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
                       "AILEDGER_TOPIC_PREFIX": settings.topic_prefix, "AILEDGER_APP_ID": "lagged-worker"}.items():
        monkeypatch.setenv(key, value)
    assert main(["topics", "lag", "--max", "0"]) == 1
    out = capsys.readouterr().out
    assert "lagged-worker" in out and "more than 0 behind: pricing (worker), dead-letter sink (serve)" in out
    assert main(["topics", "lag", "--max", "4"]) == 0
    assert "behind:" not in capsys.readouterr().out


def test_with_the_stages_apart_the_statistics_lag_is_their_own_group(settings):
    from ailedger.lag import stage_groups

    together = {stage: group for stage, group, _ in stage_groups(settings, app_id="ledger")}
    apart = {stage: group for stage, group, _ in
             stage_groups(settings.model_copy(update={"worker_stages": "apart"}), app_id="ledger")}
    assert together["pricing (worker)"] == together["live statistics (worker)"] == "ledger"
    assert apart["pricing (worker)"] == "ledger"
    assert apart["live statistics (worker)"] == apart["account spend (worker)"] == "ledger-statistics"
