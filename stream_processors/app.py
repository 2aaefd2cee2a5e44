"""The Faust application: topics, settings and the agents' registration.

Run with ``faust -A stream_processors.app worker --without-web`` (``ailedger worker`` does it).
Settings come from ``AILEDGER_*`` variables (:class:`ailedger.settings.WorkerSettings`).
Every topic carries raw bytes; the one codec in :mod:`schemas.codec` encodes and decodes them.
"""

from __future__ import annotations

import logging

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver

from ailedger import aiokafka_lz4, gc_tuning, kafka_pacing, topics
from ailedger.settings import WorkerSettings
from stream_processors import delivery
from stream_processors.contiguous_offsets import ContiguousOffsets
from stream_processors.delivery import DeliveredTable


class Worker(faust.Worker):
    """``faust worker`` without the terminal spinner, and with the collector tuned once started
    (:mod:`ailedger.gc_tuning`).

    At log levels WARN and above Faust starts a spinner and sets the root logger to DEBUG for it,
    so every debug call in aiokafka and Faust builds a log record: ~4% of the worker's CPU under
    load, for a spinner nobody sees in a service's log."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None
        super().on_setup_root_logger(logger, level)

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        delivery.arm_stop_deadline()  # this process is a worker: a stop after a refused send is bounded
        gc_tuning.tune(self.app.ailedger_settings.gc_thresholds)  # full collections cost ~20 % of a flood


class _FetchWaitConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport):
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start(); Faust passes a hard-coded 1,500 ms
        consumer._fetch_max_wait_ms = self.app.ailedger_settings.fetch_max_wait_ms
        return consumer


class FetchWaitConsumer(ContiguousOffsets, aiokafka_driver.Consumer):
    """Faust's aiokafka consumer with ``fetch_max_wait_ms`` from the settings, committing the
    event topics only past offsets processed (:mod:`.contiguous_offsets`). A broker that holds
    a fetch for its whole wait although data arrived (Tansu) added up to Faust's 1.5 s to each
    hop (publish -> priced p50 0.74 s at 2,000 events/s; 0.19 s with 100 ms)."""

    def _new_consumer_thread(self):
        return _FetchWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)

    @property
    def contiguous_topics(self) -> frozenset[str]:
        return self.app.ailedger_contiguous_topics


def create_app(settings: WorkerSettings | None = None) -> faust.App:
    kafka_pacing.install()  # noida-db answers empty fetches at once: pace re-fetches (no-op on Kafka)
    aiokafka_lz4.install()  # aiokafka's lz4 level 9 was 15 % of the worker's CPU; level 0 is ~10x cheaper
    settings = settings or WorkerSettings()
    settings.check_role()
    datadir = settings.home / "faust"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.own_app_id,  # with the stages apart, the statistics' own group and changelogs
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers],
        store=settings.table_store,
        datadir=str(datadir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        producer_linger_ms=5,
        producer_compression_type=settings.compression,  # costed messages and changelogs
        consumer_auto_offset_reset="earliest",
        consumer_max_fetch_size=settings.fetch_partition_max_bytes,
        stream_wait_empty=True,  # finish the message in hand before a rebalance commits
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        consumer_group_instance_id=settings.instance_id,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
        web_enabled=False,
        web_host="127.0.0.1",
        key_serializer="raw",
        value_serializer="raw",
        table_cleanup_interval=30.0,
        Table=DeliveredTable,  # a run is acked only once its changelog records are on the broker
        Worker=Worker,
    )
    app.ailedger_settings = settings
    app.transport.Consumer = FetchWaitConsumer
    # never compacted (their specs say so) and never written in transactions: no gaps in their offsets
    app.ailedger_contiguous_topics = frozenset(spec.name for spec in topics.topic_specs(settings)
                                               if spec.configs.get("cleanup.policy") != "compact")
    app.ailedger_topics = {
        name: app.topic(settings.topic(name), key_type=bytes, value_type=bytes, partitions=None)
        for name in (topics.RAW, topics.COSTED, topics.ALERTS, topics.DLQ, topics.PRICING, topics.PROMPT_CONFIGS)
    }
    return app


def topic(app: faust.App, name: str) -> faust.TopicT:
    """The Faust topic for one of :mod:`ailedger.topics`' names."""
    return app.ailedger_topics[name]


app = create_app()

# Agents register themselves on ``app`` when imported: pricing, and live statistics with the
# alerts, unless AILEDGER_WORKER_ROLE names one of them (AILEDGER_WORKER_STAGES=apart).
if app.ailedger_settings.runs_pricing:
    from stream_processors import pricing_agent  # noqa: E402,F401
if app.ailedger_settings.runs_statistics:
    import stream_processors.alerts.agent, stream_processors.stats.agent  # noqa: E401,E402,F401
