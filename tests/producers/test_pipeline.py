"""The background pipeline against the real broker: the raw topic's wire contract."""

from __future__ import annotations

from collections import Counter

import pytest

from producers import Ledger
from tests.producers.conftest import consume_raw

pytestmark = pytest.mark.integration


def test_messages_are_per_account_batches_with_contract_headers(ledger_settings):
    settings = ledger_settings.model_copy(update={"batch_events": 50})
    with Ledger(settings) as ledger:
        ids = [ledger.track(account_id=f"acct-{i % 3}", provider="openai", model="gpt-4o", input_tokens=i)
               for i in range(450)]
        assert ledger.flush(timeout=30)
        assert ledger.stats()["acked"] == 450

    messages = consume_raw(settings)
    seen = Counter()
    for record, events in messages:
        assert 1 <= len(events) <= 50
        assert {e["account_id"] for e in events} == {record.key.decode()}
        headers = dict(record.headers)
        assert headers["content-type"] == b"application/json"
        assert headers["ailedger-type"] == b"ai.batch.v1"
        assert headers["ailedger-count"] == str(len(events)).encode()
        assert headers["ailedger-sdk"].startswith(b"python/")
        seen.update(e["event_id"] for e in events)
    assert set(seen) == set(ids) and sum(seen.values()) == 450
    # one key -> one partition: each account's events are in one partition, in tracking order
    by_account: dict[str, set[int]] = {}
    order: dict[str, list[int]] = {}
    for record, events in messages:
        by_account.setdefault(record.key.decode(), set()).add(record.partition)
        order.setdefault(record.key.decode(), []).extend(e["input_tokens"] for e in events)
    assert all(len(parts) == 1 for parts in by_account.values())
    assert all(tokens == sorted(tokens) for tokens in order.values())


def test_close_delivers_what_is_still_buffered(ledger_settings):
    settings = ledger_settings.model_copy(update={"linger_ms": 60_000})  # nothing leaves by linger
    ledger = Ledger(settings)
    ids = {ledger.track(account_id="acme", provider="p", model="m") for _ in range(30)}
    ledger.close(timeout=30)
    assert {e["event_id"] for _, events in consume_raw(settings) for e in events} == ids


def test_a_forked_child_publishes_through_its_own_publisher(ledger_settings):
    import os

    ledger = Ledger(ledger_settings)
    parent_ids = {ledger.track(account_id="parent", provider="p", model="m") for _ in range(3)}
    pid = os.fork()
    if pid == 0:  # the child: a pre-fork client (gunicorn --preload) must still work
        try:
            child_ids = [ledger.track(account_id="child", provider="p", model="m") for _ in range(5)]
            ok = ledger.flush(timeout=30) and len(set(child_ids)) == 5
            ledger.close(timeout=10)
            os._exit(0 if ok else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert ledger.flush(timeout=30)
    ledger.close()
    events = [e for _, batch in consume_raw(ledger_settings) for e in batch]
    assert Counter(e["account_id"] for e in events) == {"parent": 3, "child": 5}
    assert {e["event_id"] for e in events if e["account_id"] == "parent"} == parent_ids
    assert len({e["event_id"] for e in events}) == 8
