"""Kill -9 the worker mid-stream, restart it, and the live statistics still equal the ground truth.

The worker's tables live in RocksDB (its data dir survives the kill) and in their changelog
topics; after the restart Faust recovers them and the worker processes again every message after
the last committed offset. The replay guard (``stream_processors.stats.guard``) must make those
second passes change nothing: every count, token and cent must match what the events say.
Results are read from the changelog topics, which is what any new owner would recover from.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest

from ailedger import topics as names
from ailedger.processes import kill, settings_env, spawn, stop, wait_for_log, worker_command
from schemas.prompt_config import budget_key
from stream_processors.alerts.budgets import SpendState
from stream_processors.stats import prompt_stats, tables
from stream_processors.stats.calls import parse_costed
from stream_processors.stats.step import PromptTypeState
from tests.conftest import requires_kafka_semantics
from tests.stream_processors.stats.factories import NOW, costed_dict
from tests.stream_processors.stats.live import CostedProducer, latest_by_key, wait_for
from tests.topic_reader import costed_calls, read_topic

pytestmark = pytest.mark.integration

PROMPT_TYPES = [f"pt{i}" for i in range(8)]
MESSAGES = 3000
CALLS_PER_MESSAGE = 10


def make_messages():
    messages = []
    for m in range(MESSAGES):
        pt = PROMPT_TYPES[m % len(PROMPT_TYPES)]
        at = NOW - timedelta(seconds=MESSAGES - m)
        messages.append([costed_dict(prompt_type=pt, account_id=f"acct{m % 3}", user_id=f"u{(m + i) % 4}",
                                     cost=None if (m + i) % 97 == 0 else f"0.00{1 + (m + i) % 9}",
                                     input_tokens=10 + i, output_tokens=m % 50, latency_ms=100.0 + (m * 7 + i) % 900,
                                     at=at, **({"success": False, "error_type": "x"} if (m + i) % 13 == 0 else {}))
                         for i in range(CALLS_PER_MESSAGE)])
    return messages


def changelog_states(settings, app_id: str) -> dict[str, PromptTypeState]:
    records = read_topic(settings, tables.changelog_topic(app_id, tables.PROMPT_TYPES), full_name=True)
    return {k.decode(): PromptTypeState.from_wire(v) for k, v in latest_by_key(records).items()}


def committed_offsets(settings, app_id: str) -> dict[int, int]:
    """The worker group's committed offsets on the costed topic (next offset to read)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=app_id, enable_auto_commit=False)
    try:
        topic = settings.topic(names.COSTED)
        return {p: consumer.committed(TopicPartition(topic, p)) or 0 for p in range(settings.partitions)}
    finally:
        consumer.close()


def applied_offsets(states: dict[str, PromptTypeState]) -> dict[int, int]:
    """Highest costed offset per partition already in the changelog."""
    out: dict[int, int] = {}
    for state in states.values():
        for source, offset in state.applied.items():
            if source.startswith("c"):
                out[int(source[1:])] = max(out.get(int(source[1:]), -1), offset)
    return out


def processed_calls(settings, app_id: str) -> int:
    return sum(s.stats.all_time.calls for s in changelog_states(settings, app_id).values())


def changelog_totals(settings, app_id: str) -> tuple[int, Decimal]:
    """Calls and cost over every prompt type, as a new owner would recover them."""
    states = changelog_states(settings, app_id).values()
    return sum(s.stats.all_time.calls for s in states), sum((s.stats.all_time.cost_usd for s in states), Decimal(0))


def count_first_calls(settings, app_id: str, env: dict, log, n: int) -> None:
    """Run a worker until the changelog counts ``n`` calls, then stop it."""
    worker = spawn(worker_command("warn"), env, log)
    try:
        wait_for(lambda: changelog_totals(settings, app_id)[0] == n, 120, f"the first {n:,} calls counted")
    finally:
        stop(worker, timeout=30)


@requires_kafka_semantics("Tansu reports wrong end offsets (ListOffsets latest), so the restarted worker's "
                          "changelog recovery fails with a ConsistencyError")
def test_statistics_survive_kill_minus_nine_without_double_counting(settings, topics, tmp_path, unique_id):
    app_id = f"app{unique_id}"
    env = settings_env(settings, AILEDGER_APP_ID=app_id, AILEDGER_HOME=str(tmp_path / "worker-home"),
                       AILEDGER_INSTANCE_ID="node-1")  # the restarted worker is the same replica (static membership)
    messages = make_messages()
    total = MESSAGES * CALLS_PER_MESSAGE
    producer = CostedProducer(settings)
    for items in messages:
        producer.send(items)
    producer.flush()
    producer.close()

    first = spawn(worker_command("warn"), env, tmp_path / "worker-1.log")
    second = None
    try:
        seen = wait_for(lambda: (n := processed_calls(settings, app_id)) >= total // 4 and n, 180,
                        "a quarter of the calls processed")
        kill(first)  # kill -9, mid-stream
        at_kill = processed_calls(settings, app_id)
        assert seen <= at_kill < total, "the worker must die mid-stream for this test to mean anything"
        committed, applied = committed_offsets(settings, app_id), applied_offsets(changelog_states(settings, app_id))
        replayed = sum(max(0, applied.get(p, -1) + 1 - committed[p]) for p in committed)

        started = time.monotonic()
        second = spawn(worker_command("info"), env, tmp_path / "worker-2.log")
        wait_for_log(second, tmp_path / "worker-2.log", "Ready", timeout=120)
        try:
            wait_for(lambda: processed_calls(settings, app_id) >= total, 180, "every call processed after the restart")
        except AssertionError as exc:
            lines = (tmp_path / "worker-2.log").read_text().splitlines()
            raise AssertionError(f"{exc}; the restarted worker's warnings: "
                                 f"{[line for line in lines if '[WARNING]' in line or '[ERROR]' in line][-20:]}")
        time.sleep(2.0)  # a double count would show now
        print(f"\nkilled at {at_kill}/{total} calls, {replayed} applied messages past the committed offsets "
              f"(read again after the restart); caught up {time.monotonic() - started:.1f}s after restart")
    finally:
        kill(first)
        if second is not None:
            stop(second, timeout=30)

    calls = [parse_costed(item) for items in messages for item in items]
    by_pt = defaultdict(list)
    for c in calls:
        by_pt[c.prompt_type].append(c)
    states = changelog_states(settings, app_id)
    assert set(states) == set(PROMPT_TYPES)
    for pt, group in by_pt.items():
        got, want = states[pt].stats, prompt_stats.update(None, group, NOW)
        assert (got.all_time.calls, got.all_time.errors, got.all_time.priced_calls) == \
            (want.all_time.calls, want.all_time.errors, want.all_time.priced_calls), pt
        assert got.all_time.cost_usd == want.all_time.cost_usd, pt
        assert got.all_time.tokens == want.all_time.tokens, pt
        assert got.all_time.latency.counts == want.all_time.latency.counts, pt
        assert sum(b.calls for b in got.hours) == len(group), pt

    daily_rows = latest_by_key(read_topic(settings, tables.changelog_topic(app_id, tables.DAILY), full_name=True))
    assert sum(r["calls"] for r in daily_rows.values()) == total
    assert sum(Decimal(r["cost_usd"]) for r in daily_rows.values()) == sum(
        (c.cost_usd for c in calls if c.priced), Decimal(0))

    spend = {k.decode(): SpendState.model_validate(v) for k, v in latest_by_key(
        read_topic(settings, tables.changelog_topic(app_id, tables.SPEND), full_name=True)).items()}
    for account in ("acct0", "acct1", "acct2"):
        want = sum((c.cost_usd for c in calls if c.priced and c.account_id == account), Decimal(0))
        assert spend[budget_key("account", account_id=account)].spent_usd == want, account


def rewind_group(settings, app_id: str, name: str = names.COSTED) -> None:
    """Commit offset 0 on every partition of topic ``name`` for the (stopped, empty) worker group."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=app_id, enable_auto_commit=False)
    try:
        topic = settings.topic(name)
        consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(0, "", -1) for p in range(settings.partitions)})
    finally:
        consumer.close()


@requires_kafka_semantics("the stopped worker never leaves its group, so the group cannot be rewound (offset "
                          "commit refused: UNKNOWN_MEMBER_ID): Tansu numbers the first generation 0, not 1, so "
                          "aiokafka skips LeaveGroup on a graceful stop, and it never expires the silent member's "
                          "session")
def test_reading_everything_again_counts_nothing_twice(settings, topics, tmp_path, unique_id):
    """Deterministic replay: stop the worker, move its group back to offset 0, start it again."""
    app_id = f"app{unique_id}"
    env = settings_env(settings, AILEDGER_APP_ID=app_id, AILEDGER_HOME=str(tmp_path / "worker-home"))
    messages = make_messages()[:400]
    producer = CostedProducer(settings)
    for items in messages[:300]:
        producer.send(items)
    producer.flush()
    worker = spawn(worker_command("warn"), env, tmp_path / "worker-1.log")
    try:
        wait_for(lambda: processed_calls(settings, app_id) == 300 * CALLS_PER_MESSAGE, 120, "first 300 messages")
    finally:
        stop(worker, timeout=30)
    rewind_group(settings, app_id)
    assert committed_offsets(settings, app_id) == dict.fromkeys(range(settings.partitions), 0)
    for items in messages[300:]:
        producer.send(items)
    producer.flush()
    producer.close()
    worker = spawn(worker_command("warn"), env, tmp_path / "worker-2.log")
    try:
        # the 100 new messages sit behind the 300 read again in their partitions
        wait_for(lambda: processed_calls(settings, app_id) >= 400 * CALLS_PER_MESSAGE, 120, "all 400 messages")
        time.sleep(2.0)
    finally:
        stop(worker, timeout=30)
    states = changelog_states(settings, app_id)
    calls = [parse_costed(item) for items in messages for item in items]
    assert sum(s.stats.all_time.calls for s in states.values()) == len(calls)
    assert sum(s.stats.all_time.cost_usd for s in states.values()) == sum(
        (c.cost_usd for c in calls if c.priced), Decimal(0))


@requires_kafka_semantics("the stopped worker never leaves its group, so the group cannot be rewound (see above)")
def test_pricing_everything_again_counts_nothing_twice(settings, topics, tmp_path, unique_id):
    """Deterministic pricing replay: stop the worker, move its group back to offset 0 on the raw
    topic, start it again. Every raw message is priced a second time and its calls reach the
    statistics again in new costed messages; the raw marks must drop every one of them."""
    from tests.consumers.conftest import publish
    from tests.consumers.test_fault_tolerance import ground_truth, priced_events

    app_id = f"app{unique_id}"
    env = settings_env(settings, AILEDGER_APP_ID=app_id, AILEDGER_HOME=str(tmp_path / "worker-home"))
    events = priced_events(1500, seed=31)
    cost = ground_truth(events)["cost"]
    publish(settings, events[:1000])

    def totals():
        return changelog_totals(settings, app_id)

    count_first_calls(settings, app_id, env, tmp_path / "worker-1.log", 1000)
    rewind_group(settings, app_id, names.RAW)
    publish(settings, events[1000:])
    worker = spawn(worker_command("warn"), env, tmp_path / "worker-2.log")
    try:
        wait_for(lambda: costed_calls(settings) == 1000 + len(events), 120, "every raw message priced again")
        wait_for(lambda: totals()[0] >= len(events), 60, "the new calls counted")
        time.sleep(2.0)  # a double count would show now
    finally:
        stop(worker, timeout=30)
    assert totals() == (len(events), cost)


@requires_kafka_semantics("Tansu reports wrong end offsets (ListOffsets latest), so the restarted worker's "
                          "changelog recovery fails with a ConsistencyError")
def test_a_repair_replay_counts_each_call_once(settings, topics, tmp_path, unique_id):
    """A stalled worker group, as the runbook repairs it: while the worker does not consume, more
    events arrive and a ``repair`` replay re-prices the whole range; then the worker consumes
    again and prices the new raw messages itself. The live statistics see the first calls twice
    (live, replay) and the new ones twice (replay, live), and must count every call once."""
    from ailedger.settings import WorkerSettings
    from stream_processors.replay import replay
    from tests.consumers.conftest import publish
    from tests.consumers.test_fault_tolerance import ground_truth, priced_events

    app_id = f"app{unique_id}"
    env = settings_env(settings, AILEDGER_APP_ID=app_id, AILEDGER_HOME=str(tmp_path / "worker-home"))
    events = priced_events(1500, seed=33)
    publish(settings, events[:1000])

    def totals():
        return changelog_totals(settings, app_id)

    count_first_calls(settings, app_id, env, tmp_path / "worker-1.log", 1000)
    publish(settings, events[1000:])  # the stalled group does not price these
    start = min(e.occurred_at for e in events)
    end = max(e.occurred_at for e in events) + timedelta(milliseconds=1)
    assert replay(WorkerSettings(**settings.model_dump()), start, end, mode="repair").emitted == len(events)
    worker = spawn(worker_command("warn"), env, tmp_path / "worker-2.log")
    try:
        # the first 1,000 live, every event in the replay, the rest live
        wait_for(lambda: costed_calls(settings) >= 2 * len(events), 120, "the new raw messages priced live")
        wait_for(lambda: totals()[0] >= len(events), 60, "the new calls counted")
        time.sleep(2.0)  # a double count would show now
    finally:
        stop(worker, timeout=30)
    assert totals() == (len(events), ground_truth(events)["cost"])
