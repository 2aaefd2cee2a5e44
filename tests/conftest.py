"""Shared fixtures: the real broker (started once per session) and the real ClickHouse engine.

Every test gets its own topic prefix and its own ClickHouse database, so tests never see each
other's data. ``AILEDGER_TEST_BROKER=tansu`` runs the integration tests against Tansu (a second,
independent Kafka implementation); ``AILEDGER_TEST_BOOTSTRAP=host:port`` against an already
running broker (for example Apache Kafka).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import pytest

from ailedger.broker import free_port, start_broker, start_tansu

BROKER_KIND = os.environ.get("AILEDGER_TEST_BROKER", "noida")


def requires_kafka_semantics(gap: str):
    """Skip on brokers known to lack a Kafka behaviour the test depends on (the gap is named)."""
    return pytest.mark.skipif(BROKER_KIND == "tansu", reason=f"Tansu gap: {gap}")


#: noida-db 0.2.3's group coordinator never completes a rebalance after a member departs (a
#: LeaveGroup, or a session that expires): it keeps electing the departed member as leader, or
#: keeps its partitions, so the rest of the group stops consuming. Static members that come back
#: (a restart) are fine. Kafka, Redpanda and Tansu reassign at once; ``make test-tansu`` runs these.
requires_group_departures = pytest.mark.skipif(
    BROKER_KIND == "noida", reason="noida-db gap: a departed group member is never evicted (group stalls)")
from ailedger.settings import CommonSettings


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """A test ends every thread it started (Kafka clients, views, sinks). A leaked client goes on
    polling, or reconnecting to a broker a fault test stopped, and slows every later test."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 15
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()
                  and not t.name.startswith("AnyIO worker")]  # starlette's thread pool is shared
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not leaked, f"threads this test left running: {sorted(t.name for t in leaked)}"


@pytest.fixture(scope="session")
def broker_bootstrap(tmp_path_factory) -> str:
    external = os.environ.get("AILEDGER_TEST_BOOTSTRAP")
    if external:
        yield external
        return
    start = start_tansu if BROKER_KIND == "tansu" else start_broker
    broker = start(tmp_path_factory.mktemp("broker"), free_port())
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def chdb_dsn(tmp_path_factory) -> str:
    """One embedded ClickHouse data dir per test process (chDB allows one path per process)."""
    return f"chdb://{tmp_path_factory.mktemp('clickhouse')}"


@pytest.fixture
def unique_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def settings(broker_bootstrap: str, chdb_dsn: str, unique_id: str, tmp_path: Path) -> CommonSettings:
    """Settings for one test: its own topics, its own database, its own home dir."""
    return CommonSettings(
        home=tmp_path / "home",
        kafka_bootstrap=broker_bootstrap,
        topic_prefix=f"t{unique_id}.",
        clickhouse_dsn=chdb_dsn,
        clickhouse_database=f"t_{unique_id}",
    )


@pytest.fixture
def topics(settings: CommonSettings) -> CommonSettings:
    """Create this test's topics on the real broker."""
    from ailedger.topics import create_topics

    create_topics(settings)
    return settings


@pytest.fixture
def store(settings: CommonSettings):
    """A migrated, empty database in the real ClickHouse engine; dropped afterwards."""
    from consumers.clickhouse.migrations import migrate
    from consumers.clickhouse.store import Store

    s = Store.from_settings(settings)
    migrate(s)
    try:
        yield s
    finally:
        s.drop_database()


@pytest.fixture
def worker_factory(settings, tmp_path, unique_id):
    """Start real Faust workers (subprocesses) on this test's topics; all stopped afterwards."""
    from ailedger.processes import settings_env, spawn, stop, wait_for_log, worker_command

    started = []

    def start(name: str = "w1", home: str | None = None, static: bool = True, **env):
        """``home`` names the worker's data dir (RocksDB tables); a restart passes the same one.
        ``static=False`` joins with dynamic membership (a graceful stop then leaves the group)."""
        log = tmp_path / f"worker-{name}.log"
        home_dir = tmp_path / f"home-{home or name}"
        # A stable instance id per node (static membership): a restarted worker takes its partitions
        # back at once. (noida-db also needs it: with dynamic membership it elects a killed member
        # as group leader and the group never settles.)
        if static:
            env.setdefault("AILEDGER_INSTANCE_ID", f"node-{home or name}")
        # Short group timeouts keep rebalances in tests to seconds (noida-db waits the full
        # rebalance timeout before completing a join).
        env.setdefault("AILEDGER_REBALANCE_TIMEOUT_S", "10")
        env.setdefault("AILEDGER_SESSION_TIMEOUT_S", "10")
        proc = spawn(worker_command("info"), settings_env(settings, AILEDGER_APP_ID=f"app{unique_id}",
                                                          AILEDGER_HOME=str(home_dir), **env), log)
        started.append(proc)
        wait_for_log(proc, log, "Ready", timeout=120)
        return proc, log

    yield start
    for proc in started:
        stop(proc, timeout=20)
