"""The broker goes away and comes back: every tracked event arrives exactly once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from ailedger.broker import free_port, start_broker
from ailedger.topics import create_topics
from producers import Ledger, LedgerSettings
from tests.producers.conftest import consumed_events

pytestmark = pytest.mark.integration

CALLS = 10_000


def outage_settings(tmp_path: Path, port: int, **extra) -> LedgerSettings:
    return LedgerSettings(
        home=tmp_path / "sdk",
        kafka_bootstrap=f"127.0.0.1:{port}",
        topic_prefix="outage.",
        ack_timeout_s=0.3,
        retry_interval_s=0.2,
        connect_timeout_s=1.0,
        max_in_flight_events=1_000,
        **extra,
    )


def wait_for(condition, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def track_calls(ledger: Ledger, n: int) -> set[str]:
    ids = set()
    for i in range(n):
        ids.add(ledger.track(account_id=f"acct-{i % 13}", provider="openai", model="gpt-4o-mini",
                             prompt_type="outage", input_tokens=i, output_tokens=1))
    return ids


@pytest.mark.parametrize("delivery_timeout_s", [60.0, 1.0], ids=["kafka-retries-kept", "kafka-retries-expired"])
def test_ten_thousand_calls_during_an_outage_arrive_exactly_once(tmp_path: Path, delivery_timeout_s: float):
    """With a long delivery timeout, the first events wait inside kafka-python and the rest spool;
    with a short one, kafka-python gives up on them during the outage and they spool too."""
    port, data = free_port(), tmp_path / "broker"
    broker = start_broker(data, port)
    settings = outage_settings(tmp_path, port, delivery_timeout_s=delivery_timeout_s)
    try:
        create_topics(settings)
        ledger = Ledger(settings)
        assert ledger.track(account_id="warm", provider="openai", model="m")  # connect while up
        assert ledger.flush(30)

        broker.stop()
        ids = track_calls(ledger, CALLS)
        assert len(ids) == CALLS and None not in ids
        assert ledger.flush(timeout=1.5) is False  # nothing can be acknowledged while it is down
        assert ledger.stats()["spooled"] > 0  # the overflow went to disk
        assert any(ledger.spool.directory.glob("*.jsonl"))
        if delivery_timeout_s < 5:
            wait_for(lambda: ledger.stats()["send_failures"] > 0)  # expired sends came back to the spool

        failures_in_outage = ledger.stats()["send_failures"]
        broker = start_broker(data, port)
        assert ledger.flush(timeout=90), ledger.stats()
        ledger.close()

        seen = Counter(e["event_id"] for e in consumed_events(settings) if e["account_id"] != "warm")
        assert set(seen) == ids
        # Once each, unless a message sent after the broker came back timed out although the broker
        # wrote it (delivery is at least once, docs/sdk.md): seen once in a full-suite run with the
        # 1 s delivery timeout, when a spool chunk's 6 messages expired while the restarted broker
        # was slow to answer, and its 1,000 events arrived twice. Then only those messages' events
        # may come twice, and nothing three times.
        late_failures = ledger.stats()["send_failures"] - failures_in_outage
        duplicates = sum(seen.values()) - CALLS
        assert duplicates <= late_failures * settings.batch_events, (duplicates, late_failures, ledger.stats())
        assert max(seen.values()) <= 2
        assert ledger.stats()["spool_pending"] == 0
        assert not list(ledger.spool.directory.glob("*.jsonl"))
    finally:
        broker.stop()


def test_spool_left_by_a_closed_client_is_sent_by_the_next_one(tmp_path: Path):
    port, data = free_port(), tmp_path / "broker"
    broker = start_broker(data, port)
    settings = outage_settings(tmp_path, port)
    try:
        create_topics(settings)
        broker.stop()
        first = Ledger(settings)  # never reaches the broker
        ids = track_calls(first, 2_000)
        first.close(timeout=0.5)
        assert first.stats()["spool_pending"] == 2_000

        broker = start_broker(data, port)
        second = Ledger(settings)  # same spool directory: takes over the backlog
        assert second.stats()["spool_pending"] == 2_000
        assert second.flush(timeout=60), second.stats()
        second.close()

        seen = Counter(e["event_id"] for e in consumed_events(settings))
        assert set(seen) == ids
        assert sum(seen.values()) == 2_000
    finally:
        broker.stop()
