"""The live-statistics and alert agents in a real worker on the real broker."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from kafka.admin import KafkaAdminClient

from ailedger import topics as names
from stream_processors.stats import prompt_stats, tables
from stream_processors.stats.calls import parse_costed
from tests.stream_processors.stats.factories import NOW, costed_dict
from tests.stream_processors.stats.live import CostedProducer, latest_by_key, wait_for
from tests.topic_reader import group_lag, read_topic

pytestmark = pytest.mark.integration


def test_worker_publishes_stats_snapshot_daily_usage_configs_and_alerts(settings, topics, worker_factory,
                                                                        tmp_path, unique_id):
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("- {scope: account, account_id: acme, monthly_usd: '10'}\n"
                       "- {scope: prompt_type, prompt_type: translate, monthly_usd: '1'}\n")
    worker_factory(AILEDGER_BUDGETS_FILE=str(budgets))
    messages = []
    for i in range(12):  # 240 normal calls of two prompt types, some failing, two users
        pt = "summarise" if i % 2 else "translate"
        messages.append([costed_dict(prompt_type=pt, cost="0.01", user_id=f"u{j % 2}", latency_ms=500.0 + j,
                                     at=NOW - timedelta(seconds=100 - i), **(
                                         {"success": False, "error_type": "rate_limit"} if j == 0 else {}))
                         for j in range(20)])
    messages.append([costed_dict(prompt_type="summarise", cost="6.00", prompt="the expensive one", at=NOW)])
    messages.append([costed_dict(prompt_type="summarise", cost=None, model="mystery-1", at=NOW)])
    producer = CostedProducer(settings)
    for items in messages:
        producer.send(items)
    producer.flush()
    producer.close()

    calls = [parse_costed(item) for items in messages for item in items]
    by_pt = defaultdict(list)
    for c in calls:
        by_pt[c.prompt_type].append(c)

    def stats_caught_up():
        latest = latest_by_key(read_topic(settings, names.PROMPT_STATS))
        done = {k.decode(): v for k, v in latest.items()
                if v["state"]["stats"]["all_time"][1] == len(by_pt[k.decode()])}
        return done if len(done) == 2 else None

    published = wait_for(stats_caught_up, 60, "statistics of both prompt types")
    for pt, group in by_pt.items():
        got = prompt_stats.from_wire(published[pt]["state"]["stats"])
        want = prompt_stats.update(None, group, NOW)
        assert got.all_time.calls == want.all_time.calls
        assert got.all_time.errors == want.all_time.errors == 6
        assert got.all_time.cost_usd == want.all_time.cost_usd
        assert got.all_time.tokens == want.all_time.tokens
        assert got.all_time.latency.counts == want.all_time.latency.counts
    assert published["summarise"]["snapshot"]["model"] == "mystery-1"
    assert published["translate"]["state"]["stats"]["all_time"][7] == "1.20"

    daily = wait_for(lambda: latest_by_key(read_topic(settings, names.DAILY_USAGE)), 30, "daily usage")
    rows = list(daily.values())
    assert sum(r["calls"] for r in rows) == len(calls)
    assert sum(Decimal(r["cost_usd"]) for r in rows) == Decimal("8.40")
    assert {(r["prompt_type"], r["user_id"]) for r in rows} == {(p, u) for p in by_pt for u in ("u0", "u1")}

    configs = latest_by_key(read_topic(settings, names.PROMPT_CONFIGS))
    assert set(configs) == {b"summarise", b"translate"} and all(c["auto_created"] for c in configs.values())

    def kinds():
        seen = defaultdict(list)
        for _, alert in read_topic(settings, names.ALERTS):
            seen[alert["kind"]].append(alert)
        # The account's budget alert comes one hop after the prompt type's (costed stage ->
        # ai.spend.v1 -> account stage), so wait for both subjects' highest threshold, not for the
        # first budget alert.
        top = defaultdict(int)
        for a in seen.get("budget_threshold", []):
            top[a["subject"]] = max(top[a["subject"]], a["figures"]["threshold_pct"])
        done = top["account=acme"] >= 80 and top["prompt_type=translate"] >= 100
        return seen if done and {"cost_spike", "unpriced_model"} <= set(seen) else None

    alerts = wait_for(kinds, 30, "cost, unpriced and both budget alerts")
    assert [a["figures"]["cost_usd"] for a in alerts["cost_spike"]] == ["6.00"]
    fired = defaultdict(list)
    for a in alerts["budget_threshold"]:
        fired[a["subject"]].append(a["figures"]["threshold_pct"])
    # acme spent 8.40 of 10, translate 1.20 of 1; how many thresholds each run of messages crossed
    # depends on how the worker grouped them, but each fires at most once and the last is the highest
    assert set(fired) == {"account=acme", "prompt_type=translate"}
    assert max(fired["account=acme"]) == 80 and max(fired["prompt_type=translate"]) == 100
    assert all(len(p) == len(set(p)) for p in fired.values())

    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        changelogs = [tables.changelog_topic(f"app{unique_id}", t) for t in tables.TABLES]
        described = {d["name"]: len(d["partitions"]) for d in admin.describe_topics(changelogs)}
    finally:
        admin.close()
    assert described == {name: settings.partitions for name in changelogs}


def test_a_costed_message_priced_twice_upstream_is_counted_once(settings, topics, worker_factory):
    worker_factory()
    items = [costed_dict(prompt_type="dedup", cost="0.5") for _ in range(10)]
    later = [costed_dict(prompt_type="dedup", cost="0.25")]
    producer = CostedProducer(settings)
    producer.send(items, headers=[("ailedger-src", b"1:77")])
    producer.send(items, headers=[("ailedger-src", b"1:77")])  # the pricing stage's replay of raw 1:77
    producer.send(later, headers=[("ailedger-src", b"1:78")])
    producer.flush()
    producer.close()

    def stats():
        latest = latest_by_key(read_topic(settings, names.PROMPT_STATS)).get(b"dedup")
        return latest if latest and latest["state"]["applied"].get("r1") == 78 else None

    state = wait_for(stats, 60, "statistics after raw offset 78")["state"]
    assert state["stats"]["all_time"][1] == 11 and state["stats"]["all_time"][7] == "5.25"


def test_values_a_killed_worker_never_published_are_published_by_its_successor(settings, topics, worker_factory,
                                                                               unique_id):
    """A worker killed between writing a value and publishing it: its successor recovers the
    table and publishes the value, although no message changes it again (a quiet prompt type)."""
    from ailedger.processes import kill

    first, _ = worker_factory("first", home="node", AILEDGER_STATS_PUBLISH_SECONDS="3600")  # never publishes
    producer = CostedProducer(settings)
    late = NOW - timedelta(days=10)  # a late call: its row is older than a recovery publishes again
    producer.send([costed_dict(prompt_type="quiet", cost="0.5") for _ in range(4)]
                  + [costed_dict(prompt_type="quiet", cost="0.25", at=late)])
    producer.flush()
    producer.close()
    wait_for(lambda: group_lag(settings, f"app{unique_id}", names.COSTED) == 0, 60,
             "the first worker's commit of the costed message")
    assert read_topic(settings, names.PROMPT_STATS) == []
    sent = latest_by_key(read_topic(settings, names.DAILY_USAGE))  # before the commit, with its run
    assert [(row["day"], row["calls"]) for row in sent.values()] == [(late.date().isoformat(), 1)]
    kill(first)
    worker_factory("second", home="node")  # same node and tables; nothing new to consume

    stats = wait_for(lambda: latest_by_key(read_topic(settings, names.PROMPT_STATS)).get(b"quiet"), 60,
                     "the statistics of the quiet prompt type")
    assert stats["state"]["stats"]["all_time"][1] == 5 and stats["state"]["stats"]["all_time"][7] == "2.25"
    def daily_rows():
        rows = latest_by_key(read_topic(settings, names.DAILY_USAGE))
        return rows if len(rows) == 2 else None

    rows = wait_for(daily_rows, 30, "its daily rows: today's, published again, and the late call's")
    assert sorted((row["day"], row["calls"]) for row in rows.values()) == sorted(
        [(late.date().isoformat(), 1), (NOW.date().isoformat(), 4)])
