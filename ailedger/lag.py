"""How far behind each stage of the pipeline is: the messages of its input topic its consumer
group has not committed yet (the consumer lag).

Every stage commits an offset only once its output is safe (the worker once the broker has the
run's costed messages and table writes, the sink once ClickHouse has the rows), so a lag that
stays above 0 while producers are quiet is work not done: a stage stopped, or cannot keep up.
``ailedger topics lag`` prints it; the benchmarks and tests wait on :func:`group_lag`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from ailedger import topics
from ailedger.settings import CommonSettings, statistics_app_id


@dataclass(frozen=True)
class StageLag:
    stage: str  # what the stage does
    group: str  # its consumer group
    topic: str  # its input topic (full name)
    behind: int | None  # messages not committed yet, summed over partitions; None: no such topic


def group_lag(bootstrap_servers: str | list[str], group: str, topic: str) -> int | None:
    """Messages of ``topic`` that consumer group ``group`` has not committed (a partition without
    a committed offset counts from 0), or ``None`` when the broker has no such topic.

    Per partition at least 0: Tansu answers the end offset as its last record batch's base
    offset + 1, below an offset committed after a batch of several records (README, brokers),
    and a negative lag on one partition would hide a positive one on another."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return None
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        ends = consumer.end_offsets(tps)
        return sum(max(0, ends[tp] - (consumer.committed(tp) or 0)) for tp in tps)
    finally:
        consumer.close()


def stage_groups(settings: CommonSettings, app_id: str = "ailedger-worker", sink_group: str = "ailedger-sink",
                 alert_group: str = "ailedger-alert-delivery") -> list[tuple[str, str, str]]:
    """``(stage, group, input topic)`` of every stage, with the groups the services derive from
    these names (the sinks' and alert delivery's are prefixed with the topic prefix, as
    :class:`~consumers.sink.loop.TopicSink` and alert delivery prefix them; the worker's is its app
    id, and the statistics' their own when ``AILEDGER_WORKER_STAGES=apart``)."""
    prefix = settings.topic_prefix
    statistics = statistics_app_id(app_id, settings.worker_stages)
    return [
        ("pricing (worker)", app_id, settings.topic(topics.RAW)),
        ("live statistics (worker)", statistics, settings.topic(topics.COSTED)),
        ("account spend (worker)", statistics, settings.topic(topics.SPEND)),
        ("ClickHouse sink (serve)", f"{prefix}{sink_group}", settings.topic(topics.COSTED)),
        ("dead-letter sink (serve)", f"{prefix}{sink_group}-dlq", settings.topic(topics.DLQ)),
        ("alert delivery (serve)", f"{prefix}{alert_group}", settings.topic(topics.ALERTS)),
    ]


def stage_lags(settings: CommonSettings, **groups: str) -> list[StageLag]:
    """The lag of every stage (:func:`stage_groups`, whose keyword arguments ``groups`` takes)."""
    return [StageLag(stage, group, topic, group_lag(settings.bootstrap_servers, group, topic))
            for stage, group, topic in stage_groups(settings, **groups)]
