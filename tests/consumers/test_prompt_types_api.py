"""The prompt-types router over real views of real topics on the real broker."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kafka import KafkaProducer

from ailedger import topics as names
from consumers.api.auth import Principal
from consumers.prompt_configs import BudgetsView, PromptConfigView, wait_all_ready
from consumers.prompt_types_api import kafka_publisher, make_prompt_types_router, start_views
from stream_processors.alerts.rules import AlertRules
from stream_processors.stats import daily
from stream_processors.stats.guard import Position
from stream_processors.stats.step import plan, stats_message
from tests.stream_processors.stats.factories import NOW, call
from tests.stream_processors.stats.live import wait_for

pytestmark = pytest.mark.integration


def publish_as_the_worker(settings, calls) -> None:
    """What the worker publishes after processing ``calls`` (one prompt type) as one message."""
    result = plan(None, {}, [(Position(0, 0), calls)], NOW, AlertRules())
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    key = calls[0].prompt_type.encode()
    state = orjson.dumps(result.state.to_wire())
    producer.send(settings.topic(names.PROMPT_STATS), key=key,
                  value=stats_message(state, result.snapshot.model_dump_json().encode(), datetime.now(timezone.utc)))
    for day_key, row in result.daily.items():
        producer.send(settings.topic(names.DAILY_USAGE), key=daily.encode_key(day_key),
                      value=row.model_dump_json().encode())
    producer.flush()
    producer.close()


@pytest.fixture
def api(settings, topics):
    publish_as_the_worker(settings, [call(cost="0.25", prompt="first"), call(cost="0.75", prompt="last", user_id="u2"),
                                     call(cost=None, success=False, error_type="timeout")])
    views = start_views(settings)
    assert wait_all_ready(views.values(), 30)
    publish = kafka_publisher(settings)
    principal = {"value": None}
    app = FastAPI()
    app.include_router(make_prompt_types_router(settings, publish=publish, authenticate=lambda: principal["value"],
                                                **views))
    try:
        yield TestClient(app), views, principal
    finally:
        publish.close()
        for view in views.values():
            view.close()


def test_lists_and_details_prompt_types_with_statistics_snapshot_and_config(api):
    client, views, _ = api
    wait_for(lambda: views["view_stats"].get("summarise"), 30, "published statistics")
    listed = client.get("/v1/prompt-types").json()
    assert [p["prompt_type"] for p in listed["prompt_types"]] == ["summarise"]
    assert listed["prompt_types"][0]["calls"] == 3 and listed["prompt_types"][0]["cost_usd"] == "1.00"

    body = client.get("/v1/prompt-types/summarise").json()
    all_time, last_1h = body["statistics"]["all_time"], body["statistics"]["last_1h"]
    assert (all_time["calls"], all_time["errors"], Decimal(all_time["cost_usd"])) == (3, 1, Decimal("1.00"))
    assert Decimal(all_time["avg_cost_per_call_usd"]) == Decimal("0.5") and all_time["unpriced_calls"] == 1
    assert last_1h["calls"] == 3 and body["statistics"]["last_24h"]["calls"] == 3
    assert body["snapshot"]["success"] is False and body["snapshot"]["error_type"] == "timeout"
    assert body["config"] == {**body["config"], "track_full_data": False, "is_active": True}
    assert client.get("/v1/prompt-types/nothing-here").status_code == 404


def test_patch_publishes_the_config_for_the_sink_and_the_worker(api, settings):
    client, views, _ = api
    response = client.patch("/v1/prompt-types/summarise", json={"track_full_data": True, "description": "tl;dr"})
    assert response.status_code == 200 and response.json()["track_full_data"] is True
    assert client.get("/v1/prompt-types/summarise").json()["config"]["description"] == "tl;dr"
    assert client.patch("/v1/prompt-types/summarise", json={"bogus": 1}).status_code == 422

    fresh = PromptConfigView(settings).start()  # what the ClickHouse sink sees
    try:
        assert fresh.wait_ready(30)
        config = fresh.get("summarise")
        assert (config.track_full_data, config.is_active, config.description) == (True, True, "tl;dr")
        assert fresh.get("never-configured").is_active is True
    finally:
        fresh.close()


def test_budgets_are_set_listed_and_deleted_through_the_topic(api, settings):
    client, _, _ = api
    body = {"budgets": [{"scope": "account", "account_id": "acme", "monthly_usd": "250"},
                        {"scope": "user", "account_id": "acme", "user_id": "u2", "monthly_usd": "5",
                         "thresholds": [90]}]}
    saved = client.put("/v1/budgets", json=body)
    assert saved.status_code == 200
    keys = [b["key"] for b in saved.json()["budgets"]]
    assert sorted(b["key"] for b in client.get("/v1/budgets").json()["budgets"]) == sorted(keys)
    assert client.put("/v1/budgets", json={"budgets": [{"scope": "user", "monthly_usd": "1"}]}).status_code == 422

    assert client.delete("/v1/budgets", params={"key": "account:acme"}).status_code == 200
    assert client.delete("/v1/budgets", params={"key": "account:acme"}).status_code == 404
    fresh = BudgetsView(settings).start()  # what the worker sees after a restart
    try:
        assert fresh.wait_ready(30)
        assert [b.key for b in fresh.all()] == [keys[1]] and fresh.get(keys[1]).monthly_usd == Decimal(5)
    finally:
        fresh.close()


def test_daily_usage_is_queryable_and_scoped_to_the_callers_account(api):
    client, views, principal = api
    wait_for(lambda: views["view_daily"].query(), 30, "daily usage")
    rows = client.get("/v1/usage/daily", params={"account_id": "acme"}).json()["rows"]
    assert sorted((r["user_id"], r["calls"], r["cost_usd"]) for r in rows) == [("u1", 2, "0.25"), ("u2", 1, "0.75")]
    assert client.get("/v1/usage/daily", params={"prompt_type": "other"}).json()["rows"] == []

    principal["value"] = Principal("k1", "someone-else", False)
    assert client.get("/v1/usage/daily", params={"account_id": "acme"}).json()["rows"] == []
    assert client.get("/v1/prompt-types").status_code == 403
    assert client.patch("/v1/prompt-types/summarise", json={"is_active": False}).status_code == 403
    principal["value"] = Principal("k2", None, True)
    assert client.get("/v1/prompt-types").status_code == 200
