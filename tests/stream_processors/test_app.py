"""The Faust app's own settings: Faust's spinner must not turn the root logger to DEBUG, and the
worker's consumer waits ``fetch_max_wait_ms`` from the settings, not Faust's hard-coded 1.5 s,
and fetches ``fetch_partition_max_bytes`` per partition, not Faust's 1 MiB."""

from __future__ import annotations

import asyncio
import logging

import faust
import pytest
from pydantic import ValidationError

from ailedger.settings import WorkerSettings
from stream_processors.app import Worker, app, create_app


def _root_level_after_setup(worker_class: type) -> int:
    worker = worker_class(app, loglevel="warn", quiet=True)
    logger = logging.getLogger(f"probe-{worker_class.__module__}")
    logger.addHandler(logging.NullHandler())
    logger.setLevel(logging.WARN)
    worker.on_setup_root_logger(logger, logging.WARN)
    return logger.level


def test_faust_worker_uses_the_quiet_worker_class():
    assert app.conf.Worker is Worker


def test_warn_level_keeps_debug_records_off():
    assert _root_level_after_setup(faust.Worker) == logging.DEBUG  # what Faust alone does
    assert _root_level_after_setup(Worker) == logging.WARN


def _worker_consumer_fetch(faust_app: faust.App) -> tuple[int, int]:
    """(max wait ms, max bytes per partition) of the worker's aiokafka consumer."""
    async def build() -> tuple[int, int]:
        consumer = faust_app.transport.create_consumer(callback=print, on_partitions_revoked=print,
                                                       on_partitions_assigned=print)
        kafka_consumer = consumer._new_consumer_thread()._create_worker_consumer(faust_app.transport)
        # what AIOKafkaConsumer.start() gives its fetcher
        return kafka_consumer._fetch_max_wait_ms, kafka_consumer._max_partition_fetch_bytes

    return asyncio.run(build())


def test_the_worker_consumer_fetches_as_the_settings_say(tmp_path):
    defaults = WorkerSettings()
    assert _worker_consumer_fetch(app) == (defaults.fetch_max_wait_ms, defaults.fetch_partition_max_bytes) \
        == (100, 8 * 1024 * 1024)
    custom = create_app(WorkerSettings(home=tmp_path, fetch_max_wait_ms=250, fetch_partition_max_bytes=2 * 1024 * 1024,
                                       table_store="memory://"))
    assert _worker_consumer_fetch(custom) == (250, 2 * 1024 * 1024)


def test_the_statistics_runs_come_from_validated_settings(monkeypatch):
    """``AILEDGER_STATS_*`` are WorkerSettings fields (the agents read them there): read from the
    environment, and a bad value fails at start naming the field."""
    assert (WorkerSettings().stats_take_seconds, WorkerSettings().stats_take_messages) == (2.0, 500)
    monkeypatch.setenv("AILEDGER_STATS_TAKE_SECONDS", "0.5")
    monkeypatch.setenv("AILEDGER_STATS_TAKE_MESSAGES", "40")
    monkeypatch.setenv("AILEDGER_STATS_PUBLISH_SECONDS", "3600")
    settings = WorkerSettings()
    taken = (settings.stats_take_seconds, settings.stats_take_messages, settings.stats_publish_seconds)
    assert taken == (0.5, 40, 3600)
    monkeypatch.setenv("AILEDGER_STATS_TAKE_SECONDS", "0")
    with pytest.raises(ValidationError, match="stats_take_seconds"):
        WorkerSettings()


def test_with_the_stages_apart_each_worker_runs_as_its_stage(tmp_path):
    """Pricing keeps the worker's app id (the group ``ailedger replay`` reads); the statistics run
    as their own app, so their consumer group and changelogs are their own."""
    apart = {"home": tmp_path, "app_id": "ledger", "worker_stages": "apart"}
    pricing = create_app(WorkerSettings(**apart, worker_role="pricing"))
    statistics = create_app(WorkerSettings(**apart, worker_role="statistics"))
    assert (pricing.conf.id, statistics.conf.id) == ("ledger", "ledger-statistics")
    assert create_app(WorkerSettings(home=tmp_path, app_id="ledger")).conf.id == "ledger"
    roles = {role: (s.runs_pricing, s.runs_statistics) for role, s in
             (("pricing", WorkerSettings(**apart, worker_role="pricing")),
              ("statistics", WorkerSettings(**apart, worker_role="statistics")),
              ("together", WorkerSettings(home=tmp_path)))}
    assert roles == {"pricing": (True, False), "statistics": (False, True), "together": (True, True)}


@pytest.mark.parametrize(("stages", "role"), [("apart", None), ("together", "pricing")])
def test_a_role_that_does_not_fit_the_stages_stops_the_worker_at_start(tmp_path, stages, role):
    with pytest.raises(ValueError, match="AILEDGER_WORKER_ROLE"):
        create_app(WorkerSettings(home=tmp_path, worker_stages=stages, worker_role=role))
